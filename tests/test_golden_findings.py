"""The findings on the bundled examples and on every catalogue example, pinned.

A change of behaviour shows up here as a diff against ``tests/golden/findings.json``. When the
change is intended, rewrite the file with ``INITAUDIT_UPDATE_GOLDEN=1 pytest tests/test_golden_findings.py``
and review the diff.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from initaudit import lint_paths, lint_source
from initaudit.catalogue import entries

ROOT = Path(__file__).parents[1]
GOLDEN = ROOT / "tests" / "golden" / "findings.json"


def _row(d) -> str:  # type: ignore[no-untyped-def]
    cell = "" if d.cell is None else f"cell {d.cell}:"
    return f"{cell}{d.line}:{d.column}-{d.end_line}:{d.end_column} {d.code} {d.severity.value} {d.message}"


def _examples() -> dict[str, list[str]]:
    results = lint_paths([ROOT / "examples"])
    return {Path(r.path).relative_to(ROOT).as_posix(): [_row(d) for d in r.diagnostics]
            for r in sorted(results, key=lambda r: r.path)}


def _catalogue() -> dict[str, list[str]]:
    found = {}
    for entry in entries().values():
        if entry.scope != "check":
            continue
        for section in ("Example", "Use instead"):
            for index, code in enumerate(entry.examples(section)):
                found[f"{entry.code} {section} {index}"] = [_row(d) for d in lint_source(code, "example.py")]
    return found


def test_findings_match_the_golden_file() -> None:
    current = {"examples": _examples(), "catalogue": _catalogue()}
    if os.environ.get("INITAUDIT_UPDATE_GOLDEN"):
        GOLDEN.write_text(json.dumps(current, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
        pytest.skip("golden file rewritten")
    assert current == json.loads(GOLDEN.read_text(encoding="utf-8"))
