"""A loop with one variable over an iterable of pairs (``named_modules()``, ``enumerate(...)``)
binds that variable to a (name, item) tuple: ``isinstance`` of it against a layer class is never
true, so the branch writes nothing; unpacked, the same loop writes every matching layer."""

from __future__ import annotations

import pytest

from tests.lint.selection import lint_selected

LEAKY = """
import torch.nn as nn


class Head(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(8, 8, 3)
        self.act = nn.LeakyReLU(0.2)
        for {target} in {iterated}:
            if isinstance(layer, nn.Conv2d):
                nn.init.kaiming_normal_(layer.weight)

    def forward(self, x):
        return self.act(self.conv(x))
"""

PAIRS = ("self.named_modules()", "self.named_children()", "enumerate(self.modules())")


@pytest.mark.parametrize("iterated", PAIRS)
def test_an_unpacked_pair_loop_reaches_the_layer(iterated: str) -> None:
    found = lint_selected(LEAKY.format(target="_, layer", iterated=iterated), "IA109")
    assert [d.line for d in found] == [12]


@pytest.mark.parametrize("iterated", PAIRS)
def test_one_variable_over_pairs_reaches_no_layer(iterated: str) -> None:
    assert lint_selected(LEAKY.format(target="layer", iterated=iterated), "IA109") == []


def test_one_variable_over_modules_still_reaches_the_layer() -> None:
    found = lint_selected(LEAKY.format(target="layer", iterated="self.modules()"), "IA109")
    assert [d.line for d in found] == [12]


OVERWRITE = """
import torch.nn as nn


class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(8, 8)
        nn.init.xavier_uniform_(self.fc.weight)
        for {target} in self.named_modules():
            if isinstance(m, nn.Linear):
                nn.init.normal_(m.weight, std=0.02)

    def forward(self, x):
        return self.fc(x)
"""


def test_a_pair_loop_unpacked_overwrites_the_earlier_init() -> None:
    assert [d.line for d in lint_selected(OVERWRITE.format(target="name, m"), "IA111")] == [9]


def test_a_tuple_never_passes_the_class_test_so_nothing_is_overwritten() -> None:
    assert lint_selected(OVERWRITE.format(target="m"), "IA111") == []
