"""Which files a run lints."""

from __future__ import annotations

import errno
import os
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from initaudit.config import Config

SOURCE_SUFFIXES = (".py", ".ipynb")
#: Jupyter's autosaved copies of notebooks: linting them would report every finding twice.
_CHECKPOINTS = ".ipynb_checkpoints"


@dataclass(frozen=True)
class Unreadable:
    """A path that cannot be checked, and why (one line)."""

    path: Path
    reason: str


def discover(paths: list[Path], config: Config,
             seen: set[tuple[int, int]] | None = None) -> Iterator[Path | Unreadable]:
    """Files named explicitly are always yielded; directories are walked recursively, in sorted
    order, skipping the default and configured excludes. Each file is yielded once, also across
    calls that share ``seen``. What cannot be read (a missing path, a symbolic link loop, a
    directory without permission, a FIFO) is yielded as :class:`Unreadable`; nothing is opened."""
    seen = set() if seen is None else seen
    for path in paths:
        try:
            mode = path.stat().st_mode
        except OSError as exc:
            yield Unreadable(path, _reason(exc))
            continue
        if stat.S_ISDIR(mode):
            candidates = _walk(path, config, config.relative(str(path)))
        elif stat.S_ISREG(mode):
            candidates = iter((path,))
        else:
            yield Unreadable(path, "not a regular file")
            continue
        for candidate in candidates:
            if isinstance(candidate, Unreadable):
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


def _walk(directory: Path, config: Config, relative: str) -> Iterator[Path | Unreadable]:
    """``relative``: the directory's path from the configuration root. Entries' paths are joined
    onto it rather than resolved one by one (symbolic links to directories are not followed)."""
    try:
        with os.scandir(directory) as scan:
            entries = sorted(scan, key=lambda entry: entry.name)
    except OSError as exc:
        yield Unreadable(directory, _reason(exc))
        return
    for entry in entries:
        entry_relative = entry.name if relative in ("", ".") else f"{relative}/{entry.name}"
        if config.excluded(entry.name, entry_relative) or entry.name == _CHECKPOINTS:
            continue
        if entry.is_dir(follow_symlinks=False):
            yield from _walk(Path(entry.path), config, entry_relative)
        elif entry.name.endswith(SOURCE_SUFFIXES):
            yield from _source_file(Path(entry.path))


def _source_file(path: Path) -> Iterator[Path | Unreadable]:
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
