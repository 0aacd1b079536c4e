"""A helper applied to a model that picks a block class of the project (``isinstance(m,
Block)``, the class imported from another file, by name or by ``*``) and writes a layer the
block holds (``m.conv.weight``): ``apply`` visits each instance of the block, and the tensor is
that layer's, so what it feeds is known (IA103). The class is the one the helper's own file
binds to the name."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.lint.selection import lint_selected
from tests.lint.test_project import findings, write

BLOCKS = """
from torch import nn


class Conv(nn.Module):
    def __init__(self, cin, cout, k):
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, k)

    def forward(self, x):
        return self.conv(x)


class Painter(nn.Module):
    def __init__(self, width=8):
        super().__init__()
        self.body = nn.Sequential(nn.Conv2d(4, width, 3), nn.BatchNorm2d(width), nn.ReLU())
        self.last = Conv(width, 3, 3)
        self.squash = nn.Tanh()

    def forward(self, z):
        return self.squash(self.last(self.body(z)))
"""

HELPER = """
import torch.nn.init as init
{imports}


def init_fn(m):
    if isinstance(m, {tested}):
        init.{init}(m.{member}.weight)
"""

TRAIN = """
from nets import Painter
from utils import init_fn


def build():
    painter = Painter()
    painter.apply(init_fn)
    return painter
"""


def project(tmp_path: Path, imports: str = "from nets import *", tested: str = "Conv",
            init: str = "kaiming_uniform_", member: str = "conv") -> list[tuple[str, int, str, str]]:
    helper = HELPER.format(imports=imports, tested=tested, init=init, member=member)
    root = write(tmp_path, {"pyproject.toml": "", "nets.py": BLOCKS, "utils.py": helper, "train.py": TRAIN})
    return [found for found in findings([root]) if found[2] == "IA103"]


@pytest.mark.parametrize(("imports", "tested"), [("from nets import *", "Conv"), ("from nets import Conv", "Conv"),
                                                 ("import nets", "nets.Conv")])
def test_he_on_the_layer_of_a_block_picked_by_its_class_is_reported(tmp_path: Path, imports: str, tested: str) -> None:
    found = project(tmp_path, imports, tested)
    assert [(name, line) for name, line, _, _ in found] == [("train.py", 8)]
    assert "painter.last.conv (Conv2d" in found[0][3] and "feeds tanh" in found[0][3]


@pytest.mark.parametrize(("init", "member"), [("xavier_uniform_", "conv"), ("kaiming_uniform_", "proj")])
def test_xavier_or_a_layer_the_block_does_not_hold_stays_quiet(tmp_path: Path, init: str, member: str) -> None:
    assert project(tmp_path, init=init, member=member) == []


def test_a_class_of_another_name_picks_nothing(tmp_path: Path) -> None:
    assert project(tmp_path, imports="from torch.nn import Conv1d", tested="Conv1d") == []


def test_in_one_file_the_block_layer_is_reached_too() -> None:
    helper = HELPER.format(imports="", tested="Conv", init="kaiming_uniform_", member="conv")
    found = lint_selected(BLOCKS + helper + "\n\npainter = Painter()\npainter.apply(init_fn)\n", "IA103")
    assert len(found) == 1 and "painter.last.conv (Conv2d) feeds tanh" in found[0].message


# Two instances of one block, built with different values of the attribute the helper tests.
FLAGGED = """
import torch.nn as nn
import torch.nn.init as init


class Conv(nn.Module):
    def __init__(self, cin, cout, k, scaled=True):
        super().__init__()
        self.scaled = scaled
        self.conv = nn.Conv2d(cin, cout, k)

    def forward(self, x):
        return self.conv(x)


class Painter(nn.Module):
    def __init__(self, width=8):
        super().__init__()
        self.first = Conv(4, width, 3, scaled={first})
        self.last = Conv(width, 3, 3)

    def forward(self, z):
        return self.last(self.first(z).tanh()).tanh()


def init_fn(m):
    if isinstance(m, Conv):
        if m.scaled:
            init.kaiming_uniform_(m.conv.weight)
        else:
            init.xavier_uniform_(m.conv.weight)


painter = Painter()
painter.apply(init_fn)
"""


def test_a_test_of_the_visited_instance_s_attribute_is_read_from_its_construction() -> None:
    found = lint_selected(FLAGGED.format(first="False"), "IA103")
    assert len(found) == 1 and "painter.last.conv (Conv2d) feeds tanh" in found[0].message


def test_an_attribute_the_construction_leaves_unknown_keeps_both_instances() -> None:
    found = lint_selected(FLAGGED.format(first="width > 4"), "IA103")
    assert len(found) == 1 and "painter.first.conv, painter.last.conv" in found[0].message
