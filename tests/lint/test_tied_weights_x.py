"""Weight tying: ``self.head.weight = self.embed.weight`` makes two names one tensor, so a write
through either name after the tie rewrites what the other name's earlier init wrote (IA111)."""

from __future__ import annotations

import pytest

from tests.lint.selection import lint_selected

TIED = """
import torch.nn as nn


class Decoder(nn.Module):
    def __init__(self, vocab, dim, tie=True):
        super().__init__()
        self.table = nn.Embedding(vocab, dim)
        self.out = nn.Linear(dim, vocab)
        {tie}
        self.reset()

    def reset(self):
        self.table.weight.data.uniform_(-0.1, 0.1)
        self.out.bias.data.zero_()
        {second}

    def forward(self, x):
        return self.out(self.table(x))
"""


def found(tie: str, second: str = "self.out.weight.data.uniform_(-0.1, 0.1)") -> list[int]:
    return [d.line for d in lint_selected(TIED.format(tie=tie, second=second), "IA111")]


@pytest.mark.parametrize("tie", ["self.out.weight = self.table.weight", "self.table.weight = self.out.weight"])
def test_a_draw_through_the_tied_name_voids_the_first(tie: str) -> None:
    assert found(tie) == [14]


def test_a_draw_through_the_same_name_after_the_tie_voids_the_first() -> None:
    assert found("self.out.weight = self.table.weight", "nn.init.normal_(self.table.weight, std=0.1)") == [14]


@pytest.mark.parametrize("tie", [
    "pass",  # two tensors: each draw writes its own
    "if tie:\n            self.out.weight = self.table.weight",  # tied only sometimes
])
def test_untied_or_sometimes_tied_tensors_keep_both_draws(tie: str) -> None:
    assert found(tie) == []


def test_a_tie_made_after_the_draws_voids_only_the_replaced_name() -> None:
    code = TIED.format(tie="pass", second="self.out.weight.data.uniform_(-0.1, 0.1)").replace(
        "        self.reset()\n", "        self.reset()\n        self.out.weight = self.table.weight\n")
    assert [d.line for d in lint_selected(code, "IA111")] == [17]
