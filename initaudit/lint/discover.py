"""Which files a run lints."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Iterator

from initaudit.config import Config

SOURCE_SUFFIXES = (".py", ".ipynb")
#: Jupyter's autosaved copies of notebooks: linting them would report every finding twice.
_CHECKPOINTS = ".ipynb_checkpoints"


class MissingPath(Exception):
    """A path named on the command line does not exist."""


def discover(paths: list[Path], config: Config, seen: set[tuple[int, int]] | None = None) -> Iterator[Path]:
    """Files named explicitly are always yielded; directories are walked recursively, in sorted
    order, skipping the default and configured excludes. Each file is yielded once, also across
    calls that share ``seen``."""
    seen = set() if seen is None else seen
    for path in paths:
        if path.is_file():
            candidates: Iterator[Path] = iter((path,))
        elif path.is_dir():
            candidates = _walk(path, config, config.relative(str(path)))
        else:
            raise MissingPath(f"{path}: no such file or directory")
        for candidate in candidates:
            try:
                status = candidate.stat()
            except OSError:
                yield candidate  # gone or unreadable: the check reports it
                continue
            key = (status.st_dev, status.st_ino)  # the same file by any path or link
            if key not in seen:
                seen.add(key)
                yield candidate


def _walk(directory: Path, config: Config, relative: str) -> Iterator[Path]:
    """``relative``: the directory's path from the configuration root. Entries' paths are joined
    onto it rather than resolved one by one (symbolic links to directories are not followed)."""
    try:
        entries = sorted(os.scandir(directory), key=lambda entry: entry.name)
    except OSError:
        return
    for entry in entries:
        entry_relative = entry.name if relative in ("", ".") else f"{relative}/{entry.name}"
        if config.excluded(entry.name, entry_relative) or entry.name == _CHECKPOINTS:
            continue
        if entry.is_dir(follow_symlinks=False):
            yield from _walk(Path(entry.path), config, entry_relative)
        elif entry.is_file() and entry.name.endswith(SOURCE_SUFFIXES):
            yield Path(entry.path)
