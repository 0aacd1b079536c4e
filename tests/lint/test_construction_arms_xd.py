"""Arms of a block's ``__init__`` as each construction takes them: the literals a holder's call
binds (given, by default, or as ``self.flag`` holding the holder's own literal default) decide
the ``if`` tests guarding the block's attributes, and so ``hasattr(self, ...)`` in its forward."""

from __future__ import annotations

import pytest

from tests.lint.selection import lint_selected

UNIT = """
import torch.nn as nn


def he(m):
    if isinstance(m, nn.Conv2d):
        nn.init.kaiming_normal_(m.weight)


class Unit(nn.Module):
    def __init__(self, cin, cout, norm=True, act="relu"):
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, 3, padding=1)
        if norm:
            self.norm = nn.BatchNorm2d(cout)
        if act == "relu":
            self.act = nn.ReLU()
        elif act == "tanh":
            self.act = nn.Tanh()

    def forward(self, x):
        h = self.conv(x)
        if {has_norm}:
            h = self.norm(h)
        if hasattr(self, "act"):
            h = self.act(h)
        return h


class Net(nn.Module):
    def __init__(self, flag=False, act="relu"):
        super().__init__()
        self.flag = flag
        self.first = Unit(3, 8)
        self.last = Unit(8, 3{last})
        self.apply(he)

    def forward(self, x):
        return self.last(self.first(x))
"""


def unit(last: str, has_norm: str = 'hasattr(self, "norm")') -> list[str]:
    code = UNIT.replace("{last}", last).replace("{has_norm}", has_norm)
    return [f"{d.line}: {d.message}" for d in lint_selected(code, "IA103")]


@pytest.mark.parametrize("last", [", norm=False, act=None", ", False, None", ", self.flag, act=None",
                                  ", act='none', norm=0"])
@pytest.mark.parametrize("has_norm", ['hasattr(self, "norm")', 'not not hasattr(self, "norm")'])
def test_a_construction_skipping_every_arm_returns_the_conv_as_the_output(last: str, has_norm: str) -> None:
    # ``last`` binds neither a norm nor an activation: its conv is the model's output. ``first``,
    # built with the defaults, feeds its norm: not reported.
    found = unit(last, has_norm)
    assert len(found) == 1 and found[0].startswith("7: ") and "last.conv" in found[0] \
        and "model's output" in found[0], found


@pytest.mark.parametrize("last", ["", ", norm=False", ", act='relu', norm=False"])
def test_a_construction_taking_the_relu_arm_feeds_relu(last: str) -> None:
    assert unit(last) == []


def test_an_argument_not_known_leaves_the_arms_open() -> None:
    # ``act`` is the holder's parameter, not an attribute holding its default: either arm may run.
    assert unit(", norm=False, act=act") == []


def own_init(last: str, init: str = "he(self.conv)") -> list[str]:
    code = UNIT.replace("{last}", last).replace("{has_norm}", 'hasattr(self, "norm")') \
        .replace("        self.apply(he)\n", "").replace(
            '        if norm:\n', f"        {init}\n        if norm:\n")
    return [f"{d.line}: {d.message}" for d in lint_selected(code, "IA103")]


@pytest.mark.parametrize("init", ["he(self.conv)", "self.conv.apply(he)"])
def test_a_block_s_own_init_is_judged_in_the_construction_returning_its_conv(init: str) -> None:
    # The block's conv feeds its norm, its ReLU or the output as it is built: in the holder,
    # ``last`` returns it as the model's output, ``first`` feeds its norm.
    found = own_init(", norm=False, act=None", init)
    assert len(found) == 1 and found[0].startswith("7: ") and "last.conv" in found[0] \
        and "model's output" in found[0], found


@pytest.mark.parametrize("last", ["", ", norm=False", ", norm=False, act=act"])
def test_a_block_s_own_init_stays_quiet_where_no_construction_returns_its_conv(last: str) -> None:
    assert own_init(last) == []
