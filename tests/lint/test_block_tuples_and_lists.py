"""A block returning a tuple (WaveNet's ``return skips, residual``): each item is an output of its
own, so the skip path is judged by what the holder makes of it, not by the residual sum beside it.
The blocks may be kept in a list on ``self`` before it is wrapped (``self.blocks += [...]``,
``nn.ModuleList(self.blocks)``), and the skips summed with the builtin ``sum``."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.lint.selection import lint_selected
from tests.lint.test_project import findings, write

BLOCK = """
import torch
from torch import nn


class Block(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.skip_conv = nn.Conv1d(c, c, 1)
        self.residual_conv = nn.Conv1d(c, c, 1)
        nn.init.xavier_uniform_(self.skip_conv.weight)

    def forward(self, inputs):
        gates = torch.tanh(inputs) * torch.sigmoid(inputs)
        return self.skip_conv(gates), self.residual_conv(gates) + inputs
"""

HOLDER = """
import torch
from torch import nn
{imports}


class Net(nn.Module):
    def __init__(self, c, n):
        super().__init__()
{blocks}
        self.head = nn.Sequential(nn.{head}(), nn.Conv1d(c, c, 1))

    def forward(self, x):
        skips = []
        for block in self.blocks:
            skip, x = block(x)
            skips.append(skip)
        return self.head({total})
"""

SELF_LIST = """        self.blocks = []
        for _ in range(2):
            self.blocks += [Block(c) for _ in range(n)]
        self.blocks = nn.ModuleList(self.blocks)"""
COMPREHENSION = "        self.blocks = nn.ModuleList([Block(c) for _ in range(n)])"
SELF_APPENDS = """        self.blocks = []
        for _ in range(n):
            self.blocks.append(Block(c))
        self.blocks = nn.ModuleList(self.blocks)"""
STACKED = "torch.stack(skips, dim=0).sum(dim=0)"


def ia103(code: str) -> list[int]:
    return [d.line for d in lint_selected(code, "IA103")]


@pytest.mark.parametrize("blocks", [SELF_LIST, COMPREHENSION, SELF_APPENDS])
@pytest.mark.parametrize("total", [STACKED, "sum(skips)"])
def test_the_skips_of_a_tuple_feed_the_holders_head(blocks: str, total: str) -> None:
    code = BLOCK + HOLDER.format(imports="", blocks=blocks, head="ReLU", total=total)
    assert ia103(code) == [11]  # Xavier before the head's ReLU


def test_skips_into_a_tanh_head_suit_xavier() -> None:
    assert ia103(BLOCK + HOLDER.format(imports="", blocks=SELF_LIST, head="Tanh", total=STACKED)) == []


def test_a_tuple_returned_by_the_root_keeps_its_items_apart() -> None:
    # The skips are the model's output; only the residual sum is a residual output.
    code = BLOCK.replace("nn.init.xavier_uniform_(self.skip_conv.weight)",
                         "nn.init.zeros_(self.skip_conv.weight)")
    assert [d.line for d in lint_selected(code, "IA101")] == []  # an output layer may start at zero
    residual = BLOCK.replace("nn.init.xavier_uniform_(self.skip_conv.weight)",
                             "nn.init.kaiming_normal_(self.skip_conv.weight)")
    assert ia103(residual) == [11]  # He before the model's linear output


def test_a_block_of_another_file_returning_a_tuple(tmp_path: Path) -> None:
    root = write(tmp_path, {
        "pyproject.toml": "", "pkg/__init__.py": "", "pkg/layers.py": BLOCK,
        "pkg/net.py": HOLDER.format(imports="from .layers import Block", blocks=SELF_LIST, head="ReLU",
                                    total=STACKED),
    })
    found = [(name, line) for name, line, code, _ in findings([root]) if code == "IA103"]
    assert found == [("net.py", 12)]  # reported where the holder builds the blocks


def test_a_block_initialised_by_a_helper_of_a_third_file(tmp_path: Path) -> None:
    # utils.py writes the init, layers.py calls it on the block's layer, net.py builds the blocks
    # and puts a ReLU after their skips: only net.py sees the whole chain.
    helper = "from torch import nn\n\n\ndef init_xavier(layer):\n    nn.init.xavier_uniform_(layer.weight)\n"
    block = BLOCK.replace("from torch import nn\n", "from torch import nn\nfrom .utils import init_xavier\n") \
        .replace("nn.init.xavier_uniform_(self.skip_conv.weight)", "init_xavier(self.skip_conv)")
    root = write(tmp_path, {
        "pyproject.toml": "", "pkg/__init__.py": "", "pkg/utils.py": helper, "pkg/layers.py": block,
        "pkg/net.py": HOLDER.format(imports="from .layers import Block", blocks=COMPREHENSION, head="ReLU",
                                    total="sum(skips)"),
    })
    found = [(name, line, message) for name, line, code, message in findings([root]) if code == "IA103"]
    assert [(name, line) for name, line, _ in found] == [("net.py", 10)]
    assert "(written at pkg/utils.py:5)" in found[0][2] and "blocks.0.skip_conv" in found[0][2]


NORMED = """
import torch.nn as nn
import torch.nn.functional as F


class Down(nn.Module):
    def __init__(self, c, blocks=0):
        super().__init__()
        self.conv = nn.Conv2d(c, c, 3)
        self.bn = []
        for _ in range(blocks + 1):
            self.bn.append(nn.InstanceNorm2d(c))
            self.bn = nn.ModuleList(self.bn)
        nn.init.xavier_normal_(self.conv.weight)

    def forward(self, x):
        x = self.conv(x)
        if {test}:
            x = self.bn[0](x)
        return F.relu(x)
"""


@pytest.mark.parametrize(("test", "expected"), [
    ("self.bn", []),  # a ModuleList holding a norm is true: the norm follows the conv
    ("not self.bn", [14]),  # never true: the conv feeds the ReLU
    ("self.use_bn", [14]),  # unknown: on the path without the norm the conv feeds the ReLU
])
def test_a_container_holding_modules_is_true(test: str, expected: list[int]) -> None:
    assert ia103(NORMED.format(test=test)) == expected
