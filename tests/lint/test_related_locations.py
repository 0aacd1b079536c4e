"""A finding reported at the call that applies another file's init helper carries the helper's
init line as a related location: in the diagnostic, the JSON (``related``), SARIF
(``relatedLocations``, linked from the message), the full text (``= note:``) and the cache; a
finding of one file carries none, and the fingerprints that baselines match do not change."""

from __future__ import annotations

import dataclasses
import json
import os
import textwrap
from pathlib import Path

import jsonschema
import pytest
from click.testing import CliRunner

from initaudit.cli import main
from initaudit.config import Config
from initaudit.diagnostics import Diagnostic, RelatedLocation
from initaudit.lint.run import engine
from initaudit.lint.run.baseline import load_baseline, without_baseline, write_baseline
from initaudit.lint.run.cache import _diagnostic, _entry
from initaudit.lint.run.fingerprints import line_fingerprints
from initaudit.lint.run.runner import run_lint

SARIF_SCHEMA = Path(__file__).parent / "schemas" / "sarif-schema-2.1.0.json"

INIT_HELPERS = """\
import torch.nn as nn


def weight_init(m):
    if isinstance(m, nn.Linear):
        nn.init.xavier_uniform_(m.weight)
        nn.init.zeros_(m.bias)


def zero_init(m):
    if isinstance(m, nn.Linear):
        nn.init.zeros_(m.weight)
"""

MODEL = """\
import torch.nn as nn
from utils.init import weight_init, zero_init


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 8), nn.ReLU(), nn.Linear(8, 2))
        self.apply(weight_init)

    def forward(self, x):
        return self.net(x)


class Gate(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(4, 4)
        self.apply(zero_init)

    def forward(self, x):
        return self.fc(x).relu()
"""

#: The same mismatch written in one file.
ONE_FILE = """\
import torch.nn as nn


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 2))
        for m in self.modules():
            if isinstance(m, nn.Linear):
                nn.init.xavier_uniform_(m.weight)

    def forward(self, x):
        return self.net(x)
"""


@pytest.fixture
def project(tmp_path: Path) -> Path:
    files = {"pyproject.toml": "", "utils/__init__.py": "", "utils/init.py": INIT_HELPERS, "model.py": MODEL}
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(textwrap.dedent(text), encoding="utf-8")
    return tmp_path


def check(root: Path, *args: str) -> tuple[int, str]:
    cwd = os.getcwd()
    os.chdir(root)
    try:
        result = CliRunner().invoke(main, ["check", "--no-cache", "--jobs", "1", *args])
    finally:
        os.chdir(cwd)
    return result.exit_code, result.output


def diagnostics(paths: list[Path], **options) -> list[Diagnostic]:
    run = run_lint(paths, Config(), jobs=1, **options)
    assert not run.errors, [r.error for r in run.errors]
    return sorted((d for r in run for d in r.diagnostics), key=lambda d: d.sort_key)


# ---------------------------------------------------------------- the diagnostic


def test_the_finding_at_the_apply_call_relates_the_helpers_init_line(project: Path) -> None:
    found = {d.code: d for d in diagnostics([project])}
    mismatch, zeros = found["IA103"], found["IA101"]
    assert (Path(mismatch.path).name, mismatch.line) == ("model.py", 9)
    assert mismatch.related == (RelatedLocation(path=str(project / "utils" / "init.py"), line=6, column=9,
                                                end_line=6, end_column=42, message="xavier_uniform_ here"),)
    assert "xavier_uniform_ (written at utils/init.py:6)" in mismatch.message
    assert [(r.line, r.message) for r in zeros.related] == [(12, "zeros_ here")]
    # The message names the helper's init line, as IA103's does.
    assert zeros.message.endswith("(written at utils/init.py:12)")


def test_a_finding_of_one_file_has_no_related_location(tmp_path: Path) -> None:
    (tmp_path / "net.py").write_text(ONE_FILE, encoding="utf-8")
    [found] = diagnostics([tmp_path])
    assert found.code == "IA103" and found.related == ()
    assert "related" not in found.to_dict()
    status, output = check(tmp_path, "--output-format", "json")
    assert status == 1 and "related" not in json.loads(output)["diagnostics"][0]
    sarif = json.loads(check(tmp_path, "--output-format", "sarif")[1])
    assert "relatedLocations" not in sarif["runs"][0]["results"][0]
    assert "= note:" not in check(tmp_path)[1]


def test_the_helpers_file_checked_alone_reports_nothing_there(project: Path) -> None:
    """What is reported at the call that applies the helper (IA101, IA103) is not reported at
    the helper itself, which nothing applies when its file is checked alone."""
    assert [d for d in diagnostics([project / "utils" / "init.py"]) if d.code in ("IA101", "IA103")] == []


