"""Where and how ``--fix`` writes: the output's format, and atomic replacement of the output only.

A write goes to a temporary name next to the output and is renamed over it when complete, so a
failure or an interruption (any BaseException) leaves neither a partial output nor a temporary
file. Only a regular file, or a path that does not exist yet, is ever replaced.
"""

from __future__ import annotations

import pickle
import secrets
import shutil
import stat
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Iterator

from initaudit.atomic import replacing, replacing_dir
from initaudit.auditor.errors import AuditError, first_line

#: Output suffix -> format written.
FORMATS = {".safetensors": "safetensors", ".pt": "torch", ".pth": "torch", ".bin": "torch", ".ckpt": "torch"}


def output_format(spec: str | None, output: str) -> str:
    """``safetensors``, ``torch`` or ``directory`` (sharded inputs); checked before any work."""
    source, target = Path(spec or ""), Path(output)
    if spec and (source.is_dir() or source.name.endswith(".index.json")):
        if _exists(target) and not (target.is_dir() and not any(target.iterdir())):
            raise AuditError(f"{output}: exists; choose a new directory for the fixed checkpoint")
        return "directory"
    chosen = FORMATS.get(target.suffix.lower())
    if chosen is None:
        raise AuditError(f"--output {output}: unknown suffix {target.suffix or '(none)'!r}; "
                         f"use one of {', '.join(FORMATS)} (the suffix picks the format)")
    if _exists(target) and not stat.S_ISREG(target.stat().st_mode):
        raise AuditError(f"--output {output}: not a regular file; --fix only replaces regular files")
    refuse_overwriting_input(output, spec, "--output")
    return chosen


def refuse_overwriting_input(output: str, spec: str | None, option: str) -> None:
    """An output never replaces what the audit reads: the checkpoint file, or any file of a
    checkpoint directory (a shard index names its directory), by any path or link."""
    target = Path(output)
    if not spec or not _exists(target):
        return
    source = Path(spec)
    if source.name.endswith(".index.json"):
        source = source.parent
    if not _exists(source):
        return
    read = source.resolve()
    written = target.resolve()
    if written == read or (source.is_dir() and written.is_relative_to(read)):
        raise AuditError(f"{option} {output}: that is {'in ' if written != read else ''}the checkpoint "
                         "being audited, which is never modified; choose another file")


def _exists(path: Path) -> bool:
    try:
        path.stat()
    except OSError:
        return False
    return True


def atomic_file(target: Path, write: Callable[[Path], None]) -> None:
    """Call ``write(tmp)`` and rename ``tmp`` over ``target``; the mode is 0666 less the umask."""
    _make_parent(target)
    with _write_errors(target), replacing(target) as tmp:
        write(tmp)
        if _exists(target) and not stat.S_ISREG(target.stat().st_mode):
            raise AuditError(f"{target}: not a regular file; --fix only replaces regular files")


def atomic_dir(target: Path, write: Callable[[Path], None]) -> None:
    """Fill a temporary directory with ``write(tmp)``, then rename it to ``target`` (absent or
    empty, checked before the work began)."""
    _make_parent(target)
    with _write_errors(target), replacing_dir(target) as tmp:
        write(tmp)


@contextmanager
def _write_errors(target: Path) -> Iterator[None]:
    """Failures while writing ``target`` as one-line audit errors."""
    try:
        yield
    except OSError as error:
        raise AuditError(f"{target}: cannot write ({error.strerror or error})") from None
    except (RuntimeError, ValueError, TypeError, UnicodeError, pickle.PicklingError) as error:
        # torch's serialisers fail on objects a damaged archive left behind
        raise AuditError(f"{target}: cannot serialise the fixed checkpoint ({type(error).__name__}: {first_line(error)})") from None


def _make_parent(target: Path) -> None:
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise AuditError(f"{target.parent}: cannot create ({error.strerror or error})") from None


@contextmanager
def scratch_dir(beside: Path) -> Iterator[Path]:
    """A temporary directory next to ``beside`` (same file system, not RAM), removed on any exit."""
    scratch = beside.parent / f".{beside.name}.{secrets.token_hex(4)}.scratch"
    scratch.mkdir(0o700)
    try:
        yield scratch
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
