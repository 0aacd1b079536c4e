"""A helper of another file that a string argument sends to one of its branches, each applying
another function (``init_weights(m, init_type="kaiming")``), called on each module of a loop:
run by a block of another file when it is built, and again by the holder's loop over its
modules, which voids the block's run."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.lint.test_project import findings, write

HELPERS = """
from torch.nn import init


def weights_init_normal(m):
    classname = m.__class__.__name__
    if classname.find('Conv') != -1:
        init.normal_(m.weight.data, 0.0, 0.02)


def weights_init_kaiming(m):
    classname = m.__class__.__name__
    if classname.find('Conv') != -1:
        init.kaiming_normal_(m.weight.data, a=0, mode='fan_in')
    elif classname.find('BatchNorm') != -1:
        init.normal_(m.weight.data, 1.0, 0.02)
        init.constant_(m.bias.data, 0.0)


def init_weights(net, init_type='normal'):
    if init_type == 'normal':
        net.apply(weights_init_normal)
    elif init_type == 'kaiming':
        net.apply(weights_init_kaiming)
    else:
        raise NotImplementedError(init_type)
"""

BLOCKS = """
import torch.nn as nn
from pkg.helpers import init_weights


class Double(nn.Module):
    def __init__(self, n, m):
        super().__init__()
        self.conv1 = nn.Sequential(nn.Conv2d(n, m, 3), nn.BatchNorm2d(m), nn.ReLU())
        self.conv2 = nn.Sequential(nn.Conv2d(m, m, 3), nn.BatchNorm2d(m), nn.ReLU())
        for c in self.children():
            {block}

    def forward(self, x):
        return self.conv2(self.conv1(x))
"""

NET = """
import torch.nn as nn
from pkg.blocks import Double
from pkg.helpers import init_weights


class Net(nn.Module):
    def __init__(self, n, mode='kaiming'):
        super().__init__()
        self.down = Double(3, n)
        self.final = nn.Conv2d(n, 2, 1)
        for m in self.modules():
            if isinstance(m, {conv}):
                {holder}
            elif isinstance(m, nn.BatchNorm2d):
                {holder}

    def forward(self, x):
        return self.final(self.down(x))
"""


def overwritten(tmp_path: Path, *, block: str = "init_weights(c, init_type='kaiming')",
                holder: str = "init_weights(m, init_type='kaiming')", conv: str = "nn.Conv2d") -> list[tuple[str, int]]:
    root = write(tmp_path, {"pyproject.toml": "", "pkg/__init__.py": "", "pkg/helpers.py": HELPERS,
                            "pkg/blocks.py": BLOCKS.replace("{block}", block),
                            "pkg/net.py": NET.replace("{holder}", holder).replace("{conv}", conv)})
    return [(name, line) for name, line, code, _ in findings([root / "pkg"]) if code == "IA111"]


def test_the_holders_loop_running_the_helper_again_voids_the_blocks_run(tmp_path: Path) -> None:
    """The block's ``init_weights(c, "kaiming")`` writes its convolutions and norms; the
    holder's loop runs the same branch on each of them afterwards: reported at both of the
    holder's calls, the string's test being decided by the calls."""
    root = tmp_path
    assert overwritten(root) == [("net.py", 14), ("net.py", 16), ("net.py", 16)]
    messages = [message for name, _, code, message in findings([root / "pkg"]) if code == "IA111"]
    assert any("down.conv1.0" in message and "helpers.py:14" in message for message in messages)


def test_another_branch_picked_by_the_holder_still_voids_the_blocks_run(tmp_path: Path) -> None:
    assert ("net.py", 14) in overwritten(tmp_path, holder="init_weights(m, init_type='normal')")


@pytest.mark.parametrize("holder", [
    # the branch follows the holder's own parameter: another caller's choice
    "init_weights(m, init_type=mode)",
    # a name that is in no branch: the helper raises
    "init_weights(m, init_type='orthogonal')",
    "pass",
])
def test_a_run_the_call_leaves_open_or_none_voids_nothing(tmp_path: Path, holder: str) -> None:
    assert overwritten(tmp_path, holder=holder) == []


def test_a_holder_loop_picking_none_of_the_blocks_convolutions_leaves_their_init(tmp_path: Path) -> None:
    """``isinstance(m, nn.ConvTranspose2d)`` picks no ``Conv2d``; the norms are still written again."""
    assert overwritten(tmp_path, conv="nn.ConvTranspose2d") == [("net.py", 16), ("net.py", 16)]


def test_a_block_run_under_its_own_condition_is_not_the_blocks_init(tmp_path: Path) -> None:
    """``if n > 8:`` decides whether the block initialises at all: what the holder writes
    afterwards replaces an init that may never have run."""
    assert overwritten(tmp_path, block="if n > 8:\n                init_weights(c, init_type='kaiming')") == []
