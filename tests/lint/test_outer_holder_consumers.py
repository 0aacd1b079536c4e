"""What a block's layer feeds is read in the outermost model holding it, whose forward runs the
block among the others: a pre-activation residual block's last conv feeds the next block's norm
there, though inside its own block it only meets a sum and a gate's Linear."""

from __future__ import annotations

import pytest

from tests.lint.selection import lint_selected

PREACT = """
import torch.nn as nn
import torch.nn.functional as F


class Gate(nn.Module):
    def __init__(self, n):
        super().__init__()
        self.fc = nn.Linear(n, n)

    def forward(self, x):
        y = self.fc(F.adaptive_avg_pool1d(x, 1).flatten(1)).sigmoid().unsqueeze(-1)
        return x * y + y


class Block(nn.Module):
    def __init__(self, n):
        super().__init__()
        self.bn1 = nn.BatchNorm1d(n)
        self.conv1 = nn.Conv1d(n, n, 3, padding=1)
        self.bn2 = nn.BatchNorm1d(n)
        self.conv2 = nn.Conv1d(n, n, 3, padding=1)
        self.gate = Gate(n)

    def forward(self, x):
        out = self.conv1(F.leaky_relu(self.bn1(x), 0.3))
        out = self.conv2(F.leaky_relu(self.bn2(out), 0.3))
        out = out + x
        return self.gate(out)


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.blocks = nn.Sequential(Block(16), Block(16))
        self.bn = nn.BatchNorm1d(16)
        self.head = nn.Linear(16, 4)

    def forward(self, x):
        x = F.leaky_relu(self.bn(self.blocks(x)), 0.3)
        return self.head(x.mean(-1))


def init_weights(m):
    if isinstance(m, nn.Conv1d):
        nn.init.kaiming_normal_(m.weight, a=0.01)


{applied}
"""


@pytest.mark.parametrize("applied", ["model = Net()\nmodel.apply(init_weights)",
                                     "def main():\n    model = Net()\n    model.apply(init_weights)"])
def test_a_residual_blocks_last_conv_feeding_the_next_norm_is_not_judged(applied: str) -> None:
    assert lint_selected(PREACT.format(applied=applied), "IA103") == []


def test_what_the_outer_model_puts_after_the_block_judges_its_last_conv() -> None:
    """One block, its output squashed by tanh in the model: He's leaky-ReLU gain suits no tanh."""
    code = PREACT.format(applied="model = Net()\nmodel.apply(init_weights)").replace(
        "x = F.leaky_relu(self.bn(self.blocks(x)), 0.3)", "x = torch.tanh(self.blocks(x))").replace(
        "self.blocks = nn.Sequential(Block(16), Block(16))", "self.blocks = nn.Sequential(Block(16))").replace(
        "import torch.nn as nn\n", "import torch\nimport torch.nn as nn\n", 1)
    found = lint_selected(code, "IA103")
    assert [d.code for d in found] == ["IA103"]
    assert "model.blocks.0.conv2" in found[0].message and "feeds tanh" in found[0].message
