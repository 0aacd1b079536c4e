"""Every rule has a catalogue entry whose examples behave as documented."""

from __future__ import annotations

import pytest

from initaudit.catalogue import REQUIRED_SECTIONS, entries
from initaudit.lint.rules import RULES
from tests.conftest import lint

STATIC = [entry for entry in entries().values() if entry.scope == "check"]


def test_every_rule_has_an_entry_with_matching_metadata() -> None:
    catalogue = entries()
    for rule in RULES:
        entry = catalogue[rule.info.code]
        assert entry.name == rule.info.name
        assert entry.severity == rule.info.severity.value
        assert entry.fix == rule.info.fix
    assert {e.code for e in STATIC} == {rule.info.code for rule in RULES}


@pytest.mark.parametrize("entry", entries().values(), ids=lambda e: e.code)
def test_entry_has_required_sections(entry) -> None:
    for section in REQUIRED_SECTIONS:
        assert entry.sections.get(section), f"{entry.code} lacks '{section}'"
    assert entry.path.name.startswith(f"{entry.code}-{entry.name}")


@pytest.mark.parametrize("entry", STATIC, ids=lambda e: e.code)
def test_bad_example_is_reported(entry) -> None:
    examples = entry.examples("Example")
    assert examples
    for code in examples:
        assert entry.code in [d.code for d in lint(code)]


@pytest.mark.parametrize("entry", STATIC, ids=lambda e: e.code)
def test_good_example_is_clean(entry) -> None:
    examples = entry.examples("Use instead")
    assert examples
    for code in examples:
        assert [d.code for d in lint(code)] == []
