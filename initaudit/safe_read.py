"""Reading a file a checkout or a checkpoint directory ships, where its name may be a link to a
device, a FIFO or a file elsewhere: only a regular file, never through a link, never more than a
bound; and whether a real path lies inside a tree."""

from __future__ import annotations

import os
import stat
from pathlib import Path


def read_regular(path: str | Path, limit: int) -> bytes | None:
    """The bytes of ``path`` when it is a regular file itself (no link is followed) of at most
    ``limit`` bytes; None for anything else. A FIFO or device is never waited on or read."""
    try:
        with open(os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC), "rb") as handle:
            info = os.fstat(handle.fileno())
            if not stat.S_ISREG(info.st_mode) or info.st_size > limit:
                return None
            data = handle.read(limit + 1)
    except OSError:
        return None
    return data if len(data) <= limit else None


def within(path: str, directory: str) -> bool:
    """Whether ``path`` is ``directory`` or below it (both real, absolute paths)."""
    return path == directory or path.startswith(directory.rstrip(os.sep) + os.sep)
