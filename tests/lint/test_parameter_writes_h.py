"""What a write reaches when it goes through a local name bound to a tensor (``data = p.data``
before ``data.normal_(0, std)``), with its scale written by hand from the tensor's own size in
each branch of a dimension test, inside a loop that ``apply`` runs on its receiver last."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import lint
from tests.lint.test_project import findings, write

HELPER = """\
import math
from torch import nn


def init_weights(module):
    if {test}:
        module.weight.data.normal_(0, 1)
    else:
        for p in module.parameters():
            data = p.data
            if data.dim() == 1:
                data.zero_()
            elif data.dim() == 2:
                n = data.size(1)
                stdv = 1. / math.sqrt(n)
                data.normal_(0, stdv)
            elif data.dim() in [3, 4]:
                n = data.size(1)
                for k in data.size()[2:]:
                    n *= k
                stdv = 1. / math.sqrt(n)
                data.normal_(0, stdv)
"""

MODEL = """\
import torch.nn as nn

from util import init_weights


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Sequential(nn.Conv2d(1, 8, 3), nn.{activation}())
        self.embed = nn.Embedding(10, 8)
        self.out = nn.Linear(8, 10)
        self.apply(init_weights)

    def forward(self, x, y):
        return self.out(self.conv(x).mean((2, 3)) + self.embed(y))
"""


def _project(tmp_path: Path, test: str, activation: str = "ReLU") -> list[tuple[str, int, str, str]]:
    root = write(tmp_path, {"pyproject.toml": "", "util.py": HELPER.format(test=test),
                            "net.py": MODEL.format(activation=activation)})
    return findings([root])


def test_a_local_name_bound_to_the_parameter_writes_the_parameter(tmp_path: Path) -> None:
    """``data = p.data``: the receiver's visit, the last, draws the table again through
    ``data``; the writes go through ``.data``, so autograd has nothing to reject."""
    found = _project(tmp_path, "type(module) == nn.Embedding")
    assert [(name, line, code) for name, line, code, _ in found if code in ("IA107", "IA111")] \
        == [("net.py", 12, "IA111")]
    assert "util.py:7" in next(message for _, _, code, message in found if code == "IA111")


def test_a_loop_the_receiver_never_takes_voids_nothing(tmp_path: Path) -> None:
    """The loop runs for Linear layers alone: the table keeps its draw."""
    found = _project(tmp_path, "not isinstance(module, nn.Linear)")
    assert [code for _, _, code, _ in found if code in ("IA107", "IA111")] == []


@pytest.mark.parametrize(("activation", "expected"), [("ReLU", [("net.py", 12)]), ("Tanh", [])])
def test_a_fan_computed_from_the_tensors_own_size_in_each_branch(tmp_path: Path, activation: str,
                                                               expected: list[tuple[str, int]]) -> None:
    """``stdv = 1. / math.sqrt(n)`` in both branches is gain 1 whichever runs; the branch for
    ``data.dim() in [3, 4]`` writes the convolution alone, which feeds a ReLU (or a tanh)."""
    found = [(name, line, message) for name, line, code, message in
             _project(tmp_path, "type(module) == nn.Embedding", activation) if code == "IA103"]
    assert [(name, line) for name, line, _ in found] == expected
    assert all("util.py:22" in message and "conv.0" in message for _, _, message in found)


BRANCHES = """
import math

import torch.nn as nn


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(1, 8, 3)
        self.fc = nn.Linear(8, 8)
        for p in self.parameters():
            if p.dim() > 1:
                if p.dim() in (3, 4):
                    fan = p[0].numel()
                    std = {conv_std}
                else:
                    fan = p.size(-1)
                    std = {other_std}
                p.data.normal_(0, std)

    def forward(self, x):
        return self.fc(self.conv(x).relu().mean((2, 3))).relu()
