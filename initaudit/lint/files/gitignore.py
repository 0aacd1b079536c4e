"""``.gitignore`` rules as git applies them to a walk: the deepest file with a matching pattern
decides (a ``!pattern`` re-includes), the repository's ``.git/info/exclude`` comes last.

Inside a git repository the ``.gitignore`` files of every directory from the repository root
down apply; outside one, those from the project root (where the settings were found, or the
working directory) down. A directory named on the command line is walked even where git ignores
it (``initaudit check .venv/lib/python3.11/site-packages/torch``): a pattern that matches the
named directory, or one above it, does not hide what is inside. Patterns are read with
pathspec's git-compatible matcher, one pattern at a time so that this can be told; a pattern with
more wildcards than its expression can take without backtracking exponentially is matched by
``wildmatch.py`` instead, and a line git cannot read as a pattern (one ending in a lone
backslash) matches nothing, as in git.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Callable

from initaudit.lint.files.roots import MAX_PROJECT_FILE
from initaudit.lint.files.wildmatch import MAX_REGEX_WILDCARDS, compile_line, wildcards
from initaudit.safe_read import read_regular

#: A pattern of a ``.gitignore`` file: whether it ignores (False: ``!`` re-includes) and its matcher.
Rule = tuple[bool, Callable[[str], object]]


class GitIgnore:
    """Answers "does git ignore this path?" for the paths of one run; reads each directory's
    ``.gitignore`` once."""

    def __init__(self, project_root: Path) -> None:
        self._project_root = _absolute(project_root)
        self._specs: dict[Path, list[Rule] | None] = {}
        self._gitignores_in: dict[Path, list[tuple[Path, list[Rule]]]] = {}

    def ignored(self, path: Path, is_dir: bool, named: Path | None = None) -> bool:
        """Whether git ignores ``path``, found in a walk of the directory ``named`` (None: the
        path itself was named, and every pattern counts)."""
        path = _absolute(path)
        named = None if named is None else _absolute(named)
        root = repository_root(path.parent)
        for directory, spec in self._gitignores(path.parent, root or self._project_root):
            decision = self._decide(spec, directory, path, is_dir, named)
            if decision is not None:
                return decision
        if root is None:
            return False
        exclude = self._spec(root / ".git" / "info" / "exclude")
        return self._decide(exclude, root, path, is_dir, named) or False

    def patterns_apply_in(self, directory: Path) -> bool:
        """Whether any pattern file applies to the entries of ``directory``: when none does, a
        walk need not ask about each of them."""
        directory = _absolute(directory)
        root = repository_root(directory)
        return bool(self._gitignores(directory, root or self._project_root)) or (
            root is not None and self._spec(root / ".git" / "info" / "exclude") is not None)

    def _gitignores(self, directory: Path, top: Path) -> list[tuple[Path, list[Rule]]]:
        """The ``.gitignore`` files with patterns from ``directory`` up to ``top``, the deepest
        first; found once per directory (most directories have none)."""
        found = self._gitignores_in.get(directory)
        if found is None:
            own = self._spec(directory / ".gitignore")
            above = [] if directory == top or directory.parent == directory else self._gitignores(directory.parent, top)
            found = self._gitignores_in[directory] = [(directory, own), *above] if own is not None else above
        return found

    def _spec(self, file: Path) -> list[Rule] | None:
        """The patterns of ``file``; as git does, one that is a symbolic link is not read (nor
        a FIFO, a device or a file of more than 8 MiB)."""
        if file not in self._specs:
            data = read_regular(file, MAX_PROJECT_FILE)
            lines = data.decode("utf-8", errors="replace").splitlines() if data else []
            self._specs[file] = _compiled(lines) if lines else None
        return self._specs[file]

    @staticmethod
    def _decide(spec: list[Rule] | None, base: Path, path: Path, is_dir: bool,
                named: Path | None) -> bool | None:
        """True: ignored, False: re-included by a ``!`` pattern, None: no pattern matches. The
        last matching pattern decides, as in git."""
        if spec is None:
            return None
        relative = path.relative_to(base).as_posix() + ("/" if is_dir else "")
        named_relative = None
        if named is not None and named != base and named.is_relative_to(base):
            named_relative = named.relative_to(base).as_posix() + "/"
        decision = None
        for include, matches in spec:
            if not matches(relative):
                continue
            if named_relative is not None and matches(named_relative):
                continue  # it hides the named directory itself, which the user asked for
            decision = include
        return decision


@functools.lru_cache(maxsize=256)
def repository_root(directory: Path) -> Path | None:
    """The nearest directory at or above ``directory`` holding ``.git`` (a directory, or a file
    in a worktree or submodule)."""
    for candidate in (directory, *directory.parents):
        if (candidate / ".git").exists():
            return candidate
    return None


def _absolute(path: Path) -> Path:
    # Not resolve(): a symbolic link is judged where it is, as git judges it.
    return Path(path).absolute()


def _compiled(lines: list[str]) -> list[Rule]:
    from pathspec import GitIgnoreSpec  # imported once a file has patterns: it costs 15 ms of start-up

    rules: list[Rule] = []
    for line in lines:
        try:
            patterns = GitIgnoreSpec.from_lines([line]).patterns
        except ValueError:
            continue  # not a pattern git can read (a trailing lone backslash): it never matches
        for pattern in patterns:
            if pattern.include is None:
                continue
            matcher = compile_line(line) if wildcards(line) > MAX_REGEX_WILDCARDS else None
            rules.append((pattern.include, matcher or pattern.match_file))
    return rules
