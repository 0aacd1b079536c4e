"""A bare Parameter's draw (IA105): the values a unit draw keeps through out-of-place calls,
bounded (``torch.fmod(torch.randn(a, b), 2)``, ``torch.clamp``) or moved (``.cuda()``), and the
scale an out-of-place product gives them."""

from __future__ import annotations

import pytest

from tests.lint.selection import lint_selected


def lines(code: str, *rules: str) -> list[tuple[int, str]]:
    return [(d.line, d.code) for d in lint_selected(code, *rules)]


# ---------------------------------------------------------------- what a draw keeps


GENERATOR = """
import torch
import torch.nn as nn


class Generator(nn.Module):
    def __init__(self, z, k):
        super().__init__()
        self.proj = nn.Parameter({made})

    def forward(self, code):
        return torch.matmul(code, self.proj)
"""


@pytest.mark.parametrize("made", [
    "torch.fmod(torch.randn(z, k), 2)", "torch.randn(z, k).fmod(2)", "torch.remainder(torch.rand(z, k), 1)",
    "torch.clamp(torch.randn(z, k), -2, 2)", "torch.clip(torch.randn(z, k), min=-2, max=2)",
    "torch.fmod(torch.randn(z, k).cuda(), 2)", "torch.randn(z, k).to('cuda').float()",
    "torch.fmod(input=torch.randn(z, k), other=2)", "torch.fmod(torch.randn(z, k), 2).fmod_(2)",
])
def test_a_unit_draw_bounded_or_moved_keeps_its_scale(made: str) -> None:
    assert lines(GENERATOR.format(made=made), "IA105") == [(9, "IA105")], made


@pytest.mark.parametrize("made", [
    "torch.fmod(torch.randn(z, k), 2) * 0.01", "torch.fmod(torch.randn(z, k) * 0.01, 2)",
    "torch.fmod(torch.randn(z, k), 2).mul_(0.01)", "torch.clamp(torch.randn(z, k), -2, 2).cuda() / 100",
    "torch.abs(torch.randn(z, k))",
])
def test_a_scaled_or_reshaped_draw_is_not_unit(made: str) -> None:
    assert lines(GENERATOR.format(made=made), "IA105") == [], made


def test_a_bounded_vector_is_a_bias() -> None:
    code = GENERATOR.format(made="torch.fmod(torch.randn(k), 2)").replace(
        "torch.matmul(code, self.proj)", "code + self.proj")
    assert lines(code, "IA105") == []
