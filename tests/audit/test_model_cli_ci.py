"""``initaudit model`` in CI as ``check`` is: rule selection from the command line and the shared
settings table, ``--exit-zero``, ``--output-file``, the CI output formats, and refusals made
before torch is imported."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from xml.etree import ElementTree

import jsonschema
import pytest
import torch
from click.testing import CliRunner

from examples import audit_models
from initaudit.auditor.load.safetensors_io import save_safetensors
from initaudit.auditor.results import AuditFinding, AuditReport
from initaudit.cli import main
from initaudit.diagnostics import Severity
from initaudit.model_command import FORMATS
from initaudit.report import audit_formats

SARIF_SCHEMA = Path(__file__).parents[1] / "lint" / "schemas" / "sarif-schema-2.1.0.json"
REPOSITORY = Path(__file__).parents[2]
CHECKPOINT = "ckpt.safetensors"
BAD_MLP = "examples.audit_models:bad_mlp"


def _bad_tensors() -> dict[str, torch.Tensor]:
    """An all-zero matrix (IA201, a warning) and a NaN in another (IA205, an error)."""
    nan = torch.randn(8, 16) / 4
    nan[0, 0] = float("nan")
    return {"enc.weight": torch.zeros(16, 16), "enc.bias": torch.zeros(16), "dec.weight": nan}


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A working directory holding the bad checkpoint, with no settings file above it."""
    save_safetensors(_bad_tensors(), tmp_path / CHECKPOINT)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def _invoke(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, ["model", *args])
    return result.exit_code, result.stdout, result.stderr


def _codes(*args: str) -> tuple[int, list[tuple[str, str | None]]]:
    """The exit status and the (code, parameter) pairs reported, sorted."""
    status, out, err = _invoke(*args, "--output-format", "json")
    assert status in (0, 1), err
    return status, sorted((f["code"], f["parameter"]) for f in json.loads(out)["findings"])


# --- output formats ---------------------------------------------------------------------------

def test_sarif_puts_each_finding_on_the_checkpoint_and_its_parameter(project: Path) -> None:
    status, out, _ = _invoke(CHECKPOINT, "--output-format", "sarif")
    assert status == 1
    sarif = json.loads(out)
    jsonschema.validate(sarif, json.loads(SARIF_SCHEMA.read_text()))
    [run] = sarif["runs"]
    rules = run["tool"]["driver"]["rules"]
    assert rules and all(rule["id"].startswith("IA2") for rule in rules)
    assert [rule["id"] for rule in rules] == sorted({result["ruleId"] for result in run["results"]})
    found = {}
    for result in run["results"]:
        assert rules[result["ruleIndex"]]["id"] == result["ruleId"]
        [location] = result["locations"]
        physical = location["physicalLocation"]
        assert physical["artifactLocation"] == {"uri": CHECKPOINT, "uriBaseId": "%SRCROOT%"}
        assert physical["region"] == {"startLine": 1}
        [logical] = location["logicalLocations"]
        assert result["message"]["text"].startswith(logical["fullyQualifiedName"] + ": ")
        found[result["ruleId"]] = (logical, result["level"])
    assert found["IA201"] == ({"name": "weight", "fullyQualifiedName": "enc.weight", "kind": "member"}, "warning")
    assert found["IA205"][0]["fullyQualifiedName"] == "dec.weight" and found["IA205"][1] == "error"


def test_github_annotates_the_checkpoint_with_the_parameter_first(project: Path) -> None:
    status, out, _ = _invoke(CHECKPOINT, "--output-format", "github", "--select", "IA201,IA205")
    assert status == 1
    lines = out.splitlines()
    assert any(line.startswith("::warning file=ckpt.safetensors,title=IA201 zero-weight-matrix::enc.weight: "
                               "all-zero weight matrix") for line in lines)
    assert any(line.startswith("::error file=ckpt.safetensors,title=IA205 non-finite-values::dec.weight: ")
               for line in lines)


def test_junit_has_a_failing_case_per_finding_named_by_its_parameter(project: Path) -> None:
    _, out, _ = _invoke(CHECKPOINT, "--output-format", "junit", "--select", "IA201,IA205")
    root = ElementTree.fromstring(out)
    [suite] = root.findall("testsuite")
    assert suite.get("name") == CHECKPOINT
    cases = {case.get("name"): case for case in suite.findall("testcase")}
    assert set(cases) == {"initaudit.IA201 enc.weight", "initaudit.IA205 dec.weight"}
    failure = cases["initaudit.IA205 dec.weight"].find("failure")
    assert failure is not None and failure.get("type") == "IA205"
    assert failure.text is not None and failure.text.startswith("dec.weight: ") and failure.text.endswith(
        "[IA205 non-finite-values, error]")
    assert root.get("failures") == "2"


