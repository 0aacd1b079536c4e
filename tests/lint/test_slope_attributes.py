"""An activation's slope read through an attribute (``negative_slope=self.alpha``) takes the value
``__init__`` stores there: its default, or what a construction of the file passes."""

from __future__ import annotations

import pytest

from tests.lint.selection import lint_selected

CRITIC = """
import torch.nn as nn
import torch.nn.functional as F


class Critic(nn.Module):
    def __init__(self, alpha={alpha}):
        super().__init__()
        self.alpha = alpha
        self.conv = nn.Conv1d(1, 8, 5)
        self.fc = nn.Linear(8, 8)
        nn.init.kaiming_normal_(self.conv.weight{a})

    def forward(self, x):
        h = F.leaky_relu(self.conv(x), negative_slope=self.alpha)
        return self.fc(h.mean(-1)).relu()
"""


def test_a_default_slope_read_through_an_attribute_is_judged() -> None:
    found = lint_selected(CRITIC.format(alpha="0.2", a=""), "IA109")
    assert [(d.line, d.code) for d in found] == [(12, "IA109")]
    assert "slope 0.2" in found[0].message


@pytest.mark.parametrize("alpha, a", [("0.2", ", a=0.2, nonlinearity='leaky_relu'"), ("0.0", ""), ("None", "")])
def test_a_matching_or_unknown_slope_through_an_attribute_is_quiet(alpha: str, a: str) -> None:
    assert lint_selected(CRITIC.format(alpha=alpha, a=a), "IA109") == []