def test_no_fix_is_offered_at_the_call_that_applies_the_helper(project: Path) -> None:
    # The fix would belong in the helper's file: none is offered at the call.
    found = diagnostics([project], fix=True, unsafe_fixes=True, write=False)
    assert all(d.fix is None for d in found if d.related)


# ---------------------------------------------------------------- output formats


def test_json_lists_related_locations_relative_like_the_path(project: Path) -> None:
    status, output = check(project, "--output-format", "json")
    assert status == 1
    by_code = {d["code"]: d for d in json.loads(output)["diagnostics"]}
    assert by_code["IA103"]["path"] == "model.py"
    assert by_code["IA103"]["related"] == [{"path": os.path.join("utils", "init.py"), "line": 6, "column": 9,
                                            "end_line": 6, "end_column": 42, "message": "xavier_uniform_ here"}]
    lines = check(project, "--output-format", "json-lines")[1].splitlines()
    assert json.loads(lines[0])["related"] == by_code["IA103"]["related"]


def test_sarif_has_related_locations_linked_from_the_message(project: Path) -> None:
    status, output = check(project, "--output-format", "sarif")
    assert status == 1
    sarif = json.loads(output)
    jsonschema.validate(sarif, json.loads(SARIF_SCHEMA.read_text()))
    results = {r["ruleId"]: r for r in sarif["runs"][0]["results"]}
    [related] = results["IA103"]["relatedLocations"]
    assert related == {"id": 1, "message": {"text": "xavier_uniform_ here"}, "physicalLocation": {
        "artifactLocation": {"uri": "utils/init.py", "uriBaseId": "%SRCROOT%"},
        "region": {"startLine": 6, "startColumn": 9, "endLine": 6, "endColumn": 42}}}
    assert "xavier_uniform_ (written at [utils/init.py:6](1)) uses" in results["IA103"]["message"]["text"]
    assert results["IA101"]["message"]["text"].endswith("(written at [utils/init.py:12](1))")
    assert results["IA101"]["relatedLocations"][0]["physicalLocation"]["region"]["startLine"] == 12


def test_full_text_notes_the_helpers_init_line(project: Path) -> None:
    output = check(project)[1]
    block = output.split("\n\n")[0]
    assert block.startswith("model.py:9:9: IA103")
    assert block.splitlines()[-1] == f"  = note: {os.path.join('utils', 'init.py')}:6:9: xavier_uniform_ here"


# ---------------------------------------------------------------- cache and baselines


def test_the_cache_round_trip_keeps_related_locations(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    found = diagnostics([project])
    assert any(d.related for d in found)
    assert [_diagnostic(json.loads(json.dumps(_entry(d)))) for d in found] == found

    cache = project / "cache"
    cold = diagnostics([project], cache_dir=cache)

    def must_not_run(*args, **kwargs):
        raise AssertionError("a cached file was checked again")

    monkeypatch.setattr(engine, "lint_file", must_not_run)
    warm = diagnostics([project], cache_dir=cache)
    assert warm == cold and [d.related for d in warm] == [d.related for d in found]


@pytest.mark.parametrize("related", [3, [{"path": "x.py"}], [{"path": "x.py", "line": "1", "column": 1,
                                                                 "end_line": 1, "end_column": 2, "message": ""}]])
def test_a_cache_entry_with_malformed_related_locations_is_refused(project: Path, related: object) -> None:
    entry = _entry(next(d for d in diagnostics([project]) if d.related))
    entry["related"] = related
    with pytest.raises((TypeError, KeyError)):
        _diagnostic(entry)


def test_fingerprints_and_baselines_ignore_related_locations(project: Path, tmp_path_factory) -> None:
    run = run_lint([project], Config(), jobs=1)
    summary = run.summary
    stripped = dataclasses.replace(summary, diagnostics=[dataclasses.replace(d, related=())
                                                         for d in summary.diagnostics])
    assert any(d.related for d in summary.diagnostics)
    assert line_fingerprints(summary) == line_fingerprints(stripped)
    baseline = tmp_path_factory.mktemp("baseline") / "baseline.json"
    write_baseline(baseline, stripped)
    assert without_baseline(summary, baseline, load_baseline(baseline)).diagnostics == []


def test_an_overwrite_relates_the_voided_init_of_another_file(tmp_path: Path) -> None:
    """IA111 at a wrapper's loop that voids what a block of another file initialised when built:
    the voided init is the related location, and the message names it once."""
    from tests.lint.selection import selecting
    from tests.lint.test_overwritten_across_files import project as wrapper_project

    wrapper_project(tmp_path)
    run = run_lint([tmp_path], selecting("IA111"), jobs=1)
    [found] = [d for r in run for d in r.diagnostics]
    assert [(Path(r.path).name, r.line, r.message) for r in found.related] == [
        ("attention.py", 9, "the voided normal_ here")]
    assert found.message.count("model/attention.py:9") == 1
