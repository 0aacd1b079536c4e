"""Golden and snapshot files: output a test compares with what is stored, byte for byte.

``make golden`` rewrites every one of them from the code as it is (it runs the tests that
compare them with ``INITAUDIT_UPDATE_GOLDEN=1`` set); the diff it leaves is reviewed like code.
"""

from __future__ import annotations

import difflib
import os
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[1]
#: Set (to anything but 0) to rewrite the files instead of comparing with them.
UPDATE_VARIABLE = "INITAUDIT_UPDATE_GOLDEN"


def updating() -> bool:
    return os.environ.get(UPDATE_VARIABLE, "") not in ("", "0")


def assert_matches_golden(path: Path, text: str) -> None:
    """Compare ``text`` with the file at ``path``, or write it there when updating (a test that
    rewrote its file is skipped, naming it, so that the run lists what changed)."""
    shown = path.relative_to(ROOT).as_posix()
    stored = path.read_bytes().decode("utf-8") if path.is_file() else None
    if updating():
        if stored != text:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(text.encode("utf-8"))
            pytest.skip(f"rewrote {shown}: review its diff")
        return
    if stored is None:
        pytest.fail(f"{shown} does not exist: create it with `make golden`, then review it", pytrace=False)
    if text != stored:
        diff = "".join(difflib.unified_diff(stored.splitlines(True), text.splitlines(True), shown, "this run"))
        pytest.fail(f"{shown} differs from this run (if the change is intended, run `make golden` and "
                    f"review the diff):\n{diff}", pytrace=False)
