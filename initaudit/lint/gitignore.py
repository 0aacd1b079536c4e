"""``.gitignore`` rules as git applies them to a walk: the deepest file with a matching pattern
decides (a ``!pattern`` re-includes), the repository's ``.git/info/exclude`` comes last.

Inside a git repository the ``.gitignore`` files of every directory from the repository root
down apply; outside one, those from the project root (where the settings were found, or the
working directory) down. Patterns are read with pathspec's git-compatible matcher.
"""

from __future__ import annotations

import functools
from pathlib import Path

from pathspec import GitIgnoreSpec


class GitIgnore:
    """Answers "does git ignore this path?" for the paths of one run; reads each directory's
    ``.gitignore`` once."""

    def __init__(self, project_root: Path) -> None:
        self._project_root = _absolute(project_root)
        self._specs: dict[Path, GitIgnoreSpec | None] = {}

    def ignored(self, path: Path, is_dir: bool) -> bool:
        path = _absolute(path)
        root = repository_root(path.parent)
        top = root or self._project_root
        directory = path.parent
        while True:
            decision = self._decide(self._spec(directory / ".gitignore"), directory, path, is_dir)
            if decision is not None:
                return decision
            if directory == top or directory.parent == directory:
                break
            directory = directory.parent
        if root is None:
            return False
        exclude = self._spec(root / ".git" / "info" / "exclude")
        return self._decide(exclude, root, path, is_dir) or False

    def _spec(self, file: Path) -> GitIgnoreSpec | None:
        if file not in self._specs:
            try:
                lines = file.read_text(encoding="utf-8", errors="replace").splitlines()
            except OSError:
                lines = []
            self._specs[file] = GitIgnoreSpec.from_lines(lines) if lines else None
        return self._specs[file]

    @staticmethod
    def _decide(spec: GitIgnoreSpec | None, base: Path, path: Path, is_dir: bool) -> bool | None:
        """True: ignored, False: re-included by a ``!`` pattern, None: no pattern matches."""
        if spec is None:
            return None
        relative = path.relative_to(base).as_posix() + ("/" if is_dir else "")
        return spec.check_file(relative).include


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
