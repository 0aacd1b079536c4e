"""Paths as code-scanning services expect them: relative to the checkout, with ``/``."""

from __future__ import annotations

from pathlib import Path


def repository_path(path: str) -> str:
    """``path`` relative to the working directory when it lies inside it, in POSIX form;
    otherwise absolute."""
    candidate = Path(path)
    if not candidate.is_absolute():
        return candidate.as_posix().removeprefix("./")
    for base in (Path.cwd(), Path.cwd().resolve()):  # the path may name the directory either way
        if candidate.is_relative_to(base):
            return candidate.relative_to(base).as_posix()
    return candidate.as_posix()