def test_gitlab_fingerprints_are_stable_and_differ_by_parameter(project: Path) -> None:
    _, first, _ = _invoke(CHECKPOINT, "--output-format", "gitlab")
    issues = json.loads(first)
    assert {(i["check_name"], i["severity"]) for i in issues} >= {("IA201", "minor"), ("IA205", "major")}
    assert all(i["location"] == {"path": CHECKPOINT, "lines": {"begin": 1, "end": 1}} for i in issues)
    assert any(i["description"].startswith("IA201 enc.weight: ") for i in issues)
    assert len({i["fingerprint"] for i in issues}) == len(issues)
    # Other numbers, same findings: the same fingerprints.
    tensors = _bad_tensors()
    tensors["dec.weight"][1, 1] = 3.0
    save_safetensors(tensors, project / CHECKPOINT)
    _, second, _ = _invoke(CHECKPOINT, "--output-format", "gitlab")
    assert [i["fingerprint"] for i in json.loads(second)] == [i["fingerprint"] for i in issues]


def test_a_factory_s_findings_point_at_the_factory_definition(project: Path) -> None:
    status, out, _ = _invoke("--factory", BAD_MLP, "--output-format", "github", "--select", "IA201")
    assert status == 1
    line = audit_models.bad_mlp.__code__.co_firstlineno
    assert out == (f"::warning file={(REPOSITORY / 'examples' / 'audit_models.py').as_posix()},line={line},"
                   f"title=IA201 zero-weight-matrix::6.weight: all-zero weight matrix: every unit computes the "
                   f"same output and the layers before it receive no gradient\n")


def _report(*findings: tuple[str | None, str]) -> AuditReport:
    return AuditReport("ckpt.pt", [], [AuditFinding(code="IA210", name="unmeasured-tensors", severity=Severity.ERROR,
                                                    message=message, parameter=parameter)
                                       for parameter, message in findings], [])


def test_a_finding_about_the_whole_model_has_no_logical_location() -> None:
    report = _report((None, "no weight was read"), ("a.weight", "first"), ("a.weight", "second"))
    sarif = json.loads(audit_formats.render(report, audit_formats.Artifact("ckpt.pt"), "sarif"))
    jsonschema.validate(sarif, json.loads(SARIF_SCHEMA.read_text()))
    whole, first, second = sarif["runs"][0]["results"]
    assert "logicalLocations" not in whole["locations"][0] and whole["message"]["text"] == "(model): no weight was read"
    prints = [result["partialFingerprints"]["initaudit/parameter/v1"] for result in (first, second)]
    assert prints[0].endswith(":1") and prints[1] == prints[0][:-1] + "2"  # same tensor, same rule: counted
    junit = audit_formats.render(report, audit_formats.Artifact("ckpt.pt"), "junit")
    assert [case.get("name") for case in ElementTree.fromstring(junit).iter("testcase")] == [
        "initaudit.IA210 (model)", "initaudit.IA210 a.weight", "initaudit.IA210 a.weight"]


def test_tensor_names_reach_ci_logs_printable() -> None:
    report = _report(("evil\x1b[2J\n::error ::forged.weight", "m"))
    artifact = audit_formats.Artifact("ckpt.pt")
    [annotation] = audit_formats.render(report, artifact, "github").splitlines()
    assert "\x1b" not in annotation and annotation.startswith("::error file=ckpt.pt,title=IA210 ")
    assert "\x1b" not in audit_formats.render(report, artifact, "junit")


def test_every_format_of_the_command_has_a_reporter() -> None:
    assert FORMATS == ("text", "json", *audit_formats.FORMATS)


def test_a_clean_audit_in_every_ci_format(project: Path) -> None:
    save_safetensors({"enc.weight": torch.randn(16, 16) / 4}, project / CHECKPOINT)
    outputs = {}
    for output_format in ("sarif", "github", "junit", "gitlab"):
        status, outputs[output_format], _ = _invoke(CHECKPOINT, "--output-format", output_format)
        assert status == 0
    jsonschema.validate(json.loads(outputs["sarif"]), json.loads(SARIF_SCHEMA.read_text()))
    assert json.loads(outputs["sarif"])["runs"][0]["results"] == []
    assert outputs["github"] == "" and json.loads(outputs["gitlab"]) == []
    assert ElementTree.fromstring(outputs["junit"]).find("testsuite/testcase").get("name") == "No problems found"


def test_json_keeps_its_contract_and_format_stays_an_alias(project: Path) -> None:
    _, by_alias, _ = _invoke(CHECKPOINT, "--format", "json")
    _, by_name, _ = _invoke(CHECKPOINT, "--output-format", "json")
    assert by_alias == by_name
    assert set(json.loads(by_name)) == {"version", "summary", "parameters", "findings", "signal", "notes"}


