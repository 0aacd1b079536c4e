"""``m._parameters["w"]`` is the registry ``m.w`` reads a Parameter from: an init written through
it writes that Parameter."""

from __future__ import annotations

import pytest

from tests.lint.selection import lint_selected

NET = """
import torch.nn as nn


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.lstm = nn.LSTM(4, 8, batch_first=True)
        self.fc = nn.Linear(8, 1)
        for k in range(1):
            nn.init.{function}(self.lstm._parameters['weight_ih_l0'])
            nn.init.{function}(self.lstm._parameters["weight_hh_l0"].data)
        nn.init.constant_(self.lstm._parameters['bias_ih_l0'], 0)

    def forward(self, x):
        return self.fc(self.lstm(x)[0])
"""


def test_a_relu_gain_through_the_registry_on_recurrent_weights_is_reported() -> None:
    found = lint_selected(NET.format(function="kaiming_normal_"), "IA103")
    assert [(d.line, d.code) for d in found] == [(11, "IA103"), (12, "IA103")]
    assert "weight_ih_l0 of lstm (LSTM) feeds the layer's own sigmoid and tanh" in found[0].message


@pytest.mark.parametrize("function", ["xavier_uniform_", "orthogonal_"])
def test_a_scheme_the_gates_suit_through_the_registry_is_quiet(function: str) -> None:
    assert lint_selected(NET.format(function=function), "IA103") == []
