"""``# noqa`` is read from comments, as Python's tokenizer finds them, never from strings."""

from __future__ import annotations

import pytest

from tests.conftest import lint

DEPRECATED = "import torch.nn as nn\nw = None\n"


@pytest.mark.parametrize("line", [
    'nn.init.normal(w); s = "see # noqa docs"',
    "nn.init.normal(w); s = '# noqa: IA104'",
    'nn.init.normal(w); s = """# initaudit: ignore[IA104]"""',
    'nn.init.normal(w, std=f"{1} # noqa")',
])
def test_a_noqa_inside_a_string_suppresses_nothing(line: str) -> None:
    assert [d.code for d in lint(DEPRECATED + line + "\n")] == ["IA104"]


@pytest.mark.parametrize("line", [
    "nn.init.normal(w)  # noqa",
    "nn.init.normal(w)  # noqa: IA104",
    'nn.init.normal(w)  # a "quoted" word, then # noqa: IA104',
    "nn.init.normal(w)  # initaudit: ignore[IA104]",
])
def test_a_noqa_comment_suppresses(line: str) -> None:
    assert lint(DEPRECATED + line + "\n") == []


def test_lines_are_counted_as_the_parser_counts_them() -> None:
    """Carriage returns alone end lines too: the comment's line is where the parser puts it."""
    source = DEPRECATED.replace("\n", "\r") + "nn.init.normal(w)  # noqa: IA104\rnn.init.normal(w)\r"
    assert [(d.code, d.line) for d in lint(source)] == [("IA104", 4)]
