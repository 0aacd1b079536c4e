"""Which arguments of a product are its factors: a bias that ``F.linear``, ``F.conv2d``,
``torch.addmm`` or ``b.addmm`` adds to the product is no weight matrix, whatever its shape
(an RBM's visible bias made ``(1, n_vis)``), while the weight they multiply by is one."""

from __future__ import annotations

import pytest

from tests.lint.selection import lint_selected

RBM = """
import torch
import torch.nn as nn
import torch.nn.functional as F


class RBM(nn.Module):
    def __init__(self, n_vis=784, n_hid=500):
        super().__init__()
        self.v = nn.Parameter(torch.randn(1, n_vis))
        self.h = nn.Parameter(torch.randn(1, n_hid))
        self.W = nn.Parameter(torch.randn(n_hid, n_vis))

    def forward(self, v):
        p = torch.sigmoid({hidden})
        return torch.sigmoid({visible})
"""


def lines(code: str) -> list[int]:
    return [d.line for d in lint_selected(code, "IA105")]


@pytest.mark.parametrize(("hidden", "visible"), [
    ("F.linear(v, self.W, self.h)", "F.linear(p, self.W.t(), self.v)"),
    ("F.linear(v, self.W, bias=self.h)", "F.linear(input=p, weight=self.W.t(), bias=self.v)"),
    ("torch.addmm(self.h, v, self.W.t())", "torch.addmm(self.v, p, self.W)"),
    ("self.h.addmm(v, self.W.t())", "self.v.addmm(p, self.W)"),
    ("torch.baddbmm(self.h, v, self.W.t())", "self.v.baddbmm(p, self.W)"),
])
def test_the_added_bias_is_not_a_factor_the_weight_is(hidden: str, visible: str) -> None:
    code = RBM.format(hidden=hidden, visible=visible)
    assert lines(code) == [12]


def test_a_tensor_multiplied_by_the_signal_is_still_a_factor() -> None:
    code = RBM.format(hidden="F.linear(v, self.W, self.h)", visible="p @ self.W + v @ self.v.t()")
    assert lines(code) == [10, 12]


CONV = """
import torch
import torch.nn as nn
import torch.nn.functional as F


class Conv(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(c, c, 3, 3))
        self.bias = nn.Parameter(torch.randn(1, c))

    def forward(self, x):
        return F.conv2d(x, {args})
"""


@pytest.mark.parametrize("args", ["self.weight, self.bias.view(-1)", "self.weight, bias=self.bias.view(-1)",
                                  "bias=self.bias.view(-1), weight=self.weight"])
def test_a_convolution_bias_however_passed_is_no_factor(args: str) -> None:
    assert lines(CONV.format(args=args)) == [10]


def test_a_bias_a_product_adds_stays_a_bias_where_it_is_also_multiplied() -> None:
    """An RBM's free energy multiplies the visible bias by the input (``v @ b_v``); it is still the
    bias ``F.linear`` adds when sampling, not a weight matrix."""
    code = RBM.format(hidden="F.linear(v, self.W, self.h)",
                      visible="F.linear(p, self.W.t(), self.v) + torch.matmul(v, self.v.t())")
    assert lines(code) == [12]
