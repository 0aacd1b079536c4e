"""The one way initaudit writes a file or directory that must never be seen half-written:
build it under a temporary name next to the target, then rename it over the target. Any
exception (KeyboardInterrupt included) leaves neither a partial target nor the temporary; what is
renamed has been synced to disk first."""

from __future__ import annotations

import os
import secrets
import shutil
import stat
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator


@contextmanager
def replacing(target: Path, *, mode: int = 0o666) -> Iterator[Path]:
    """A new empty file next to ``target`` (``mode`` less the umask) to fill; renamed over
    ``target`` when the block ends normally. The block may check the target once more before
    the rename and raise to abandon it."""
    temporary = _temporary_name(target)
    try:
        os.close(os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode))
        yield temporary
        _sync(temporary)
        os.replace(temporary, target)
    finally:
        temporary.unlink(missing_ok=True)


@contextmanager
def replacing_dir(target: Path) -> Iterator[Path]:
    """A new directory next to ``target`` to fill; renamed to ``target`` (which must be absent
    or empty) when the block ends normally."""
    temporary = _temporary_name(target)
    try:
        temporary.mkdir(0o777)
        yield temporary
        for path in sorted(temporary.rglob("*")):
            if path.is_file():
                _sync(path)
        if target.exists():
            target.rmdir()
        os.replace(temporary, target)
    finally:
        shutil.rmtree(temporary, ignore_errors=True)


def write_bytes(target: Path, data: bytes, *, mode: int = 0o666) -> None:
    """``data`` written to ``target`` atomically and synced to disk."""
    with replacing(target, mode=mode) as temporary:
        with open(temporary, "wb") as handle:
            handle.write(data)


def write_report(target: Path, data: bytes) -> None:
    """A report to ``target``: atomically (as :func:`write_bytes`) where that is a regular file or
    a new path, straight into it where it is a device or a pipe (``-o /dev/stdout``)."""
    try:
        special = not stat.S_ISREG(target.stat().st_mode)
    except FileNotFoundError:
        special = False
    if not special:
        write_bytes(target, data)
        return
    with open(target, "wb") as handle:
        handle.write(data)
        handle.flush()


def _sync(path: Path) -> None:
    """Flush ``path``'s data to disk: a full disk shows here, as an OSError, before any rename."""
    descriptor = os.open(path, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def _temporary_name(target: Path) -> Path:
    return target.parent / f".{target.name}.{secrets.token_hex(4)}.tmp"
