"""The findings on the bundled examples and on every catalogue example, pinned per rule.

Every rule runs here, as ``initaudit check`` runs them, so these files also show how the rules
meet: a change of behaviour, or a rule that starts firing on the catalogue's code, shows up as a
diff against ``tests/golden/findings/<code>.json``: one file per code found, a finding on a page's
example kept with the later of the two codes (so a new rule adds its own file, which also shows
where it meets the older rules, and changes no other). When the change is intended, rewrite them with
``make golden`` and review the diff. (Each rule alone is pinned by
``tests/lint/test_rule_snapshots.py``.)
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

import pytest

from initaudit import lint_paths, lint_source
from initaudit.catalogue import entries
from tests.golden_files import ROOT, assert_matches_golden, updating

GOLDEN = ROOT / "tests" / "golden" / "findings"


def _row(d) -> str:  # type: ignore[no-untyped-def]
    cell = "" if d.cell is None else f"cell {d.cell}:"
    return f"{cell}{d.line}:{d.column}-{d.end_line}:{d.end_column} {d.code} {d.severity.value} {d.message}"


def _by_file(found: dict[str, list], page: bool) -> dict[str, dict[str, list[str]]]:  # type: ignore[type-arg]
    """``{place: [diagnostic, ...]}`` -> ``{file code: {place: [row, ...]}}``. A finding is kept
    in its code's file; one on a page's example in the file of the later of the two codes (the
    page's, the finding's), so that a new rule's page, and what it finds on older pages, land in
    its own file and an older file never changes for it."""
    split: dict[str, dict[str, list[str]]] = {}
    for place, diagnostics in found.items():
        for d in diagnostics:
            code = max(d.code, place.split()[0]) if page else d.code
            split.setdefault(code, {}).setdefault(place, []).append(_row(d))
    return split


def _examples() -> dict[str, list[str]]:
    results = lint_paths([ROOT / "examples"])
    return {Path(r.path).relative_to(ROOT).as_posix(): list(r.diagnostics)
            for r in sorted(results, key=lambda r: r.path)}


def _catalogue() -> dict[str, list[str]]:
    found = {}
    for entry in entries().values():
        if entry.scope != "check":
            continue
        for section in ("Example", "Use instead"):
            for index, code in enumerate(entry.examples(section)):
                found[f"{entry.code} {section} {index}"] = list(lint_source(code, "example.py"))
    return found


@lru_cache(maxsize=1)
def _pinned() -> dict[str, str]:
    examples, catalogue = _by_file(_examples(), page=False), _by_file(_catalogue(), page=True)
    return {code: json.dumps({"examples": examples.get(code, {}), "catalogue": catalogue.get(code, {})},
                             indent=1, ensure_ascii=False) + "\n"
            for code in sorted(examples.keys() | catalogue.keys())}


@pytest.mark.parametrize("code", sorted(path.stem for path in GOLDEN.glob("IA*.json")))
def test_a_codes_findings_match_its_golden_file(code: str) -> None:
    path = GOLDEN / f"{code}.json"
    if code not in _pinned():
        if updating():
            path.unlink()
            pytest.skip(f"removed {path.relative_to(ROOT).as_posix()}: {code} finds nothing any more")
        pytest.fail(f"{code} finds nothing here any more: remove its golden file with `make golden`", pytrace=False)
    assert_matches_golden(path, _pinned()[code])


def test_every_code_found_has_a_golden_file() -> None:
    missing = {code: text for code, text in _pinned().items() if not (GOLDEN / f"{code}.json").is_file()}
    if missing and updating():
        GOLDEN.mkdir(parents=True, exist_ok=True)
        for code, text in missing.items():
            (GOLDEN / f"{code}.json").write_text(text, encoding="utf-8")
        pytest.skip(f"wrote the golden files of {', '.join(missing)}: review them")
    assert not missing, f"no golden file for {', '.join(missing)}: create them with `make golden`, then review them"
