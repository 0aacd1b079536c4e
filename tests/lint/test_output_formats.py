"""Every ``check --output-format``, compared with a golden file under tests/lint/golden/.

The project is written at test time into a temporary directory that becomes the working
directory, so paths in the output are relative and the same on every machine. After an intended
change, rewrite the golden files with ``make golden`` and review the diff.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from xml.etree import ElementTree

import jsonschema
import pytest
from click.testing import CliRunner

from initaudit.cli import FORMATS, main
from tests.conftest import XAVIER_BEFORE_RELU
from tests.golden_files import assert_matches_golden

GOLDEN = Path(__file__).parent / "golden"
SARIF_SCHEMA = Path(__file__).parent / "schemas" / "sarif-schema-2.1.0.json"
SUFFIX = {"full": "txt", "concise": "txt", "json": "json", "json-lines": "jsonl", "sarif": "sarif.json",
          "github": "txt", "gitlab": "json", "junit": "xml", "grouped": "txt", "pylint": "txt",
          "rdjson": "json", "azure": "txt"}

DEPRECATED = "import torch.nn as nn\n\n\nnn.init.xavier_uniform(w)  # old name\n"
MISMATCH = "import torch.nn as nn\nimport torch.nn.functional as F\n\n" + XAVIER_BEFORE_RELU
NOTEBOOK = {
    "cells": [
        {"cell_type": "markdown", "metadata": {}, "source": ["# Training\n"]},
        {"cell_type": "code", "execution_count": 1, "metadata": {}, "outputs": [],
         "source": ["import torch.nn as nn\n", "w = nn.Linear(2, 2).weight\n", "nn.init.kaiming_normal(w)\n"]},
    ],
    "metadata": {"language_info": {"name": "python"}},
    "nbformat": 4,
    "nbformat_minor": 5,
}
PROJECT = {
    "src/deprecated.py": DEPRECATED,
    "src/net.py": MISMATCH,
    "src/broken.py": "def f(:\n    pass\n",
    "src/clean.py": "import torch\n",
    "notebooks/train.ipynb": json.dumps(NOTEBOOK, indent=1) + "\n",
}


def run(tmp_path: Path, *args: str, files: dict[str, str] = PROJECT) -> tuple[int, str]:
    for name, content in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(content)
    cwd = os.getcwd()
    os.chdir(tmp_path)
    try:
        result = CliRunner().invoke(main, ["check", "--no-cache", *args])
    finally:
        os.chdir(cwd)
    return result.exit_code, result.output


def normalised(output: str, tmp_path: Path) -> str:
    return output.replace(tmp_path.resolve().as_uri(), "file:///project")


#: The rules the formats are shown with: a fixed set, so that a new rule changes no format's golden.
GOLDEN_RULES = "IA000,IA103,IA104"


@pytest.mark.parametrize("output_format", FORMATS)
def test_golden(tmp_path: Path, output_format: str) -> None:
    status, output = run(tmp_path, "src", "notebooks", "--select", GOLDEN_RULES, "--output-format", output_format)
    assert status == 1
    assert_matches_golden(GOLDEN / f"{output_format}.{SUFFIX[output_format]}", normalised(output, tmp_path))


def test_format_and_text_remain_aliases(tmp_path: Path) -> None:
    _, full = run(tmp_path, "src", "--output-format", "full")
    assert run(tmp_path, "src", "--format", "text")[1] == full
    assert run(tmp_path, "src", "--format", "json")[1] == run(tmp_path, "src", "--output-format", "json")[1]


def test_json_fix_edits_apply_to_the_file(tmp_path: Path) -> None:
    _, output = run(tmp_path, "src/deprecated.py", "--output-format", "json")
    [diagnostic] = json.loads(output)["diagnostics"]
    [edit] = diagnostic["fix"]["edits"]
    assert edit == {"content": "xavier_uniform_", "location": {"row": 4, "column": 9},
                    "end_location": {"row": 4, "column": 23}}
    lines = DEPRECATED.splitlines()
    row, start, end = edit["location"]["row"], edit["location"]["column"], edit["end_location"]["column"]
    fixed = lines[row - 1][: start - 1] + edit["content"] + lines[row - 1][end - 1:]
    assert fixed == "nn.init.xavier_uniform_(w)  # old name"


def test_json_fix_edits_in_a_notebook_count_rows_in_the_cell(tmp_path: Path) -> None:
    _, output = run(tmp_path, "notebooks", "--output-format", "json")
    [diagnostic] = json.loads(output)["diagnostics"]
    assert (diagnostic["cell"], diagnostic["line"]) == (2, 3)
    assert diagnostic["fix"]["edits"] == [{"content": "kaiming_normal_", "location": {"row": 3, "column": 9},
                                           "end_location": {"row": 3, "column": 23}}]


def test_json_summary_counts_findings_by_severity(tmp_path: Path) -> None:
    _, output = run(tmp_path, "src", "notebooks", "--output-format", "json")
    data = json.loads(output)
    severities = [d["severity"] for d in data["diagnostics"]]
    assert "error" in severities
    assert data["summary"] == {"files": 5, "parsed": 4, "skipped": 0, "errors": severities.count("error"),
                               "warnings": severities.count("warning"), "info": severities.count("info"),
                               "diagnostics": len(severities)}


def test_json_lines_is_one_diagnostic_per_line(tmp_path: Path) -> None:
    _, lines = run(tmp_path, "src", "notebooks", "--output-format", "json-lines")
    _, whole = run(tmp_path, "src", "notebooks", "--output-format", "json")
    assert [json.loads(line) for line in lines.splitlines()] == json.loads(whole)["diagnostics"]


def test_sarif_is_valid_and_ready_for_github(tmp_path: Path) -> None:
    _, output = run(tmp_path, "src", "notebooks", "--output-format", "sarif")
    sarif = json.loads(output)
    jsonschema.validate(sarif, json.loads(SARIF_SCHEMA.read_text()))
    [run_] = sarif["runs"]
    assert run_["originalUriBaseIds"]["%SRCROOT%"]["uri"] == tmp_path.resolve().as_uri() + "/"
    # The rules the results refer to, and no other: a rule a run did not report is not listed.
    assert [rule["id"] for rule in run_["tool"]["driver"]["rules"]] == sorted({r["ruleId"] for r in run_["results"]})
    for rule in run_["tool"]["driver"]["rules"]:
        assert rule["help"]["markdown"].startswith("## What it does") and rule["help"]["text"]
        assert rule["fullDescription"]["text"] and "```" not in rule["help"]["text"]
        assert "helpUri" not in rule  # no link to a copy that exists on this machine only
    for result in run_["results"]:
        location = result["locations"][0]["physicalLocation"]["artifactLocation"]
        assert location["uriBaseId"] == "%SRCROOT%" and not location["uri"].startswith(("/", "file:"))
        assert result["partialFingerprints"]["initaudit/line/v1"]


def test_sarif_fingerprints_survive_line_moves(tmp_path: Path) -> None:
    def fingerprints(source: str) -> list[tuple[str, int, str]]:
        _, output = run(tmp_path, "m.py", "--output-format", "sarif", files={"m.py": source})
        return [(r["ruleId"], r["locations"][0]["physicalLocation"]["region"]["startLine"],
                 r["partialFingerprints"]["initaudit/line/v1"]) for r in json.loads(output)["runs"][0]["results"]]

    before = fingerprints(DEPRECATED + "nn.init.xavier_uniform(w)  # old name\n")
    after = fingerprints("# a comment\n\n" + DEPRECATED + "nn.init.xavier_uniform(w)  # old name\n")
    assert [line for _, line, _ in after] == [line + 2 for _, line, _ in before]
    assert [print_ for *_, print_ in after] == [print_ for *_, print_ in before]
    assert len({print_ for *_, print_ in before}) == 2  # the same line twice: told apart by occurrence


def test_sarif_notebook_results_point_at_the_stored_source_line(tmp_path: Path) -> None:
    _, output = run(tmp_path, "notebooks", "--output-format", "sarif")
    [result] = json.loads(output)["runs"][0]["results"]
    line = result["locations"][0]["physicalLocation"]["region"]["startLine"]
    stored = (tmp_path / "notebooks" / "train.ipynb").read_text().splitlines()[line - 1]
    assert stored.strip() == '"nn.init.kaiming_normal(w)\\n"'
    assert result["properties"] == {"cell": 2, "cellLine": 3, "cellColumn": 1}


@pytest.mark.parametrize("layout", ["one string", "compact"])
def test_notebook_source_line_is_found_in_any_layout(tmp_path: Path, layout: str) -> None:
    document = json.loads(json.dumps(NOTEBOOK))
    if layout == "one string":
        document["cells"][1]["source"] = "".join(document["cells"][1]["source"])
        text = json.dumps(document, indent=2)
    else:
        text = json.dumps(document)
    _, output = run(tmp_path, "nb.ipynb", "--output-format", "gitlab", files={"nb.ipynb": text})
    [issue] = json.loads(output)
    stored = text.splitlines()[issue["location"]["lines"]["begin"] - 1]
    assert "nn.init.kaiming_normal(w)" in stored


def test_gitlab_code_quality_shape(tmp_path: Path) -> None:
    _, output = run(tmp_path, "src", "notebooks", "--output-format", "gitlab")
    issues = json.loads(output)
    assert {issue["severity"] for issue in issues} <= {"info", "minor", "major", "critical", "blocker"}
    assert len({issue["fingerprint"] for issue in issues}) == len(issues)
    broken = next(issue for issue in issues if issue["check_name"] == "IA000")
    assert broken["severity"] == "critical" and broken["location"] == {"path": "src/broken.py",
                                                                      "lines": {"begin": 1, "end": 1}}


def test_junit_has_a_failing_case_per_finding(tmp_path: Path) -> None:
    _, output = run(tmp_path, "src", "notebooks", "--output-format", "junit")
    root = ElementTree.fromstring(output.encode())
    cases = root.findall("./testsuite/testcase")
    assert len(cases) == int(root.get("tests")) == int(root.get("failures")) == 4
    assert all(case.find("failure") is not None for case in cases)
    _, clean = run(tmp_path, "src/clean.py", "--output-format", "junit")
    assert ElementTree.fromstring(clean.encode()).find("./testsuite/testcase").find("failure") is None


def test_hostile_path_cannot_break_concise_or_junit_output(tmp_path: Path) -> None:
    name = "evil\x1b[2J\u202e.py"
    _, concise = run(tmp_path, name, "--output-format", "concise", files={name: DEPRECATED})
    assert "\x1b" not in concise and "\u202e" not in concise and "\\x1b[2J\\u202e.py:4:1: IA104" in concise
    _, junit = run(tmp_path, name, "--output-format", "junit", files={name: DEPRECATED})
    ElementTree.fromstring(junit.encode())  # still well-formed XML


def test_full_output_escapes_what_files_hold(tmp_path: Path) -> None:
    name = "evil\x1b[2J.py"
    source = "import torch.nn as nn\nx = '\x1b[31m'; nn.init.xavier_uniform(w)\n"
    _, output = run(tmp_path, name, "--output-format", "full", files={name: source})
    assert "\x1b" not in output
    lines = output.splitlines()
    assert lines[0].startswith("evil\\x1b[2J.py:2:")
    assert lines[1] == "2 | x = '\\x1b[31m'; nn.init.xavier_uniform(w)"
    assert lines[2] == " " * (len("2 | ") + len("x = '\\x1b[31m'; ")) + "^" * len("nn.init.xavier_uniform")


def test_sarif_uris_are_encoded_and_absolute_outside_the_checkout(tmp_path: Path) -> None:
    inside, outside = tmp_path / "in", tmp_path / "out"
    inside.mkdir()
    (outside / "x y").mkdir(parents=True)
    (outside / "x y" / "b#1.py").write_text(DEPRECATED)
    _, output = run(inside, "a b/c%.py", str(outside / "x y" / "b#1.py"), "--output-format", "sarif",
                    files={"a b/c%.py": DEPRECATED})
    sarif = json.loads(output)
    jsonschema.validate(sarif, json.loads(SARIF_SCHEMA.read_text()))
    locations = [r["locations"][0]["physicalLocation"]["artifactLocation"] for r in sarif["runs"][0]["results"]]
    assert locations == [{"uri": (outside / "x y" / "b#1.py").as_uri()},  # sorted by path: "/" first
                         {"uri": "a%20b/c%25.py", "uriBaseId": "%SRCROOT%"}]