# --- selection --------------------------------------------------------------------------------

def test_select_and_ignore_take_codes_prefixes_and_names(project: Path) -> None:
    _, everything = _codes(CHECKPOINT)
    assert {("IA201", "enc.weight"), ("IA205", "dec.weight")} <= set(everything)
    assert _codes(CHECKPOINT, "--select", "IA201") == (1, [("IA201", "enc.weight")])
    assert _codes(CHECKPOINT, "--select", "non-finite-values") == (1, [("IA205", "dec.weight")])
    assert _codes(CHECKPOINT, "--select", "IA201", "--extend-select", "IA205") == (
        1, [("IA201", "enc.weight"), ("IA205", "dec.weight")])
    assert _codes(CHECKPOINT, "--ignore", "IA20") == (0, [])


def test_a_deselected_rule_does_not_change_the_exit_status(project: Path) -> None:
    status, out, _ = _invoke(CHECKPOINT, "--ignore", "IA201,IA203,IA205")
    summary = json.loads(_invoke(CHECKPOINT, "--ignore", "IA201,IA203,IA205", "--format", "json")[1])["summary"]
    assert status == 0 and (summary["errors"], summary["warnings"]) == (0, 0)
    assert "IA201" not in out and "IA205" not in out


def test_exit_zero_reports_and_exits_zero(project: Path) -> None:
    status, out, _ = _invoke(CHECKPOINT, "--exit-zero", "--output-format", "github")
    assert status == 0 and "title=IA205" in out
    assert _invoke(CHECKPOINT, "-e", "--output-format", "github")[0] == 0


@pytest.mark.parametrize("option", ["--select", "--extend-select"])
@pytest.mark.parametrize("selector", ["IA101", "IA1", "zero-weight-init"])
def test_a_command_line_selector_of_lint_rules_only_is_refused(project: Path, option: str, selector: str) -> None:
    status, out, err = _invoke(CHECKPOINT, option, selector)
    assert status == 2 and out == ""
    assert err == (f"initaudit: error: {option}: {selector!r} names no rule of `initaudit model`; "
                   "`initaudit rules` lists each rule's command\n")


def test_ignoring_the_other_commands_rules_changes_nothing(project: Path) -> None:
    """A shared ignore list (a pre-commit or CI line reused for both commands) is no error."""
    assert _invoke(CHECKPOINT, "--ignore", "IA101")[:2] == _invoke(CHECKPOINT)[:2]


def test_an_unknown_selector_is_refused(project: Path) -> None:
    status, _, err = _invoke(CHECKPOINT, "--select", "IA9")
    assert status == 2 and "unknown rule selector 'IA9'" in err


def _settings(project: Path, text: str, name: str = "pyproject.toml") -> None:
    (project / name).write_text(f"[tool.initaudit]\n{text}\n" if name == "pyproject.toml" else text + "\n")


@pytest.mark.parametrize("select", ['["IA1"]', '["IA101", "IA103"]', '["zero-weight-init"]'])
def test_a_lint_selection_in_the_settings_leaves_every_audit_rule_on(project: Path, select: str) -> None:
    _, everything = _codes(CHECKPOINT, "--isolated")
    _settings(project, f"select = {select}")
    assert _codes(CHECKPOINT) == (1, everything)


def test_audit_codes_in_the_settings_select_and_ignore_audit_rules(project: Path) -> None:
    _settings(project, 'select = ["IA1", "IA205"]')
    assert _codes(CHECKPOINT) == (1, [("IA205", "dec.weight")])
    _settings(project, 'ignore = ["IA1", "IA205"]', ".initaudit.toml")
    assert ("IA205", "dec.weight") not in _codes(CHECKPOINT)[1]
    assert ("IA201", "enc.weight") in _codes(CHECKPOINT)[1]


def test_the_command_line_and_config_arguments_override_the_settings(project: Path) -> None:
    _settings(project, 'select = ["IA205"]')
    assert _codes(CHECKPOINT, "--select", "IA201") == (1, [("IA201", "enc.weight")])
    assert _codes(CHECKPOINT, "--config", 'select = ["IA201"]') == (1, [("IA201", "enc.weight")])
    (project / "other.toml").write_text('select = ["IA201"]\n')
    assert _codes(CHECKPOINT, "--config", "other.toml") == (1, [("IA201", "enc.weight")])
    assert ("IA201", "enc.weight") in _codes(CHECKPOINT, "--isolated")[1]


def test_invalid_settings_are_a_one_line_error(project: Path) -> None:
    _settings(project, 'select = ["IA9"]')
    status, out, err = _invoke(CHECKPOINT)
    assert status == 2 and out == "" and err.count("\n") == 1 and "unknown rule selector 'IA9'" in err
    status, _, err = _invoke(CHECKPOINT, "--isolated", "--config", "pyproject.toml")
    assert status == 2 and "cannot be used with --isolated" in err


