"""Attributes named by printf-style formatting (``setattr(self, "conv%d" % i, block)``) as by the
other spellings Python gives the same name (``f"conv{i}"``, ``"conv{}".format(i)``), and read
back in ``forward`` with ``getattr`` as with an attribute access."""

from __future__ import annotations

import libcst as cst
import pytest

from initaudit.lint.model.modules import name_text
from tests.lint.selection import lint_selected

BLOCKS = """
import torch.nn as nn


class Blocks(nn.Module):
    def __init__(self, c):
        super().__init__()
        for i in range(2):
            setattr(self, {name}, nn.Sequential(nn.Conv2d(c, c, 3), nn.ReLU()))
        self.head = nn.Conv2d(c, 1, 1)
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.{init}(m.weight)

    def forward(self, x):
        for i in range(2):
            x = getattr(self, {name})(x)
        return self.head(x)
"""


@pytest.mark.parametrize("name", ["'conv%d' % i", "'conv%i' % (i,)", "f'conv{i}'"])
def test_layers_named_by_formatting_are_followed_through_getattr(name: str) -> None:
    found = lint_selected(BLOCKS.replace("{name}", name).replace("{init}", "xavier_normal_"), "IA103")
    assert [d.line for d in found] == [13] and "conv{i}.0" in found[0].message and "relu" in found[0].message


def test_he_on_layers_named_by_formatting_before_relu_is_right_but_not_on_the_head() -> None:
    found = lint_selected(BLOCKS.replace("{name}", "'conv%d' % i").replace("{init}", "kaiming_normal_"), "IA103")
    assert [d.line for d in found] == [13] and "head" in found[0].message and "conv{i}" not in found[0].message


@pytest.mark.parametrize(("expression", "name"), [
    ("'conv%d' % i", "conv{i}"),
    ("'c%d_%s' % (i, k)", "c{i}_{k}"),
    ("'c%02d' % (i + 1)", "c{i + 1}"),
    ("'a%%%d' % i", "a%{i}"),
    ("'x%(key)s' % values", None),  # a mapping key: read from a dict, not in order
    ("'x%d' % (i, j)", None),  # more values than conversions: a TypeError
    ("'x%d%d' % i", None),  # fewer
])
def test_printf_formatting_names_an_attribute_as_the_other_spellings_do(expression: str, name: str | None) -> None:
    assert name_text(cst.parse_expression(expression)) == name
