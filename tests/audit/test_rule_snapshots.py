"""Each auditor rule alone on models of its own, compared with a snapshot of its findings.

``tests/fixtures/audit_rules/IA2xx.py`` builds them in code: every function whose name starts
with ``reported`` returns a model the rule must report, every ``not_reported`` one a look-alike
it must leave alone (an ``nn.Module``, or a state dict, audited as a checkpoint file without its
architecture). ``IA2xx.json`` next to it holds the findings of that rule selected alone
(``analyse(..., enabled=selection([code]))``) on each model: parameter, severity, message and
the fix it plans, so that no other rule can change them. ``make golden`` writes the snapshots;
their diff is reviewed like code.
"""

from __future__ import annotations

import importlib.util
import inspect
import json
import tempfile
from functools import lru_cache
from pathlib import Path
from typing import Any, Callable

import pytest
import torch

from initaudit.auditor.load.source import Source, SourceKind, module_source
from initaudit.auditor.load.sources import open_source
from initaudit.auditor.pipeline import analyse, selection
from initaudit.auditor.results import AuditFinding, FixPlan
from initaudit.auditor.rules import RULES
from initaudit.catalogue import entry
from tests.golden_files import ROOT, assert_matches_golden

FIXTURES = ROOT / "tests" / "fixtures" / "audit_rules"
CODES = [rule.info.code for rule in RULES]
REPORTED, QUIET = "reported", "not_reported"


def builders(code: str) -> dict[str, Callable[[], Any]]:
    """The fixture's model builders, in the order they are written."""
    path = FIXTURES / f"{code}.py"
    if not path.is_file():
        pytest.fail(f"{code} has no fixture: write {path.relative_to(ROOT)} (functions `{REPORTED}...` "
                    f"and `{QUIET}...` returning models), then run `make golden`", pytrace=False)
    spec = importlib.util.spec_from_file_location(f"audit_rule_fixture_{code}", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    functions = inspect.getmembers(module, inspect.isfunction)
    found = [(name, f) for name, f in functions if name.startswith((REPORTED, QUIET)) and f.__module__ == module.__name__]
    return dict(sorted(found, key=lambda item: item[1].__code__.co_firstlineno))


@lru_cache(maxsize=None)
def findings(code: str) -> dict[str, list[AuditFinding]]:
    """What the rule alone finds on each model of its fixture (built with torch's seed at 0)."""
    found = {}
    for name, build in builders(code).items():
        torch.manual_seed(0)
        threads = torch.get_num_threads()
        torch.set_num_threads(1)  # deterministic, and quick on busy cores
        try:
            with tempfile.TemporaryDirectory() as directory:
                source = _source(build(), Path(directory))
                found[name] = analyse(source, enabled=selection([code])).report.findings
        finally:
            torch.set_num_threads(threads)
    return found


def _source(built: object, directory: Path) -> Source:
    if isinstance(built, torch.nn.Module):
        return module_source(built, SourceKind.FACTORY, None)
    assert isinstance(built, dict), f"a fixture returns a model or a state dict, not {type(built).__name__}"
    path = directory / "checkpoint.pt"
    torch.save(built, path)
    return open_source(str(path))


def snapshot(code: str) -> str:
    cases = {name: [_finding(f) for f in found] for name, found in findings(code).items()}
    return json.dumps({"rule": code, "selected": code, "models": cases}, indent=2, ensure_ascii=False) + "\n"


def _finding(found: AuditFinding) -> dict[str, object]:
    return {"code": found.code, "parameter": found.parameter, "severity": found.severity.value,
            "message": found.message, "fix": None if found.fix is None else _plan(found.fix)}


def _plan(plan: FixPlan) -> dict[str, object]:
    return {"tensor": plan.tensor, "call": plan.describe(), "target_std": plan.target_std,
            "reason": plan.reason, "safety": plan.safety.value}


@pytest.mark.parametrize("code", CODES)
def test_rule_alone_matches_its_snapshot(code: str) -> None:
    assert_matches_golden(FIXTURES / f"{code}.json", snapshot(code))


@pytest.mark.parametrize("code", CODES)
def test_fixture_has_reported_and_quiet_models(code: str) -> None:
    found = findings(code)
    reported = {name: items for name, items in found.items() if name.startswith(REPORTED)}
    quiet = {name: items for name, items in found.items() if name.startswith(QUIET)}
    assert reported and quiet, f"{code}.py needs functions `{REPORTED}...` and `{QUIET}...`"
    assert [name for name, items in reported.items() if not items] == [], f"{code} reports nothing on these"
    assert {name: items for name, items in quiet.items() if items} == {}


@pytest.mark.parametrize("code", CODES)
def test_only_rules_with_the_code_in_findings(code: str) -> None:
    """Selecting one rule runs that rule alone."""
    assert {f.code for items in findings(code).values() for f in items} == {code}


@pytest.mark.parametrize("code", CODES)
def test_severity_is_the_pages_unless_its_note_says(code: str) -> None:
    """A finding takes its page's severity; one that differs needs the page's severity-note, and a
    page with a note has a model in the fixture where it applies."""
    page = entry(code)
    differing = [f for items in findings(code).values() for f in items if f.severity is not page.severity]
    if page.severity_note is None:
        assert differing == [], f"{code} differs from its page's {page.severity.value}: add a severity-note"
    else:
        assert differing, f"no model of {code}.py shows its page's severity-note ({page.severity_note})"


@pytest.mark.parametrize("code", CODES)
def test_fix_plans_agree_with_the_page(code: str) -> None:
    """The page's ``fix`` documents what the rule's code plans: none, or fixes of that safety."""
    page = entry(code)
    plans = [f.fix for items in findings(code).values() for f in items if f.fix is not None]
    if page.fix == "none":
        assert plans == []
    else:
        assert plans and {plan.safety.value for plan in plans} == {page.fix}


def test_every_fixture_and_snapshot_belongs_to_a_rule() -> None:
    stray = sorted(p.name for p in FIXTURES.iterdir() if p.suffix in (".py", ".json") and p.stem not in CODES)
    assert stray == [], f"no auditor rule has these codes: delete {', '.join(stray)} from {FIXTURES.relative_to(ROOT)}"
