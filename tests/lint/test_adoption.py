"""Adopting the linter on an existing codebase: ``--add-noqa`` and baselines."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from initaudit.lint.fixes.apply import apply_edits
from initaudit.lint.run.noqa import noqa_edits
from tests.lint.test_check_options import BAD, ZERO, invoke
from tests.lint.test_cli import write


def _with_noqa(text: str, codes_by_line: dict[int, set[str]]) -> str:
    return apply_edits(text, noqa_edits(text, codes_by_line))


# --- --add-noqa ------------------------------------------------------------------------------

def test_add_noqa_silences_every_finding_and_is_idempotent(tmp_path: Path) -> None:
    write(tmp_path, {"a.py": BAD, "b.py": ZERO})
    assert invoke("check", str(tmp_path)).exit_code == 1
    result = invoke("check", "--add-noqa", str(tmp_path))
    assert result.exit_code == 0
    assert "Added 2 noqa comments." in result.output
    assert (tmp_path / "a.py").read_text().splitlines()[1] == "nn.init.xavier_uniform(w)  # noqa: IA104"
    assert invoke("check", "--no-cache", str(tmp_path)).exit_code == 0
    before = {name: (tmp_path / name).read_bytes() for name in ("a.py", "b.py")}
    assert "Added 0 noqa comments." in invoke("check", "--add-noqa", str(tmp_path)).output
    assert {name: (tmp_path / name).read_bytes() for name in before} == before


@pytest.mark.parametrize(("line", "expected"), [
    ("f(w)  # noqa: IA101", "f(w)  # noqa: IA101, IA104"),
    ("f(w)  # noqa:IA104", None),
    ("f(w)  # noqa", None),
    ("f(w)  # initaudit: ignore[IA101]", "f(w)  # initaudit: ignore[IA101, IA104]"),
    ("f(w)  # initaudit: ignore[]", "f(w)  # initaudit: ignore[IA104]"),
    ("f(w)  # a note", "f(w)  # a note  # noqa: IA104"),
])
def test_existing_comments_keep_their_codes(line: str, expected: str | None) -> None:
    text = line + "\n"
    assert _with_noqa(text, {1: {"IA104"}}) == (text if expected is None else expected + "\n")


def test_codes_on_one_line_are_sorted_into_one_comment() -> None:
    assert _with_noqa("f(w)\n", {1: {"IA104", "IA101"}}) == "f(w)  # noqa: IA101, IA104\n"


def test_a_comment_never_lands_inside_a_string_or_after_a_backslash() -> None:
    text = 'x = f(w, """\ndoc\n""")\ny = g(w) + \\\n    h(w)\n'
    fixed = _with_noqa(text, {1: {"IA101"}, 4: {"IA104"}})
    assert fixed == 'x = f(w, """\ndoc\n""")  # noqa: IA101\ny = g(w) + \\\n    h(w)  # noqa: IA104\n'
    compile(fixed, "f.py", "exec")


def test_add_noqa_keeps_line_endings_and_encoding(tmp_path: Path) -> None:
    source = "# -*- coding: latin-1 -*-\r\nimport torch.nn as nn\r\nnn.init.normal(w)  # café\r\n"
    write(tmp_path, {"a.py": source.encode("latin-1")})
    invoke("check", "--add-noqa", str(tmp_path / "a.py"))
    assert (tmp_path / "a.py").read_bytes() == source.replace("café", "café  # noqa: IA104").encode("latin-1")


def test_add_noqa_in_a_notebook_edits_the_cell_source(tmp_path: Path) -> None:
    notebook = {"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": [
        {"cell_type": "code", "metadata": {}, "execution_count": None, "outputs": [],
         "source": ["import torch.nn as nn\n", "%matplotlib inline\n"]},
        {"cell_type": "markdown", "metadata": {}, "source": ["text"]},
        {"cell_type": "code", "metadata": {}, "execution_count": None, "outputs": [],
         "source": ["nn.init.xavier_uniform(w)"]},
    ]}
    path = tmp_path / "n.ipynb"
    path.write_text(json.dumps(notebook, indent=1))
    invoke("check", "--add-noqa", str(path))
    cells = json.loads(path.read_text())["cells"]
    assert cells[2]["source"] == ["nn.init.xavier_uniform(w)  # noqa: IA104"]
    assert cells[0]["source"] == notebook["cells"][0]["source"]
    assert invoke("check", "--no-cache", str(path)).exit_code == 0


def test_add_noqa_leaves_a_read_only_file_and_says_so(tmp_path: Path) -> None:
    write(tmp_path, {"a.py": BAD})
    (tmp_path / "a.py").chmod(0o444)
    result = invoke("check", "--add-noqa", str(tmp_path / "a.py"))
    assert result.exit_code == 2
    assert "read-only" in result.output
    assert (tmp_path / "a.py").read_text() == BAD


def test_add_noqa_cannot_be_combined_with_fix(tmp_path: Path) -> None:
    write(tmp_path, {"a.py": BAD})
    result = invoke("check", "--add-noqa", "--fix", str(tmp_path))
    assert result.exit_code == 2
    assert (tmp_path / "a.py").read_text() == BAD


# --- baselines -------------------------------------------------------------------------------

def _diagnostics(result) -> list[tuple[str, int]]:
    return [(d["code"], d["line"]) for d in json.loads(result.output)["diagnostics"]]


def test_a_baseline_hides_known_findings_and_shows_new_ones(tmp_path: Path) -> None:
    write(tmp_path, {"src/a.py": BAD, "src/b.py": ZERO})
    baseline = tmp_path / "initaudit-baseline.json"
    rules = ("--select", "IA101,IA104")  # the findings BAD and ZERO are written for
    written = invoke("check", *rules, "--write-baseline", str(baseline), str(tmp_path / "src"))
    assert written.exit_code == 0  # writing the baseline is the job, as --add-noqa
    assert "Wrote 2 findings" in written.output
    assert invoke("check", *rules, "--baseline", str(baseline), str(tmp_path / "src")).exit_code == 0
    # Code moves above the known finding and a new finding arrives.
    write(tmp_path, {"src/a.py": "\n\n# moved\n" + BAD + "nn.init.normal(w)\n"})
    result = invoke("check", *rules, "--baseline", str(baseline), "--output-format", "json", str(tmp_path / "src"))
    assert result.exit_code == 1
    assert _diagnostics(result) == [("IA104", 6)]


def test_a_baseline_counts_identical_findings(tmp_path: Path) -> None:
    write(tmp_path, {"a.py": BAD})
    baseline = tmp_path / "baseline.json"
    invoke("check", "--write-baseline", str(baseline), str(tmp_path / "a.py"))
    write(tmp_path, {"a.py": BAD + "nn.init.xavier_uniform(w)\n"})  # the same line twice now
    result = invoke("check", "--baseline", str(baseline), "--output-format", "json", str(tmp_path / "a.py"))
    assert _diagnostics(result) == [("IA104", 3)]


def test_baseline_paths_are_relative_to_the_baseline_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write(tmp_path, {"proj/src/a.py": BAD})
    baseline = tmp_path / "proj" / "baseline.json"
    monkeypatch.chdir(tmp_path)
    invoke("check", "--write-baseline", str(baseline), "proj/src")
    assert json.loads(baseline.read_text())["findings"][0]["path"] == "src/a.py"
    monkeypatch.chdir(tmp_path / "proj")
    assert invoke("check", "--baseline", "baseline.json", "src").exit_code == 0


@pytest.mark.parametrize("content", ["", "{", "[]", '{"version": 2, "findings": []}', '{"version": 1, "findings": [1]}'])
def test_a_broken_baseline_is_a_usage_error(tmp_path: Path, content: str) -> None:
    write(tmp_path, {"a.py": BAD, "baseline.json": content})
    result = invoke("check", "--baseline", str(tmp_path / "baseline.json"), str(tmp_path / "a.py"))
    assert result.exit_code == 2
    assert result.output.startswith("initaudit: error:") and len(result.output.strip().splitlines()) == 1
