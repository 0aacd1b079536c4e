"""``lint/parse/tree.py``: libcst's parse without its per-node checks, for those parses only."""

from __future__ import annotations

import libcst as cst
import pytest

from initaudit.lint.parse.tree import parse_module

SOURCES = [
    "import torch.nn as nn\n\n\nclass Net(nn.Module):\n    def __init__(self):\n"
    "        super().__init__()\n        self.fc = nn.Linear(2, 2)  # a layer\n",
    "x = (1 +\n     2)\r\nwith open(f) as g, open(h):\r\n\tpass\r\n",
    "",
]


@pytest.mark.parametrize("text", SOURCES)
def test_the_tree_is_the_one_libcst_builds(text: str) -> None:
    tree = parse_module(text)
    assert tree.deep_equals(cst.parse_module(text))
    assert tree.code == text


def test_invalid_text_raises_as_libcst_does() -> None:
    with pytest.raises(cst.ParserSyntaxError):
        parse_module("def f(:\n")


def test_nodes_made_after_a_parse_are_checked_again() -> None:
    parse_module("x = 1\n")
    with pytest.raises(cst.CSTValidationError):
        cst.Name("not a name")
    with pytest.raises(cst.ParserSyntaxError):
        parse_module("(")
    with pytest.raises(cst.CSTValidationError):  # and after a parse that failed
        cst.Name("")
