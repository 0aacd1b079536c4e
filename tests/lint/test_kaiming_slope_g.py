"""A Kaiming init's slope decides its gain, sqrt(2 / (1 + a^2)): with ``a=1`` the leaky ReLU it
was designed for is the identity, so the gain is 1, an init for linear units (torchvision's
FPN extra levels use it before no activation)."""

from __future__ import annotations

import pytest

from tests.lint.selection import lint_selected

_HEAD = """
import torch.nn as nn
import torch.nn.functional as F


class Head(nn.Module):
    def __init__(self):
        super().__init__()
        self.out = nn.Conv2d(4, 4, 3)
        nn.init.kaiming_uniform_(self.out.weight, a={slope})

    def forward(self, x):
        return {returned}
"""


@pytest.mark.parametrize("slope", ["1", "1.0"])
def test_a_slope_of_one_is_a_gain_of_one_before_the_output(slope: str) -> None:
    assert lint_selected(_HEAD.format(slope=slope, returned="self.out(x)"), "IA103") == []


def test_a_slope_of_one_before_relu_is_a_linear_gain_before_relu() -> None:
    found = lint_selected(_HEAD.format(slope="1", returned="F.relu(self.out(x))"), "IA103")
    assert [(d.code, d.line) for d in found] == [("IA103", 10)]
    assert "linear gain (1)" in found[0].message and "feeds relu" in found[0].message


@pytest.mark.parametrize("slope", ["0", "0.01"])
def test_a_small_slope_is_still_a_relu_gain_before_the_output(slope: str) -> None:
    found = lint_selected(_HEAD.format(slope=slope, returned="self.out(x)"), "IA103")
    assert [(d.code, d.line) for d in found] == [("IA103", 10)]
    assert "ReLU gain" in found[0].message
