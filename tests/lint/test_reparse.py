"""Parsing an edited buffer piece by piece gives what a parse of the whole text gives."""

from __future__ import annotations

from pathlib import Path

import libcst as cst
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from initaudit.config import Config
from initaudit.lint.files.source import grammar_check
from initaudit.lint.parse.positions import Positions
from initaudit.lint.parse.reparse import Reparser
from initaudit.lint.run.engine import check_text

EXAMPLES = sorted((Path(__file__).parents[2] / "examples").glob("*.py"))
#: Nodes that carry no position a finding could point at; where libcst hangs them (a block's
#: footer or the next statement's leading lines) differs between the two parses.
_TRIVIA = (cst.EmptyLine, cst.Newline, cst.TrailingWhitespace, cst.Comment, cst.IndentedBlock,
           cst.Module, cst.SimpleWhitespace, cst.ParenthesizedWhitespace)

MODEL = '''\
#!/usr/bin/env python
"""A model."""
import torch.nn as nn  # noqa: F401


# the blocks
@staticmethod
@property
def helper(x): return x; y = 1; z = 2


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(4, 4)
        nn.init.xavier_uniform_(self.fc.weight)
        # trailing comment in the block

    # a comment between methods
    def forward(self, x):
        return nn.functional.relu(self.fc(x))
# a comment at column 0


x = 1; y = 2
if x:
    pass
# between if and else
else:
    pass
'''


def _ranges(module: cst.Module, positions: object) -> list[tuple[object, ...]]:
    nodes: list[cst.CSTNode] = []

    class Collect(cst.CSTVisitor):
        def on_visit(self, node: cst.CSTNode) -> bool:
            if not isinstance(node, _TRIVIA):
                nodes.append(node)
            return True

    module.visit(Collect())
    found = [positions[node] for node in nodes]  # type: ignore[index]
    return sorted((type(node).__name__, r.start.line, r.start.column, r.end.line, r.end.column)
                  for node, r in zip(nodes, found))


def _assert_as_whole(reparser: Reparser, text: str) -> bool:
    """Parse with ``reparser``; assert code and positions equal a whole parse. True if pieced."""
    _, tree = grammar_check(text, "m.py")
    module, positions = reparser.parse(text, tree)
    assert module.code == text
    whole = cst.parse_module(text)
    if positions is None:
        return False
    assert _ranges(module, positions) == _ranges(whole, Positions(whole))
    return True


@pytest.mark.parametrize("text", [MODEL, *(path.read_text(encoding="utf-8") for path in EXAMPLES)])
def test_pieces_join_into_the_whole_parse(text: str) -> None:
    assert _assert_as_whole(Reparser(), text)


def test_unchanged_statements_are_taken_from_the_last_parse() -> None:
    reparser = Reparser()
    first, _ = reparser.parse(MODEL, grammar_check(MODEL, "m.py")[1])
    edited = MODEL.replace("nn.Linear(4, 4)", "nn.Linear(4, 8)")
    second, _ = reparser.parse(edited, grammar_check(edited, "m.py")[1])
    assert len(first.body) == len(second.body) == 6

    def reused(before: cst.CSTNode, after: cst.CSTNode) -> bool:
        # A statement led by the lines that end the piece before it is joined anew, around
        # the very nodes of the last parse.
        return before is after or all(a is b for a, b in zip(before.children, after.children, strict=True))

    assert [reused(a, b) for a, b in zip(first.body, second.body)] == [True, True, True, False, False, True]
    # The class was parsed again, so the lines after it (which lead the next statement) are new.
    assert second.body[4].body is first.body[4].body


def test_a_statement_written_twice_is_two_nodes() -> None:
    text = "import torch\nx = torch.zeros(2)\nx = torch.zeros(2)\n"
    reparser = Reparser()
    reparser.parse(text, grammar_check(text, "m.py")[1])
    module, positions = reparser.parse(text, grammar_check(text, "m.py")[1])
    assert module.body[1] is not module.body[2]
    assert positions is not None and positions[module.body[2]].start.line == 3
    assert _assert_as_whole(reparser, text)


@pytest.mark.parametrize("text", [
    "import torch\r\nx = 1\r\n",                                   # other line breaks
    "if a:\n  x = 1\nif b:\n    y = 2\n",                         # two indentations
])
def test_texts_the_pieces_cannot_join_exactly_are_parsed_whole(text: str) -> None:
    assert not _assert_as_whole(Reparser(), text)


def test_one_indentation_everywhere_is_joined() -> None:
    assert _assert_as_whole(Reparser(), "if a:\n  x = 1\nif b:\n  y = 2\n")


def test_a_version_that_does_not_parse_then_one_that_does() -> None:
    reparser = Reparser()
    assert _assert_as_whole(reparser, MODEL)
    broken = MODEL.replace("def forward(self, x):", "def forward(self, x)")
    assert grammar_check(broken, "m.py")[1] is None
    with pytest.raises(cst.ParserSyntaxError):
        reparser.parse(broken, None)
    assert _assert_as_whole(reparser, MODEL)


_LINES = MODEL.splitlines(keepends=True)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(0, len(_LINES) - 1),
                          st.sampled_from(["drop", "dup", "blank", "comment", "rename", "join"])),
                min_size=1, max_size=4))
def test_edits_keep_the_findings_of_a_whole_parse(edits: list[tuple[int, str]]) -> None:
    """A buffer edited step by step: at each valid step, the pieced parse is exact and the
    findings equal those of a check without it."""
    reparser, lines, config = Reparser(), list(_LINES), Config()
    for index, kind in edits:
        index %= len(lines)
        if kind == "drop" and len(lines) > 1:
            del lines[index]
        elif kind == "dup":
            lines.insert(index, lines[index])
        elif kind == "blank":
            lines.insert(index, "\n")
        elif kind == "comment":
            lines.insert(index, "# note\n")
        elif kind == "rename":
            lines[index] = lines[index].replace("fc", "head")
        elif kind == "join":
            lines[index] = lines[index].rstrip("\n")
        text = "".join(lines)
        if grammar_check(text, "m.py")[1] is None:
            continue
        _assert_as_whole(reparser, text)
        assert check_text("m.py", text, config, reparser) == check_text("m.py", text, config)
