"""The formats other CI systems and review tools read: grouped, pylint, rdjson (reviewdog) and
azure (Azure Pipelines). Their golden files are compared in test_output_formats.py; here, what
each consumer relies on."""

from __future__ import annotations

import json
import re
from pathlib import Path

import jsonschema
import pytest

from initaudit.diagnostics import Diagnostic, Severity
from initaudit.lint.run.summary import Summary
from initaudit.report import azure, rdjson
from initaudit.report.printable import printable
from tests.lint.test_output_formats import DEPRECATED, run

RDJSON_SCHEMA = Path(__file__).parent / "schemas" / "rdjson-subset.json"
#: A finding after non-ASCII text on its line: columns in characters and in UTF-8 bytes differ.
WIDE = 'import torch.nn as nn\n\nlabel = "größe"; nn.init.xavier_uniform(w)\n'


def _json(tmp_path: Path, *args: str, files: dict[str, str] | None = None) -> dict:
    _, output = run(tmp_path, *args, "--output-format", "rdjson", **({"files": files} if files else {}))
    return json.loads(output)


def test_rdjson_is_valid_reviewdog_json(tmp_path: Path) -> None:
    report = _json(tmp_path, "src", "notebooks")
    jsonschema.validate(report, json.loads(RDJSON_SCHEMA.read_text()))
    assert report["source"] == {"name": "initaudit"}
    assert {d["code"]["value"]: d["severity"] for d in report["diagnostics"]} == {
        "IA104": "WARNING", "IA000": "ERROR", "IA103": "WARNING"}


def test_rdjson_columns_count_utf8_bytes(tmp_path: Path) -> None:
    [diagnostic] = _json(tmp_path, "m.py", files={"m.py": WIDE})["diagnostics"]
    line = WIDE.splitlines()[2]
    start = diagnostic["location"]["range"]["start"]
    assert start == {"line": 3, "column": len(line[: line.index("nn.init")].encode()) + 1}
    assert start["column"] == line.index("nn.init") + 3  # "ö" and "ß" take two bytes each


def test_rdjson_suggestions_give_what_fix_writes(tmp_path: Path) -> None:
    [diagnostic] = _json(tmp_path, "m.py", files={"m.py": WIDE})["diagnostics"]
    [suggestion] = diagnostic["suggestions"]
    start, end = suggestion["range"]["start"], suggestion["range"]["end"]
    assert start["line"] == end["line"] == 3
    data = WIDE.encode().splitlines(keepends=True)
    row = data[start["line"] - 1]
    data[start["line"] - 1] = row[: start["column"] - 1] + suggestion["text"].encode() + row[end["column"] - 1:]
    status, _ = run(tmp_path, "m.py", "--fix", files={"m.py": WIDE})
    assert status == 0
    assert b"".join(data) == (tmp_path / "m.py").read_bytes()


def test_rdjson_notebook_points_at_the_stored_line_without_suggestions(tmp_path: Path) -> None:
    [diagnostic] = _json(tmp_path, "notebooks")["diagnostics"]
    line = diagnostic["location"]["range"]["start"]["line"]
    assert "nn.init.kaiming_normal(w)" in (tmp_path / "notebooks" / "train.ipynb").read_text().splitlines()[line - 1]
    assert diagnostic["message"].startswith("cell 2, line 3, column 1: ")
    assert "suggestions" not in diagnostic


def test_grouped_lists_findings_under_their_file(tmp_path: Path) -> None:
    status, output = run(tmp_path, "src", "notebooks", "--output-format", "grouped")
    assert status == 1
    *groups, summary = output.rstrip("\n").split("\n\n")
    assert summary.startswith("Found 4 problems")
    headers = [group.splitlines()[0] for group in groups]
    assert headers == ["notebooks/train.ipynb:", "src/broken.py:", "src/deprecated.py:", "src/net.py:"]
    assert groups[0].splitlines()[1].startswith("  cell 2:3:1 IA104 [*] `torch.nn.init.kaiming_normal`")
    _, quiet = run(tmp_path, "src", "-q", "--output-format", "grouped")
    assert "Found" not in quiet and quiet.startswith("src/broken.py:\n  1:7 IA000 ")


def test_grouped_aligns_the_positions_of_a_file(tmp_path: Path) -> None:
    source = DEPRECATED + "\n" * 6 + "nn.init.xavier_uniform(w)\n"
    _, output = run(tmp_path, "m.py", "-q", "--output-format", "grouped", files={"m.py": source})
    lines = output.splitlines()
    assert lines[0] == "m.py:"
    assert [line[: len("  11:1 IA104 [*]")] for line in lines[1:]] == ["  4:1  IA104 [*]", "  11:1 IA104 [*]"]


