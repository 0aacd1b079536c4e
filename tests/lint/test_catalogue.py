"""Every rule has a catalogue entry whose examples behave as documented."""

from __future__ import annotations

import pytest

from initaudit.catalogue import REQUIRED_SECTIONS, entries
from initaudit.lint.rules import RULES
from tests.lint.selection import codes_selected

STATIC = [entry for entry in entries().values() if entry.scope == "check"]


def test_every_static_page_has_exactly_one_registered_rule() -> None:
    assert [rule.info.code for rule in RULES] == sorted(e.code for e in STATIC)
    assert all(rule.info is entries()[rule.info.code] for rule in RULES)


@pytest.mark.parametrize("entry", entries().values(), ids=lambda e: e.code)
def test_entry_has_required_sections(entry) -> None:
    for section in REQUIRED_SECTIONS:
        assert entry.sections.get(section), f"{entry.code} lacks '{section}'"
    assert entry.path.name.startswith(f"{entry.code}-{entry.name}")


# A page's examples are checked with its rule alone selected, so that another rule firing on the
# same code cannot fail them; what all the rules together find on them is pinned by
# tests/test_golden_findings.py.
@pytest.mark.parametrize("entry", STATIC, ids=lambda e: e.code)
def test_bad_example_is_reported(entry) -> None:
    examples = entry.examples("Example")
    assert examples
    for code in examples:
        assert entry.code in codes_selected(code, entry.code), f"{entry.code} is silent on its Example:\n{code}"


@pytest.mark.parametrize("entry", STATIC, ids=lambda e: e.code)
def test_good_example_is_clean(entry) -> None:
    examples = entry.examples("Use instead")
    assert examples
    for code in examples:
        assert codes_selected(code, entry.code) == [], f"{entry.code} reports its own Use instead:\n{code}"


def test_readme_rule_table_is_the_catalogue() -> None:
    from pathlib import Path

    from initaudit.catalogue import markdown_table

    readme = (Path(__file__).parents[2] / "README.md").read_text(encoding="utf-8")
    assert markdown_table() in readme, "regenerate it: initaudit rules --output-format markdown"


def test_rules_command_prints_the_catalogue(tmp_path) -> None:
    import json

    from click.testing import CliRunner

    from initaudit.catalogue import markdown_table
    from initaudit.cli import main

    assert CliRunner().invoke(main, ["rules", "--output-format", "markdown"]).output == markdown_table()
    listed = json.loads(CliRunner().invoke(main, ["rules", "--output-format", "json"]).output)
    assert [item["code"] for item in listed] == list(entries())
    entry = entries()["IA101"]
    assert next(item for item in listed if item["code"] == "IA101") == {
        "code": "IA101", "name": "zero-weight-init", "command": "check",
        "severity": "warning", "severity_note": entry.severity_note, "fix": "unsafe",
        "summary": entry.summary, "url": entry.url}
