"""Paths as code-scanning services expect them: relative to the checkout, with ``/``."""

from __future__ import annotations

import os
from pathlib import Path


def repository_path(path: str) -> str:
    """``path`` relative to the working directory when it lies inside it, in POSIX form."""
    candidate = Path(path)
    if candidate.is_absolute():
        try:
            candidate = candidate.relative_to(Path(os.getcwd()).resolve())
        except ValueError:
            return candidate.as_posix()
    return candidate.as_posix().removeprefix("./")
