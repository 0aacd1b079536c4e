"""Lines are counted as the parser counts them: LF, CRLF and a lone CR, nothing else."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from initaudit import lint_source
from initaudit.cli import main
from initaudit.lint.files.source import line_starts, split_lines
from initaudit.lint.parse.suppression import parse_suppressions

#: Characters ``str.splitlines`` breaks at although Python does not.
NOT_BREAKS = ["\x0b", "\x0c", "\x1c", "\x1d", "\x1e", "\x85", "\u2028", "\u2029"]


def check(path: Path, *args: str):
    return CliRunner().invoke(main, ["check", "--no-cache", str(path), *args])


def test_split_lines_breaks_only_where_python_does() -> None:
    text = "a\r\nb\rc\nd\x0ce\u2028f\x85g\x1c"
    assert split_lines(text) == ["a", "b", "c", "d\x0ce\u2028f\x85g\x1c"]
    assert split_lines(text, keepends=True) == ["a\r\n", "b\r", "c\n", "d\x0ce\u2028f\x85g\x1c"]
    assert line_starts(text) == [0, 3, 5, 7]
    assert split_lines("x\n\n") == ["x", ""] and split_lines("") == []


def test_a_lone_cr_above_a_fix_does_not_move_it(tmp_path: Path) -> None:
    target = tmp_path / "cr.py"
    target.write_bytes(b"import torch.nn as nn\r# c\n\ndef f(a, b):\n"
                       b"    nn.init.xavier_uniform(a.weight)\n    nn.init.xavier_uniform_(b.weight)\n")
    result = check(target, "--fix")
    assert result.exit_code == 0, result.output
    assert target.read_bytes() == (b"import torch.nn as nn\r# c\n\ndef f(a, b):\n"
                                   b"    nn.init.xavier_uniform_(a.weight)\n"
                                   b"    nn.init.xavier_uniform_(b.weight)\n")


def test_a_file_with_only_cr_line_endings_is_checked_and_fixed(tmp_path: Path) -> None:
    target = tmp_path / "mac.py"
    target.write_bytes(b"import torch.nn as nn\rdef f(a):\r    nn.init.normal(a)  # x\r")
    result = check(target)
    assert result.exit_code == 1 and "mac.py:3:5: IA104" in result.output
    assert "3 |     nn.init.normal(a)  # x" in result.output
    check(target, "--fix")
    assert target.read_bytes() == b"import torch.nn as nn\rdef f(a):\r    nn.init.normal_(a)  # x\r"


@pytest.mark.parametrize("char", NOT_BREAKS, ids=lambda c: f"U+{ord(c):04X}")
def test_characters_that_are_not_line_breaks_shift_nothing(tmp_path: Path, char: str) -> None:
    source = (f"import torch.nn as nn\n# a {char} b\nx = 1  # {char}\n"
              f"nn.init.normal(w)  # noqa\nnn.init.uniform(w)\n")
    found = lint_source(source)
    assert [(d.line, d.column) for d in found] == [(5, 1)]
    assert {line: [d.codes for d in found] for line, found in parse_suppressions(source).by_line.items()} == {4: [None]}
    target = tmp_path / "odd.py"
    target.write_text(source, encoding="utf-8", newline="")
    output = check(target).output
    assert "odd.py:5:1: IA104" in output and "5 | nn.init.uniform(w)\n" in output


def test_snippet_escapes_control_characters_and_keeps_the_caret_under_the_span(tmp_path: Path) -> None:
    target = tmp_path / "ctl.py"
    target.write_text("import torch.nn as nn\nx = '\x1b[2J'; nn.init.normal(w)\n", encoding="utf-8")
    lines = check(target).output.splitlines()
    snippet = next(i for i, line in enumerate(lines) if line.startswith("2 | "))
    assert "\x1b" not in "".join(lines) and "\\x1b[2J" in lines[snippet]
    assert lines[snippet + 1].index("^") == lines[snippet].index("nn.init.normal")
    assert lines[snippet + 1].count("^") == len("nn.init.normal")


def test_notebook_cell_with_a_lone_cr_is_fixed_in_place(tmp_path: Path) -> None:
    cell = {"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": None,
            "source": ["import torch.nn as nn\r# c\n", "%time x = 1\n", "nn.init.normal(w)\n",
                       "nn.init.uniform_(w)"]}
    document = {"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": [cell]}
    target = tmp_path / "cr.ipynb"
    target.write_text(json.dumps(document, indent=1), encoding="utf-8")
    result = check(target)
    assert "cr.ipynb:cell 1:4:1: IA104" in result.output and "4 | nn.init.normal(w)" in result.output
    check(target, "--fix")
    fixed = json.loads(target.read_text(encoding="utf-8"))["cells"][0]["source"]
    assert "".join(fixed) == "import torch.nn as nn\r# c\n%time x = 1\nnn.init.normal_(w)\nnn.init.uniform_(w)"


def test_diff_counts_cr_lines_and_marks_a_missing_final_newline(tmp_path: Path) -> None:
    target = tmp_path / "end.py"
    target.write_bytes(b"import torch.nn as nn\r# \x0c\rnn.init.normal(w)")
    output = check(target, "--diff").output
    assert "@@ -1,3 +1,3 @@\n" in output  # three lines, each kept with its own line break
    assert " import torch.nn as nn\r # \x0c\r-nn.init.normal(w)\n\\ No newline at end of file\n" in output
    assert "+nn.init.normal_(w)\n\\ No newline at end of file\n" in output
