"""Which files a run lints."""

from __future__ import annotations

import errno
import os
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from initaudit.config import Config
from initaudit.lint.files.gitignore import GitIgnore
from initaudit.lint.files.languages import DEFAULT_SUFFIXES, language_of
from initaudit.safe_read import within

SOURCE_SUFFIXES = tuple(DEFAULT_SUFFIXES)
#: Jupyter's autosaved copies of notebooks: linting them would report every finding twice.
_CHECKPOINTS = ".ipynb_checkpoints"


@dataclass(frozen=True)
class Unreadable:
    """A path that cannot be checked, and why (one line)."""

    path: Path
    reason: str


@dataclass(frozen=True)
class Skipped:
    """A path a walk met but leaves alone, and why (one line): not an error."""

    path: Path
    reason: str


def discover(paths: list[Path], config: Config,
             seen: set[tuple[int, int]] | None = None) -> Iterator[Path | Unreadable | Skipped]:
    """Directories are walked recursively, in sorted order, skipping the default and configured
    excludes and (unless ``respect_gitignore`` is off) what git ignores. Paths named explicitly
    are always taken, unless ``force_exclude`` is on and they, or a directory above them, are
    excluded. Each file is yielded once, also across calls that share ``seen``. What cannot be
    read (a missing path, a symbolic link loop, a directory without permission, a FIFO) is
    yielded as :class:`Unreadable`; nothing is opened. A symbolic link met in a walk that leads
    out of the named directory (its real path) is yielded as :class:`Skipped`, never followed: a
    checkout decides what its links point to, the user names what may be read and fixed."""
    seen = set() if seen is None else seen
    walk = _Walk(config)
    for path in paths:
        if config.force_exclude and walk.excluded_explicitly(path):
            continue
        try:
            mode = path.stat().st_mode
        except OSError as exc:
            yield Unreadable(path, _reason(exc))
            continue
        if stat.S_ISDIR(mode):
            candidates = walk.files(path, config.relative(str(path)))
        elif stat.S_ISREG(mode):
            candidates = iter((path,))
        else:
            yield Unreadable(path, "not a regular file")
            continue
        for candidate in candidates:
            if isinstance(candidate, (Unreadable, Skipped)):
                yield candidate
                continue
            try:
                status = candidate.stat()
            except OSError as exc:  # removed or replaced since it was listed
                yield Unreadable(candidate, _reason(exc))
                continue
            key = (status.st_dev, status.st_ino)  # the same file by any path or link
            if key not in seen:
                seen.add(key)
                yield candidate


def force_excluded(path: Path, config: Config) -> bool:
    """Whether ``--force-exclude`` leaves out ``path``, named on the command line."""
    return _Walk(config).excluded_explicitly(path)


class _Walk:
    """The excludes of one run: configured patterns, default names and ``.gitignore`` files."""

    def __init__(self, config: Config) -> None:
        self._config = config
        self._gitignore = GitIgnore(config.root) if config.respect_gitignore else None

    def _excluded(self, path: Path, relative: str, is_dir: bool, named: Path | None = None,
                  gitignored: bool = True) -> bool:
        """``named``: the directory named on the command line whose walk met ``path``;
        ``gitignored``: whether a pattern file may apply to it."""
        return (self._config.excluded(path.name, relative, str(path)) or path.name == _CHECKPOINTS
                or (gitignored and self._gitignore is not None and self._gitignore.ignored(path, is_dir, named)))

    def excluded_explicitly(self, path: Path) -> bool:
        """Whether a path named on the command line, or a directory above it inside the project,
        is excluded (``--force-exclude``: pre-commit names every changed file)."""
        relative = self._config.relative(str(path))
        parts = relative.split("/")
        if Path(relative).is_absolute():  # outside the project: only names can match
            return any(self._config.excluded(part, part) for part in parts if part)
        return any(self._excluded(self._config.root / "/".join(parts[:depth]), "/".join(parts[:depth]),
                                  depth < len(parts) or path.is_dir())
                   for depth in range(1, len(parts) + 1))

    def files(self, directory: Path, relative: str, named: Path | None = None,
              tree: str | None = None) -> Iterator[Path | Unreadable | Skipped]:
        """``relative``: the directory's path from the configuration root; ``named``: the
        directory named on the command line (``directory`` itself at the top of the walk), whose
        real path is ``tree``. Entries' paths are joined onto it rather than resolved one by one
        (symbolic links to directories are not followed), so only a file's own link can lead
        out of ``tree``."""
        named = named or directory
        tree = tree or os.path.realpath(directory)
        try:
            with os.scandir(directory) as scan:
                entries = sorted(scan, key=lambda entry: entry.name)
        except OSError as exc:
            yield Unreadable(directory, _reason(exc))
            return
        gitignored = self._gitignore is not None and self._gitignore.patterns_apply_in(directory)
        for entry in entries:
            entry_relative = entry.name if relative in ("", ".") else f"{relative}/{entry.name}"
            is_dir = entry.is_dir(follow_symlinks=False)
            if not is_dir and language_of(entry.name, self._config.extension) is None:
                continue
            if self._excluded(Path(entry.path), entry_relative, is_dir, named, gitignored):
                continue
            if is_dir:
                yield from self.files(Path(entry.path), entry_relative, named, tree)
            else:
                yield from _source_file(entry, tree)


def _source_file(entry: os.DirEntry[str], tree: str) -> Iterator[Path | Unreadable | Skipped]:
    path = Path(entry.path)
    if entry.is_symlink() and not within(os.path.realpath(path), tree):
        yield Skipped(path, "symbolic link to a file outside the checked directory; not followed")
        return
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        return  # a dangling symbolic link, or removed since the directory was read
    except OSError as exc:
        yield Unreadable(path, _reason(exc))
        return
    if stat.S_ISREG(mode):
        yield path
    elif not stat.S_ISDIR(mode):  # a FIFO or device named like a source file
        yield Unreadable(path, "not a regular file")


def _reason(exc: OSError) -> str:
    if exc.errno == errno.ELOOP:
        return "symbolic link loop"
    if exc.errno == errno.ENOENT:
        return "no such file or directory"
    return (exc.strerror or str(exc)).lower()
