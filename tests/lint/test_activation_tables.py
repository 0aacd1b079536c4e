"""A module-level table from a name to an activation or a layer (``ACT2FN = {"gelu": F.gelu}``)
is read where an entry is looked up with a literal key or a parameter's literal default."""

from __future__ import annotations

import pytest

from tests.lint.selection import lint_selected

MLP = """
import torch
import torch.nn as nn

ACT2FN = {{"gelu": torch.nn.functional.gelu, "relu": torch.nn.functional.relu, "tanh": nn.Tanh}}


class Mlp(nn.Module):
    def __init__(self, act="relu"):
        super().__init__()
        self.fc1 = nn.Linear(8, 32)
        self.fc2 = nn.Linear(32, 8)
        self.act_fn = {lookup}
        nn.init.xavier_uniform_(self.fc1.weight)

    def forward(self, x):
        return self.fc2(self.act_fn(self.fc1(x)))
"""


@pytest.mark.parametrize("lookup, activation", [('ACT2FN["gelu"]', "gelu"), ("ACT2FN[act]", "relu")])
def test_an_activation_looked_up_in_a_table_is_what_the_layer_feeds(lookup: str, activation: str) -> None:
    [found] = lint_selected(MLP.format(lookup=lookup), "IA103")
    assert f"fc1 (Linear) feeds {activation}" in found.message


@pytest.mark.parametrize("lookup", ['ACT2FN["tanh"]()', "ACT2FN[config_act]", 'ACT2FN.get("gelu")'])
def test_a_suited_or_unknown_entry_is_quiet(lookup: str) -> None:
    assert lint_selected(MLP.format(lookup=lookup), "IA103") == []
