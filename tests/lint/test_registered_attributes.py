"""``self.register_parameter(name, p)``, ``self.add_module(name, m)`` and
``self.register_module(name, m)`` bind ``self.<name>`` as ``setattr`` does: what they register is
judged as an assignment's value is."""

from __future__ import annotations

import pytest

from tests.lint.selection import lint_selected

CODE = """
import torch
import torch.nn as nn
import torch.nn.functional as F


class Layer(nn.Module):
    def __init__(self, n_in, n_out):
        super().__init__()
        {weight}
        self.register_parameter("bias", None)
        {fc}
        nn.init.xavier_uniform_(self.fc.weight)

    def forward(self, x):
        return torch.relu(self.fc(torch.relu(F.linear(x, self.weight, self.bias))))
"""


@pytest.mark.parametrize("weight", [
    'self.register_parameter("weight", nn.Parameter(torch.randn(n_out, n_in)))',
    'self.register_parameter(name="weight", param=nn.Parameter(torch.randn(n_out, n_in)))',
    'setattr(self, "weight", nn.Parameter(torch.randn(n_out, n_in)))',
])
def test_a_registered_parameter_is_judged_as_an_assigned_one(weight: str) -> None:
    code = CODE.format(weight=weight, fc="self.fc = nn.Linear(n_out, n_out)")
    assert [d.line for d in lint_selected(code, "IA105")] == [10]


@pytest.mark.parametrize("fc", [
    'self.add_module("fc", nn.Linear(n_out, n_out))',
    'self.register_module("fc", nn.Linear(n_out, n_out))',
    'self.add_module(name="fc", module=nn.Linear(n_out, n_out))',
])
def test_an_added_module_is_the_layer_its_name_reads(fc: str) -> None:
    code = CODE.format(weight="self.weight = nn.Parameter(torch.empty(n_out, n_in))", fc=fc)
    assert [d.line for d in lint_selected(code, "IA103")] == [13]


def test_registering_on_another_module_binds_nothing_here() -> None:
    code = CODE.format(weight="self.weight = nn.Parameter(torch.empty(n_out, n_in))",
                       fc='self.fc = nn.Linear(n_out, n_out)\n        other.register_parameter("fc", None)')
    assert [d.line for d in lint_selected(code, "IA103")] == [14]