def test_pylint_is_one_parseable_line_per_finding(tmp_path: Path) -> None:
    _, output = run(tmp_path, "src", "notebooks", "--output-format", "pylint")
    lines = output.splitlines()
    parsed = [re.fullmatch(r"(?P<path>[^:]+):(?P<line>\d+): \[(?P<code>IA\d{3})\] (?P<message>.+)", line)
              for line in lines]
    assert all(parsed), lines
    assert [(m["path"], int(m["line"]), m["code"]) for m in parsed if m] == [
        ("notebooks/train.ipynb", 18, "IA104"), ("src/broken.py", 1, "IA000"), ("src/deprecated.py", 4, "IA104"),
        ("src/net.py", 9, "IA103")]


def _azure_command(line: str) -> tuple[dict[str, str], str]:
    """What the Azure Pipelines agent reads from a logging command: properties and message."""
    assert line.startswith("##vso[task.logissue ")
    close = line.index("]")
    fields = [field for field in line[len("##vso[task.logissue "): close].split(";") if field]
    properties = dict(field.split("=", 1) for field in fields)
    return ({key: _azure_unescape(value) for key, value in properties.items()},
            _azure_unescape(line[close + 1:]))


def _azure_unescape(text: str) -> str:
    for escaped, char in (("%3B", ";"), ("%0D", "\r"), ("%0A", "\n"), ("%5D", "]"), ("%AZP25", "%")):
        text = text.replace(escaped, char)
    return text


def test_azure_logging_commands_carry_position_and_code(tmp_path: Path) -> None:
    _, output = run(tmp_path, "src", "notebooks", "--output-format", "azure")
    commands = [_azure_command(line) for line in output.splitlines()]
    assert [properties for properties, _ in commands] == [
        {"type": "warning", "sourcepath": "notebooks/train.ipynb", "linenumber": "18", "code": "IA104"},
        {"type": "error", "sourcepath": "src/broken.py", "linenumber": "1", "columnnumber": "7", "code": "IA000"},
        {"type": "warning", "sourcepath": "src/deprecated.py", "linenumber": "4", "columnnumber": "1",
         "code": "IA104"},
        {"type": "warning", "sourcepath": "src/net.py", "linenumber": "9", "columnnumber": "9", "code": "IA103"},
    ]
    assert commands[0][1].startswith("cell 2, line 3, column 1: ")


def test_azure_escapes_what_would_end_a_property_or_the_command(tmp_path: Path) -> None:
    name = "a;b]c%d\x1b[2J.py"
    _, output = run(tmp_path, name, "--output-format", "azure", files={name: DEPRECATED})
    [line] = output.splitlines()
    properties, message = _azure_command(line)
    assert properties["sourcepath"] == printable(name) and properties["code"] == "IA104"
    assert "\x1b" not in line and message.startswith("`torch.nn.init.xavier_uniform` is deprecated")


def _diagnostic(severity: Severity, message: str = "m") -> Diagnostic:
    return Diagnostic(code="IA101", name="zero-weight-init", severity=severity, message=message, path="m.py",
                      line=1, column=1, end_line=1, end_column=2)


@pytest.mark.parametrize(("severity", "issue_type", "level"), [
    (Severity.ERROR, "error", "ERROR"), (Severity.WARNING, "warning", "WARNING"), (Severity.INFO, "warning", "INFO")])
def test_severities(severity: Severity, issue_type: str, level: str) -> None:
    summary = Summary([_diagnostic(severity)], files=1, parsed=1, skipped=0)
    assert _azure_command(azure.render(summary))[0]["type"] == issue_type  # Azure has no info issues
    assert json.loads(rdjson.render(summary))["diagnostics"][0]["severity"] == level


def test_azure_message_percent_signs_survive() -> None:
    summary = Summary([_diagnostic(Severity.WARNING, "std 100% of gain; a]b\nnext")], files=1, parsed=1, skipped=0)
    line = azure.render(summary)
    assert "\n" not in line
    assert _azure_command(line)[1] == "std 100% of gain; a]b\\nnext"


@pytest.mark.parametrize("output_format", ["grouped", "pylint", "azure", "rdjson"])
def test_hostile_paths_reach_no_terminal(tmp_path: Path, output_format: str) -> None:
    name = "evil\x1b[2J\u202e.py"
    _, output = run(tmp_path, name, "--output-format", output_format, files={name: DEPRECATED})
    assert "\x1b" not in output and "\u202e" not in output
    if output_format == "rdjson":
        assert json.loads(output)["diagnostics"][0]["location"]["path"] == name
    else:
        assert printable(name) in output
