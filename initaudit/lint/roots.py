"""The roots of a run's project: the checked trees and the project root above each (the
nearest directory holding pyproject.toml, setup.cfg or .git). Cheap to import: a run whose
results are all cached reads no project file."""

from __future__ import annotations

import os
from pathlib import Path

_ROOT_MARKERS = ("pyproject.toml", "setup.cfg", ".git")


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