"""

GAIN_1 = "1. / math.sqrt(fan)"
HE = "math.sqrt(2. / fan)"


@pytest.mark.parametrize(("conv_std", "other_std", "reported"), [
    (GAIN_1, GAIN_1, [20]),
    (HE, HE, []),
    (GAIN_1, HE, []),
])
def test_a_scale_assigned_in_each_branch(conv_std: str, other_std: str, reported: list[int]) -> None:
    """Both branches assign a gain-1 std (or both He's): the draw after them has that gain, for
    every tensor. Where they differ, which one the draw gets depends on the tensor, so no one
    verdict is given for the draw."""
    found = [d.line for d in lint(BRANCHES.format(conv_std=conv_std, other_std=other_std)) if d.code == "IA103"]
    assert found == reported


DIMENSIONS = """
import math

import torch.nn as nn


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(1, 8, 3)
        self.fc = nn.Linear(8, 8)
        for p in self.parameters():
            if p.dim() in {listed}:
                p.data.normal_(0, 1. / math.sqrt(p[0].numel()))
            elif p.dim() == 2:
                p.data.normal_(0, math.sqrt(2. / p.size(1)))

    def forward(self, x):
        return self.fc(self.conv(x).relu().mean((2, 3))).relu()
"""


@pytest.mark.parametrize(("listed", "reported"), [("(3, 4)", "but conv (Conv2d) feeds relu"),
                                                  ("[2, 4]", "layers that feed relu: conv, fc;")])
def test_a_dimension_among_listed_ones_picks_those_parameters(listed: str, reported: str) -> None:
    """``p.dim() in (3, 4)`` picks the convolution's weight; a list holding 2 picks the
    Linear's too. The gain-1 draw is reported for the layers it reaches before a ReLU."""
    messages = [d.message for d in lint(DIMENSIONS.format(listed=listed)) if d.code == "IA103"]
    assert len(messages) == 1
    assert reported in messages[0]


ALIASED = """
import torch
import torch.nn as nn


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(8, 8)
        {body}

    def forward(self, x):
        return self.fc(x).relu()
"""


@pytest.mark.parametrize(("body", "reported"), [
    ("w = self.fc.weight.data\n        w.zero_()", [11]),
    ("w = self.fc.weight\n        with torch.no_grad():\n            w.fill_(0.5)", [12]),
    ("w = torch.empty(8, 8)\n        w.zero_()", []),
    ("w = self.fc.weight\n        for w in (self.fc.bias,):\n            nn.init.zeros_(w)", []),
    ("w = self.fc.weight.data\n        w = torch.empty(8, 8)\n        w.zero_()", []),
    ("w: torch.Tensor = self.fc.weight.data\n        w.zero_()", [11]),
    ("w = self.fc.weight.data\n        if (w := torch.empty(8, 8)) is not None:\n            w.zero_()", []),
])
def test_a_local_name_bound_to_a_layers_tensor(body: str, reported: list[int]) -> None:
    """A name bound to a layer's weight writes that weight (IA101 for zeros, IA102 for a
    constant); one bound to a tensor of its own, or bound again (by a loop to its items, by an
    assignment), does not."""
    assert [d.line for d in lint(ALIASED.format(body=body)) if d.code in ("IA101", "IA102")] == reported


DISPATCHED = """
import torch
import torch.nn as nn


def init(m):
    if isinstance(m, nn.Linear):
        w = {bound}
        w.data.fill_(0.5)


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(8, 8)
        self.apply(init)

    def forward(self, x):
        return self.fc(x).relu()
"""


@pytest.mark.parametrize(("bound", "reported"), [("m.weight", [9]), ("torch.empty_like(m.weight)", [])])
def test_a_local_name_bound_to_the_weight_of_the_module_visited(bound: str, reported: list[int]) -> None:
    """``w = m.weight`` in the function ``apply`` runs writes each Linear's weight."""
    assert [d.line for d in lint(DISPATCHED.format(bound=bound)) if d.code == "IA102"] == reported
