"""The findings on the bundled examples and on every catalogue example, pinned.

Every rule runs here, as ``initaudit check`` runs them, so this file also shows how the rules
meet: a change of behaviour, or a new rule that fires on the catalogue's code, shows up as a diff
against ``tests/golden/findings.json``. When the change is intended, rewrite it with
``make golden`` and review the diff. (Each rule alone is pinned by ``tests/lint/test_rule_snapshots.py``.)
"""

from __future__ import annotations

import json
from pathlib import Path

from initaudit import lint_paths, lint_source
from initaudit.catalogue import entries
from tests.golden_files import ROOT, assert_matches_golden

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
    assert_matches_golden(GOLDEN, json.dumps(current, indent=1, ensure_ascii=False) + "\n")
