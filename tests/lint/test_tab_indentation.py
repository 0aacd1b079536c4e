"""Indentation mixing tabs and spaces that the interpreter accepts (a tab reaches the next multiple
of eight columns) and libcst's tokenizer rejects: the file is analysed with its indentation's
tabs expanded, its findings at their columns as written, without fixes; one the interpreter
rejects (TabError) stays IA000."""

from __future__ import annotations

import ast
from pathlib import Path

import libcst as cst
import pytest

from initaudit.lint.parse.indentation import ExpandedColumns
from initaudit.lint.run.engine import lint_source
from tests.lint.test_project import findings, write

#: A helper whose branch bodies are indented with four spaces and a tab (column 8 + 4).
HELPER = (
    "import torch.nn as nn\n"
    "\n"
    "\n"
    "def init_weights(m):\n"
    "    if isinstance(m, nn.Linear):\n"
    "    \t    nn.init.xavier_uniform(m.weight)\n"
    "    \t    if m.bias is not None:\n"
    "    \t\t    m.bias.data.zero_()\n"
    "    elif isinstance(m, nn.Conv2d):\n"
    "    \t    nn.init.kaiming_normal_(m.weight)\n"
)


def test_the_sample_is_one_python_takes_and_libcst_rejects() -> None:
    ast.parse(HELPER)
    with pytest.raises(cst.ParserSyntaxError):
        cst.parse_module(HELPER)


def test_findings_of_a_file_libcst_rejects_for_its_tabs() -> None:
    [found] = lint_source(HELPER)
    # ``nn.init.xavier_uniform`` starts after four spaces, a tab and four spaces: column 10.
    assert (found.code, found.line, found.column, found.end_column) == ("IA104", 6, 10, 32)
    assert found.fix is None  # written for the expanded text, not this one


def test_a_tab_the_interpreter_rejects_stays_a_syntax_error() -> None:
    source = "def f():\n        x = 1\n    \ty = 2\n"  # 8 columns either way, 8 and 5 by tab size 1
    assert [(found.code, found.line) for found in lint_source(source)] == [("IA000", 3)]


def test_a_helper_in_a_file_with_such_tabs_is_read_by_its_importers(tmp_path: Path) -> None:
    root = write(tmp_path, {"helpers.py": HELPER, "model.py": (
        "import torch.nn as nn\n"
        "import torch.nn.functional as F\n"
        "from helpers import init_weights\n"
        "\n"
        "\n"
        "class Net(nn.Module):\n"
        "    def __init__(self):\n"
        "        super().__init__()\n"
        "        self.fc = nn.Linear(8, 8)\n"
        "        self.apply(init_weights)\n"
        "\n"
        "    def forward(self, x):\n"
        "        return F.relu(self.fc(x))\n")})
    assert [(name, line, code) for name, line, code, _ in findings([root])] == [
        ("helpers.py", 6, "IA104"), ("model.py", 10, "IA103")]


@pytest.mark.parametrize("line, column, expected", [
    (6, 10, 10),  # after the indentation: moved back by what the tab became
    (6, 3, 3),  # inside the indentation: where it is as written
    (6, 12, 10),  # in the expanded indentation, past what was written: just after it
    (1, 5, 5),  # a line without a tab is unchanged
])
def test_columns_move_back_to_the_text_as_written(line: int, column: int, expected: int) -> None:
    expanded = ExpandedColumns(HELPER)
    assert expanded.changed and "\t" not in expanded.text
    assert expanded.text.splitlines()[5] == " " * 12 + "nn.init.xavier_uniform(m.weight)"
    assert expanded.column(line, column) == expected
