"""``nn.Sequential(a, *[Block() for _ in range(n)], b)``: starred arguments spread as Python
spreads them, a comprehension over ``range`` of a literal or a default giving its element that
many times, so the order of the layers, and what each feeds, is known."""

from __future__ import annotations

import pytest

from tests.lint.selection import lint_selected

MLP = """
import torch.nn as nn


class MLP(nn.Module):
    def __init__(self, dim=2, hdim=32, depth=4):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(dim, hdim), nn.Tanh(),
                                 *[nn.Sequential(nn.Linear(hdim, hdim), nn.Tanh()) for _ in {count}],
                                 nn.Linear(hdim, dim))
        for m in self.modules():
            if isinstance(m, nn.Linear):
                nn.init.kaiming_normal_(m.weight)

    def forward(self, x):
        return self.net(x)
"""


@pytest.mark.parametrize("count, hidden", [("range(4)", 4), ("range(depth)", 4), ("range(1, depth)", 3)])
def test_the_layers_a_spread_comprehension_gives_are_judged_in_order(count: str, hidden: int) -> None:
    tanh, output = lint_selected(MLP.format(count=count), "IA103")
    assert f"it reaches {hidden + 1} Linear layers that feed tanh: net.0, net.2.0" in tanh.message
    assert f"net.{hidden + 2} (Linear) feeds no activation (it is the model's output)" in output.message


@pytest.mark.parametrize("count", ["range(depth) if depth else []", "range(n_layers)", "sizes"])
def test_a_spread_of_unknown_length_leaves_the_order_unknown(count: str) -> None:
    assert lint_selected(MLP.format(count=count), "IA103") == []
