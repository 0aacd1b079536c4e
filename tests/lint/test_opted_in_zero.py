"""A zero start in the arm of a test of an option that names it (``if init_zero:``) is the
caller's choice (IA101 not reported); the same arm under another option is judged."""

from __future__ import annotations

import pytest

from tests.lint.selection import lint_selected

BLOCK = """
import torch
import torch.nn as nn


class BlockDiagonalLinear(nn.Module):
    def __init__(self, n_in, n_out, {flag}=False):
        super().__init__()
        self.weight = nn.Parameter(torch.empty(n_out, n_in))
        if {test}:
            torch.nn.init.zeros_(self.weight)
        else:
            torch.nn.init.kaiming_uniform_(self.weight)

    def forward(self, x):
        return torch.relu(x @ self.weight.t())
"""


@pytest.mark.parametrize("flag, test", [("init_zero", "init_zero"), ("zero_init", "zero_init is True")])
def test_a_zero_start_an_option_names_is_not_reported(flag: str, test: str) -> None:
    assert lint_selected(BLOCK.format(flag=flag, test=test), "IA101") == []


@pytest.mark.parametrize("flag, test", [("small", "small"), ("init_zero", "not init_zero")])
def test_a_zero_start_under_another_option_is_reported(flag: str, test: str) -> None:
    assert [(d.line, d.code) for d in lint_selected(BLOCK.format(flag=flag, test=test), "IA101")] == [(11, "IA101")]
