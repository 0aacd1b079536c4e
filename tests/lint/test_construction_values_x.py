"""Blocks as each construction binds them: the literals a holder's call (or a default) binds to a
block's attributes decide the block's tests (``self.last is not None``) and how often its loops
surely run (``range(1, self.n + 1)``), per construction."""

from __future__ import annotations

import pytest

from tests.lint.selection import lint_selected

STACK = """
import torch
import torch.nn as nn
import torch.nn.functional as F


class Stack(nn.Module):
    def __init__(self, sizes, act=F.relu, last=None):
        super().__init__()
        self.act = act
        self.last = last
        self.layers = nn.ModuleList([nn.Linear(a, b) for a, b in zip(sizes, sizes[1:])])

    def forward(self, x):
        for i, layer in enumerate(self.layers):
            x = layer(x)
            if i == len(self.layers) - 1 and self.last is not None:
                x = self.last(x)
            else:
                x = self.act(x)
        return x


class AutoEncoder(nn.Module):
    def __init__(self):
        super().__init__()
        self.enc = Stack([4, 8, 8]{enc})
        self.dec = Stack([8, 8, 4], last=torch.sigmoid)
        for m in self.modules():
            if isinstance(m, nn.Linear):
                nn.init.{init}(m.weight)

    def forward(self, x):
        return self.dec(self.enc(x))
"""


def stack(enc: str = "", init: str = "xavier_normal_") -> list[str]:
    found = lint_selected(STACK.replace("{enc}", enc).replace("{init}", init), "IA103")
    return [f"{d.line}: {d.message}" for d in found]


@pytest.mark.parametrize("enc", ["", ", last=None"])
def test_a_block_built_without_its_last_activation_feeds_its_hidden_one_everywhere(enc: str) -> None:
    # ``enc`` leaves ``last`` None (by default or by keyword): every layer feeds ReLU there.
    found = stack(enc)
    assert len(found) == 1 and found[0].startswith("31: ") and "enc.layers.0" in found[0] and "relu" in found[0]


def test_a_block_built_with_its_last_activation_keeps_the_choice_open() -> None:
    # Given an activation for ``last``, the last layer may feed it or ReLU: not judged.
    assert stack(", last=torch.tanh") == []


def test_he_on_the_block_built_without_its_last_activation_is_right() -> None:
    assert stack(init="kaiming_normal_") == []


STAGES = """
import torch
import torch.nn as nn


def he(m):
    for p in m.modules():
        if isinstance(p, nn.ConvTranspose2d):
            nn.init.{init}(p.weight)


class Stage(nn.Module):
    def __init__(self, cin, cout, n=2):
        super().__init__()
        self.n = n
        for i in range(1, n + 1):
            block = nn.Sequential(nn.Conv2d(cin, cout, 3), nn.ReLU())
            setattr(self, {name}, block)
            cin = cout

    def forward(self, x):
        for i in range(1, self.n + 1):
            block = getattr(self, {name})
            x = block(x)
        return x


class Up(nn.Module):
    def __init__(self, cin, cout, depth):
        super().__init__()
        self.body = Stage(cin, cout{n})
        self.up = nn.ConvTranspose2d(cin, cout, 2, stride=2)
        he(self.up)

    def forward(self, skip, x):
        return self.body(torch.cat([skip, self.up(x)], 1))
"""


def stages(name: str = "'block%d' % i", n: str = "", init: str = "kaiming_normal_") -> list[str]:
    code = STAGES.replace("{name}", name).replace("{n}", n).replace("{init}", init)
    return [f"{d.line}: {d.message}" for d in lint_selected(code, "IA103")]


@pytest.mark.parametrize("name", ["'block%d' % i", "f'block{i}'", "'block{}'.format(i)", "'block%d' % (i,)"])
@pytest.mark.parametrize("n", ["", ", 3", ", n=1"])
def test_a_loop_that_surely_runs_hands_the_layer_to_the_next_layer_only(name: str, n: str) -> None:
    # ``range(1, self.n + 1)`` with ``n`` a literal of the construction runs at least once: the
    # upsampling's output reaches another layer, never the block's output unchanged.
    found = stages(name, n)
    assert len(found) == 1 and found[0].startswith("9: ") and "another layer takes it directly" in found[0]


def test_a_loop_whose_count_is_unknown_may_hand_the_input_on() -> None:
    # ``n=depth``: the loop may run zero times, handing the upsampling's output to the output.
    found = stages(n=", depth")
    assert len(found) == 1 and "it is the model's output" in found[0]


def test_a_gain_for_linear_units_before_a_layer_is_right() -> None:
    assert stages(init="xavier_normal_") == []
