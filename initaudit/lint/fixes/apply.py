"""Applying fixes to text and writing files back safely."""

from __future__ import annotations

import hashlib
import os
import stat
import tempfile
from bisect import bisect_left, insort
from pathlib import Path
from typing import BinaryIO, Iterable

from initaudit.atomic import replacing
from initaudit.diagnostics import Applicability, Diagnostic, Edit


def apply_fixes(text: str, diagnostics: list[Diagnostic], unsafe: bool) -> tuple[str, int]:
    """Apply every fix that does not overlap one already taken (all its edits or none).

    Identical edits from several diagnostics (a shared import rename) are applied once; a fix
    editing another file is left out. Returns the new text and how many fixes were applied;
    overlapping ones wait for the next round.
    """
    taken: set[Edit] = set()
    spans: list[tuple[int, int]] = []  # of the taken edits, sorted and disjoint
    applied = 0
    for diagnostic in sorted(diagnostics, key=lambda d: d.sort_key):
        fix = diagnostic.fix
        if fix is None or not fix.edits or any(edit.path is not None for edit in fix.edits):
            continue  # an edit of another file (an init helper's) is the runner's to apply
        if fix.applicability is Applicability.UNSAFE and not unsafe:
            continue
        new = [edit for edit in dict.fromkeys(fix.edits) if edit not in taken]
        if any(_overlaps(spans, edit) for edit in new):
            continue
        for edit in new:
            taken.add(edit)
            insort(spans, (edit.start, edit.end))
        applied += 1
    return apply_edits(text, taken), applied


def apply_edits(text: str, edits: Iterable[Edit]) -> str:
    """``text`` with disjoint ``edits`` applied."""
    pieces = []
    position = 0
    for edit in sorted(edits, key=lambda e: (e.start, e.end)):
        pieces += [text[position:edit.start], edit.text]
        position = edit.end
    pieces.append(text[position:])
    return "".join(pieces)


def _overlaps(spans: list[tuple[int, int]], edit: Edit) -> bool:
    """Whether ``edit`` overlaps a span of ``spans`` or replaces the same one (two insertions at
    one place included). The spans are disjoint, so only the last one starting before the edit
    ends can reach into it."""
    index = bisect_left(spans, (edit.end, edit.end))
    if index < len(spans) and spans[index] == (edit.start, edit.end):
        return True
    return index > 0 and spans[index - 1][1] > edit.start


class WriteRefused(Exception):
    """A fixed file was not written, for a reason the user can act on (one line)."""


def digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def write_fixed(path: Path, read_digest: str, data: bytes) -> None:
    """Write ``data`` over the file ``path`` named when it was read (bytes hashing to
    ``read_digest``), keeping what makes it that file.

    A symlink is followed and its target written; the target is replaced atomically by a temporary
    file in its own directory that has its mode, owner and group. A file with other hard links, or
    whose owner could not be given to the replacement, is rewritten in place instead (a copy of
    the old bytes stays next to it until that is done), so that every link sees the fix. A file
    without write permission, or whose bytes changed since they were read, is left alone.
    """
    target = Path(os.path.realpath(path, strict=True))
    info = target.stat()
    if not info.st_mode & 0o222 or not os.access(target, os.W_OK):
        raise WriteRefused("read-only; not fixed")
    _check_unchanged(target, read_digest)
    if info.st_nlink > 1:
        _rewrite_in_place(target, read_digest, data)
        return
    try:
        with replacing(target, mode=stat.S_IMODE(info.st_mode)) as temporary:
            with open(temporary, "r+b") as handle:
                _overwrite(handle, data)
            os.chmod(temporary, stat.S_IMODE(info.st_mode))  # the umask narrowed it
            if not _give_owner(temporary, info):
                raise _OwnerNotKept
            _check_unchanged(target, read_digest)
    except _OwnerNotKept:
        _rewrite_in_place(target, read_digest, data)


class _OwnerNotKept(Exception):
    """The replacement could not get the original's owner or group: rewrite in place instead."""


def _check_unchanged(target: Path, read_digest: str) -> None:
    if digest(target.read_bytes()) != read_digest:
        raise WriteRefused("changed since it was read; not fixed")


def _write_all(descriptor: int, data: bytes) -> None:
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())


def _give_owner(temporary: str, info: os.stat_result) -> bool:
    """Give the replacement the original's owner and group; False where that is not permitted."""
    if hasattr(os, "chown"):
        try:
            os.chown(temporary, info.st_uid, info.st_gid)
        except OSError:
            pass
    new = os.stat(temporary)
    return (new.st_uid, new.st_gid) == (info.st_uid, info.st_gid)


def _rewrite_in_place(target: Path, read_digest: str, data: bytes) -> None:
    """Overwrite the file's own bytes (same inode); the old bytes are kept in a synced copy next
    to it until the new ones are synced, and put back if writing fails."""
    with open(target, "r+b") as handle:
        original = handle.read()
        if digest(original) != read_digest:
            raise WriteRefused("changed since it was read; not fixed")
        descriptor, backup = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".orig", dir=target.parent)
        try:
            _write_all(descriptor, original)
        except BaseException:  # a full disk: no partial copy left, the file not touched yet
            os.unlink(backup)
            raise
        try:
            _overwrite(handle, data)
        except BaseException:
            _overwrite(handle, original)  # should this fail too, the copy stays for recovery
            os.unlink(backup)
            raise
        os.unlink(backup)


def _overwrite(handle: BinaryIO, data: bytes) -> None:
    handle.seek(0)
    handle.write(data)
    handle.truncate()
    handle.flush()
    os.fsync(handle.fileno())
