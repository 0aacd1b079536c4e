"""The roots of a run's project: the checked trees and the project root above each (the
nearest directory holding pyproject.toml, setup.cfg or .git), and the one way a project file is
read for another file's analysis or to check a cached result: never through a link that leaves
the roots, never more than :data:`MAX_PROJECT_FILE` bytes. Cheap to import: a run whose results
are all cached reads no project file."""

from __future__ import annotations

import os
from pathlib import Path

from initaudit.safe_read import read_regular, within

_ROOT_MARKERS = ("pyproject.toml", "setup.cfg", ".git")
#: Far above any written module (torch's largest is 1.4 MB), and a bound on what a path in a
#: cache entry or an import can make a run read.
MAX_PROJECT_FILE = 8 << 20


def project_roots(paths: list[Path]) -> tuple[str, ...]:
    """The checked trees (a file's own directory for a file) and the project root above each."""
    roots: list[str] = []
    for path in paths:
        absolute = Path(os.path.abspath(path))
        tree = absolute if absolute.is_dir() else absolute.parent
        for candidate in (tree, find_root(tree)):
            if candidate is not None and str(candidate) not in roots:
                roots.append(str(candidate))
    return tuple(roots)


def find_root(directory: Path) -> Path | None:
    for candidate in (directory, *directory.parents):
        if any((candidate / marker).exists() for marker in _ROOT_MARKERS):
            return candidate
    return None


def real_roots(roots: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(os.path.realpath(root) for root in roots)


def read_project_file(path: str | Path, roots: tuple[str, ...]) -> bytes | None:
    """The bytes of the regular file ``path`` when its real path lies inside one of ``roots``
    (real paths, :func:`real_roots`) and it holds at most :data:`MAX_PROJECT_FILE` bytes; None
    for anything else. A FIFO or device is never waited on or read."""
    real = os.path.realpath(path)
    if not any(within(real, root) for root in roots):
        return None
    return read_regular(real, MAX_PROJECT_FILE)
