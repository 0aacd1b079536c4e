"""Each static rule alone on a fixture of its own, compared with a snapshot of its findings.

``tests/fixtures/rules/IA1xx.py`` holds code the rule must report, then, below a line
``# Not reported``, real-world shapes it must leave alone. ``IA1xx.json`` next to it holds the
findings of that rule selected alone (as ``initaudit check --select IA1xx`` runs it; IA100, which
judges the other rules' findings, runs with all of them and keeps its own), so that no other rule
can change them: positions, severity, message and fix. ``make golden`` writes the snapshots;
their diff is reviewed like code.
"""

from __future__ import annotations

import json

import pytest

from initaudit.diagnostics import Diagnostic, Edit
from initaudit.lint.rules import RULES, SYNTAX_ERROR
from tests.golden_files import ROOT, assert_matches_golden
from tests.lint.selection import lint_text, selecting

FIXTURES = ROOT / "tests" / "fixtures" / "rules"
#: Every static rule but IA000: a file that does not parse holds one finding, so its tests are
#: files of their own (tests/lint/test_hostile_source.py, test_cli.py) and its catalogue page.
CODES = [r.info.code for r in RULES if r is not SYNTAX_ERROR]
QUIET = "# Not reported"


def snapshot(rule: str, text: str) -> str:
    lines = text.split("\n")
    findings = [_finding(d, text, lines) for d in lint_text(text, rule, path=f"{rule}.py")]
    data = {"rule": rule, "selected": ",".join(selecting(rule).select), "findings": findings}
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


def _finding(d: Diagnostic, text: str, lines: list[str]) -> dict[str, object]:
    fix = None if d.fix is None else {"applicability": d.fix.applicability.value, "message": d.fix.message,
                                      "edits": [_edit(edit, text) for edit in d.fix.edits]}
    return {"line": d.line, "column": d.column, "end_line": d.end_line, "end_column": d.end_column,
            "code": d.code, "severity": d.severity.value, "source": lines[d.line - 1].strip(),
            "message": d.message, "fix": fix}


def _edit(edit: Edit, text: str) -> dict[str, object]:
    """An edit at 1-based lines and columns (end exclusive), as the diagnostics are."""
    line, column = _position(text, edit.start)
    end_line, end_column = _position(text, edit.end)
    return {"line": line, "column": column, "end_line": end_line, "end_column": end_column, "content": edit.text}


def _position(text: str, offset: int) -> tuple[int, int]:
    return text.count("\n", 0, offset) + 1, offset - text.rfind("\n", 0, offset)


def fixture_text(rule: str) -> str:
    path = FIXTURES / f"{rule}.py"
    if not path.is_file():
        pytest.fail(f"{rule} has no fixture: write {path.relative_to(ROOT)} (code it reports, then a "
                    f"line '{QUIET}' and code it must leave alone), then run `make golden`", pytrace=False)
    return path.read_bytes().decode("utf-8")


@pytest.mark.parametrize("rule", CODES)
def test_rule_alone_matches_its_snapshot(rule: str) -> None:
    assert_matches_golden(FIXTURES / f"{rule}.json", snapshot(rule, fixture_text(rule)))


@pytest.mark.parametrize("rule", CODES)
def test_fixture_has_reported_code_and_quiet_code(rule: str) -> None:
    text = fixture_text(rule)
    lines = text.split("\n")
    assert lines.count(QUIET) == 1, f"{rule}.py needs one line '{QUIET}' before the code it must leave alone"
    marker = lines.index(QUIET) + 1
    assert any(line.strip() for line in lines[marker:]), f"{rule}.py has no code below '{QUIET}'"
    found = lint_text(text, rule, path=f"{rule}.py")
    assert any(d.line < marker for d in found), f"{rule} reports nothing above '{QUIET}' in {rule}.py"
    below = [f"{d.line}: {d.message}" for d in found if d.line > marker]
    assert below == [], f"{rule} reports code below '{QUIET}' in {rule}.py"


def test_every_fixture_and_snapshot_belongs_to_a_rule() -> None:
    stray = sorted(p.name for p in FIXTURES.iterdir() if p.suffix in (".py", ".json") and p.stem not in CODES)
    assert stray == [], f"no rule has these codes: delete {', '.join(stray)} from {FIXTURES.relative_to(ROOT)}"