def test_fix_leaves_a_deselected_rule_s_tensors_alone(project: Path) -> None:
    save_safetensors({"enc.weight": torch.zeros(16, 16)}, project / CHECKPOINT)
    status, out, _ = _invoke(CHECKPOINT, "--fix", "--output", "fixed.safetensors", "--ignore", "IA201,IA203")
    assert status == 0 and "nothing to re-initialise" in out


# --- the report file --------------------------------------------------------------------------

def test_output_file_holds_the_report_and_stdout_nothing(project: Path) -> None:
    _, printed, _ = _invoke(CHECKPOINT, "--output-format", "sarif")
    status, out, _ = _invoke(CHECKPOINT, "--output-format", "sarif", "-o", "report.sarif")
    assert status == 1 and out == ""
    assert (project / "report.sarif").read_text() == printed
    assert sorted(p.name for p in project.iterdir()) == [CHECKPOINT, "report.sarif"]  # no temporary left
    status, _, _ = _invoke(CHECKPOINT, "--output-file", "report.txt")
    assert status == 1 and "\x1b[" not in (project / "report.txt").read_text()
    assert "IA205" in (project / "report.txt").read_text()


@pytest.mark.parametrize("target", [CHECKPOINT, "./ckpt.safetensors"])
def test_output_file_never_replaces_the_checkpoint(project: Path, target: str) -> None:
    before = (project / CHECKPOINT).read_bytes()
    status, out, err = _invoke(CHECKPOINT, "-o", target)
    assert status == 2 and out == ""
    assert err == (f"initaudit: error: --output-file {target}: that is the checkpoint being audited, which is "
                   "never modified; choose another file\n")
    assert (project / CHECKPOINT).read_bytes() == before


def test_output_file_never_replaces_a_file_of_a_checkpoint_directory(project: Path) -> None:
    directory = project / "model"
    directory.mkdir()
    save_safetensors({"enc.weight": torch.randn(16, 16) / 4}, directory / "model.safetensors")
    (directory / "config.json").write_text("{}")
    status, _, err = _invoke("model", "-o", "model/config.json")
    assert status == 2 and "--output-file model/config.json: that is in the checkpoint being audited" in err
    assert (directory / "config.json").read_text() == "{}"


def test_output_file_and_html_cannot_be_one_file(project: Path) -> None:
    status, _, err = _invoke(CHECKPOINT, "--html", "report.html", "-o", "./report.html")
    assert status == 2 and err == "initaudit: error: --output-file and --html name the same file\n"
    assert not (project / "report.html").exists()


# --- refusals before torch --------------------------------------------------------------------

#: Runs the command in a fresh interpreter and prints its exit status and whether torch was imported.
REFUSAL = """
import sys
from initaudit.cli import main
try:
    main(sys.argv[1:])
except SystemExit as done:
    print(done.code, "torch" in sys.modules)
"""


def _refusal(cwd: Path, *args: str) -> tuple[str, str]:
    done = subprocess.run([sys.executable, "-c", REFUSAL, "model", *args], cwd=cwd, capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": str(REPOSITORY)}, timeout=60)
    return done.stdout.strip(), done.stderr.strip()


@pytest.mark.parametrize("args, message", [
    (("missing.pt",), "missing.pt: no such file or directory"),
    (("empty.pt",), "empty.pt: empty file"),
    (("fifo",), "fifo: not a regular file"),
    (("--factory", "build.py"), "build.py: expected a factory as package.module:function"),
    ((CHECKPOINT, "--example-inputs", "inputs"), "inputs: expected a factory as package.module:function"),
    ((CHECKPOINT, "--select", "IA101"), "--select: 'IA101' names no rule"),
    ((CHECKPOINT, "--fix"), "--fix needs --output OUT"),
    ((CHECKPOINT, "-o", CHECKPOINT), "that is the checkpoint being audited"),
])
def test_refusals_come_before_torch_is_imported(project: Path, args: tuple[str, ...], message: str) -> None:
    (project / "empty.pt").write_bytes(b"")
    os.mkfifo(project / "fifo")
    out, err = _refusal(project, *args)
    assert out == "2 False"
    assert err.startswith("initaudit: error: ") and message in err


@pytest.mark.skipif(hasattr(os, "geteuid") and os.geteuid() == 0, reason="root reads any file")
def test_an_unreadable_checkpoint_is_refused_before_torch_is_imported(project: Path) -> None:
    (project / CHECKPOINT).chmod(0)
    try:
        out, err = _refusal(project, CHECKPOINT)
    finally:
        (project / CHECKPOINT).chmod(0o644)
    assert out == "2 False" and f"{CHECKPOINT}: cannot read (Permission denied)" in err
