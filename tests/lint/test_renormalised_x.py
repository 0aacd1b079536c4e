"""``renorm_(p, dim, maxnorm)`` after a draw rescales every slice to the norm it names: the draw's
U(-1, 1) or N(0, 1) scale does not stay, so the tensor is no unscaled weight (IA105), whether the
renorm is chained on the draw or written in the next statement."""

from __future__ import annotations

import pytest

from tests.lint.selection import lint_selected

CLASSIFIER = """
import torch
import torch.nn as nn


class Cosine(nn.Module):
    def __init__(self, n, classes):
        super().__init__()
        self.w = nn.Parameter(torch.Tensor(n, classes))
        {init}

    def forward(self, x):
        return x.mm(self.w)
"""


def found(init: str) -> list[int]:
    return [d.line for d in lint_selected(CLASSIFIER.format(init=init), "IA105")]


@pytest.mark.parametrize("init", [
    "self.w.data.uniform_(-1, 1)",
    "self.w.data.uniform_(-1, 1).mul_(1)",
    "self.w.data.normal_().clamp_(-2, 2)",
    "self.w.data.renorm_(2, 1, 1e-5)\n        self.w.data.uniform_(-1, 1)",
])
def test_a_draw_whose_unit_scale_stays_is_reported(init: str) -> None:
    assert len(found(init)) == 1


@pytest.mark.parametrize("init", [
    "self.w.data.uniform_(-1, 1).renorm_(2, 1, 1e-5).mul_(1e5)",
    "self.w.data.normal_().renorm_(2, 1, 1e-5)",
    "self.w.data.uniform_(-1, 1)\n        self.w.data.renorm_(2, 1, 1e-5).mul_(1e5)",
])
def test_a_draw_renormalised_afterwards_is_not(init: str) -> None:
    assert found(init) == []
