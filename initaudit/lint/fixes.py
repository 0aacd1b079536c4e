"""Applying fixes to text and writing files back safely."""

from __future__ import annotations

import os
import stat
import tempfile
from pathlib import Path

from initaudit.diagnostics import Applicability, Diagnostic, Edit


def apply_fixes(text: str, diagnostics: list[Diagnostic], unsafe: bool) -> tuple[str, int]:
    """Apply every fix that does not overlap one already taken (all its edits or none).

    Identical edits from several diagnostics (a shared import rename) are applied once. Returns
    the new text and how many fixes were applied; overlapping ones wait for the next round.
    """
    taken: list[Edit] = []
    applied = 0
    for diagnostic in sorted(diagnostics, key=lambda d: d.sort_key):
        fix = diagnostic.fix
        if fix is None or not fix.edits:
            continue
        if fix.applicability is Applicability.UNSAFE and not unsafe:
            continue
        new = [edit for edit in fix.edits if edit not in taken]
        if any(_overlap(edit, other) for edit in new for other in taken):
            continue
        taken.extend(new)
        applied += 1
    for edit in sorted(taken, reverse=True):
        text = text[: edit.start] + edit.text + text[edit.end:]
    return text, applied


def _overlap(a: Edit, b: Edit) -> bool:
    return a.start < b.end and b.start < a.end or (a.start == b.start and a.end == b.end)


def write_atomically(path: Path, data: bytes) -> None:
    """Replace ``path`` with ``data`` via a temporary file in the same directory, keeping the mode."""
    mode = stat.S_IMODE(path.stat().st_mode)
    descriptor, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temporary, mode)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
