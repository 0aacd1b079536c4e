"""IA113: fan-ins read from the output dimension, and the fan-out conventions that are meant."""

from __future__ import annotations

from pathlib import Path

import pytest

from initaudit.config import Config
from initaudit.lint.run.runner import run_lint
from tests.conftest import lint

#: The DDPG actor as it is copied across reinforcement-learning repositories.
DDPG = '''
import numpy as np
import torch
import torch.nn as nn


def fanin_init(size, fanin=None):
    fanin = fanin or size[0]
    v = 1. / np.sqrt(fanin)
    return torch.Tensor(size).uniform_(-v, v)


class Actor(nn.Module):
    def __init__(self, nb_states, nb_actions, hidden1=400, hidden2=300, init_w=3e-3):
        super(Actor, self).__init__()
        self.fc1 = nn.Linear(nb_states, hidden1)
        self.fc2 = nn.Linear(hidden1, hidden2)
        self.fc3 = nn.Linear(hidden2, nb_actions)
        self.relu = nn.ReLU()
        self.tanh = nn.Tanh()
        self.init_weights(init_w)

    def init_weights(self, init_w):
        self.fc1.weight.data = {first}
        self.fc2.weight.data = fanin_init(self.fc2.weight.data.size())
        self.fc3.weight.data.uniform_(-init_w, init_w)

    def forward(self, x):
        out = self.relu(self.fc1(x))
        out = self.relu(self.fc2(out))
        return self.tanh(self.fc3(out))
'''


def ia113(code: str) -> list[tuple[int, str]]:
    return [(d.line, d.message) for d in lint(code) if d.code == "IA113"]


def test_ddpg_fanin_init_is_reported_at_each_call_with_a_weight_shape() -> None:
    found = ia113(DDPG.format(first="fanin_init(self.fc1.weight.data.size())"))
    assert [line for line, _ in found] == [24, 25]
    assert "fanin_init() takes the fan-in of fc1.weight (Linear) from size[0] (line 8)" in found[0][1]
    assert "Pass fanin= (dimension 1)" in found[0][1]


@pytest.mark.parametrize("first", [
    "fanin_init(self.fc1.weight.data.size(), fanin=self.fc1.weight.size(1))",
    "fanin_init(self.fc1.weight.data.size(), nb_states)",
])
def test_ddpg_fanin_init_given_the_fan_in_is_quiet(first: str) -> None:
    assert [line for line, _ in ia113(DDPG.format(first=first))] == [25]


def test_ddpg_helper_reading_dimension_1_is_quiet() -> None:
    code = DDPG.format(first="fanin_init(self.fc1.weight.data.size())").replace("size[0]", "size[1]")
    assert ia113(code) == []


LAYER = '''
import math
import torch.nn as nn


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(784, 256)
        self.conv = nn.Conv2d(3, 64, 3)
        self.up = nn.ConvTranspose2d(64, 3, 4)
        self.square = nn.Linear(256, 256)
        self.reset_parameters()

    def reset_parameters(self):
        {init}

    def forward(self, x):
        return self.fc(x.flatten(1)).relu()
'''


@pytest.mark.parametrize("init, read", [
    ("stdv = 1. / math.sqrt(self.fc.weight.size(0)); self.fc.weight.data.uniform_(-stdv, stdv)",
     "self.fc.weight.size(0)"),
    ("nn.init.normal_(self.fc.weight, 0, self.fc.weight.shape[0] ** -0.5)", "self.fc.weight.shape[0]"),
    ("nn.init.normal_(self.fc.weight, std=math.sqrt(2.0 / self.fc.weight.size()[0]))",
     "self.fc.weight.size()[0]"),
    ("fan_in = self.fc.weight.shape[0]; nn.init.normal_(self.fc.weight, 0, 0.5 / fan_in)",
     "self.fc.weight.shape[0]"),
    ("w = self.conv.weight; b = 1 / math.sqrt(w.size(0)); nn.init.uniform_(self.conv.weight, -b, b)",
     "w.size(0)"),
    ("n = self.conv.out_channels * 9  # fan-in\n        self.conv.weight.data.normal_(0, math.sqrt(2. / n))",
     "self.conv.out_channels"),
    # with the kernel's size too, but named a fan-in
    ("fan_in = self.conv.weight.size(0) * self.conv.weight.size(2) * self.conv.weight.size(3)\n"
     "        nn.init.normal_(self.conv.weight, 0, math.sqrt(2. / fan_in))", "self.conv.weight.size(0)"),
])
def test_dimension_0_used_as_a_fan_in_is_reported(init: str, read: str) -> None:
    found = ia113(LAYER.format(init=init))
    assert len(found) == 1
    assert found[0][1].startswith(f"{read} is used as the fan-in of ")


@pytest.mark.parametrize("init", [
    # torch's own Linear idiom: dimension 1 is the fan-in
    "stdv = 1. / math.sqrt(self.fc.weight.size(1)); self.fc.weight.data.uniform_(-stdv, stdv)",
    # torchvision's He init in fan_out mode, documented as such
    "n = self.conv.kernel_size[0] * self.conv.kernel_size[1] * self.conv.out_channels\n"
    "        self.conv.weight.data.normal_(0, math.sqrt(2. / n))",
    "fan_out = self.fc.weight.size(0); nn.init.normal_(self.fc.weight, 0, math.sqrt(2.0 / fan_out))",
    "b = 1 / math.sqrt(self.fc.weight.size(0))  # fan_out on purpose\n        nn.init.uniform_(self.fc.weight, -b, b)",
    # square: both dimensions are the fan-in
    "b = 1 / math.sqrt(self.square.weight.size(0)); nn.init.uniform_(self.square.weight, -b, b)",
    # ConvTranspose weights are (in, out/groups, *k)
    "b = 1 / math.sqrt(self.up.weight.size(0)); nn.init.uniform_(self.up.weight, -b, b)",
    # dimension 0 not used as a scale
    "nn.init.normal_(self.fc.weight, 0, 0.02); print(self.fc.weight.size(0))",
    # the bias's bound from the weight's out dimension is not a weight's fan-in
    "b = 1 / math.sqrt(self.fc.weight.size(0)); nn.init.uniform_(self.fc.bias, -b, b)",
    # dimension 0 times the kernel's size: the fan-out written out in full (He, fan_out mode)
    "w = self.conv.weight; n = w.size(0) * w.size(2) * w.size(3); w.data.normal_().mul_(math.sqrt(2. / n))",
    "n = self.conv.weight.shape[0] * self.conv.kernel_size[0] ** 2\n"
    "        nn.init.normal_(self.conv.weight, 0, math.sqrt(2. / n))",
])
def test_fan_in_and_deliberate_fan_out_are_quiet(init: str) -> None:
    assert ia113(LAYER.format(init=init)) == []


def test_bare_parameter_of_unknown_layout_is_not_judged() -> None:
    code = '''
    import math
    import torch
    import torch.nn as nn


    class GraphConvolution(nn.Module):
        def __init__(self, in_features, out_features):
            super().__init__()
            self.weight = nn.Parameter(torch.FloatTensor(in_features, out_features))
            stdv = 1. / math.sqrt(self.weight.size(0))
            self.weight.data.uniform_(-stdv, stdv)

        def forward(self, x, adj):
            return torch.spmm(adj, torch.mm(x, self.weight))
    '''
    assert ia113(code) == []


def test_in_place_helper_applied_to_a_linear_weight_is_reported_in_the_helper() -> None:
    code = '''
    import numpy as np
    import torch.nn as nn


    def fanin_init(tensor):
        size = tensor.size()
        if len(size) == 2:
            fan_in = size[0]
        elif len(size) > 2:
            fan_in = np.prod(size[1:])
        else:
            raise Exception("Shape must be have dimension at least 2.")
        bound = 1. / np.sqrt(fan_in)
        return tensor.data.uniform_(-bound, bound)


    class Mlp(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc0 = nn.Linear(10, 64)
            self.fc1 = nn.Linear(64, 64)
            self.last_fc = nn.Linear(64, 2)
            fanin_init(self.fc0.weight)
            fanin_init(self.fc1.weight)

        def forward(self, x):
            return self.last_fc(self.fc1(self.fc0(x).relu()).relu())
    '''
    found = ia113(code)
    assert [line for line, _ in found] == [9]
    assert "size[0] is used as the fan-in of fc0.weight (Linear)" in found[0][1]


def test_dispatch_in_an_applied_function_is_reported() -> None:
    code = '''
    import math
    import torch.nn as nn


    def init_weights(m):
        if isinstance(m, nn.Linear):
            bound = 1 / math.sqrt(m.weight.size(0))
            nn.init.uniform_(m.weight, -bound, bound)


    model = nn.Sequential(nn.Linear(784, 128), nn.ReLU(), nn.Linear(128, 10))
    model.apply(init_weights)
    '''
    found = ia113(code)
    assert [line for line, _ in found] == [8]
    assert "the weight of 2 Linear layers (model.0, model.2)" in found[0][1]


# ---------------------------------------------------------------- a helper of another file

HIDDEN_INIT = """\
import numpy as np


def hidden_init(layer):
    fan_in = layer.weight.data.size()[0]
    lim = 1. / np.sqrt(fan_in)
    return -lim, lim
"""

ACTOR = """\
import torch.nn as nn
import torch.nn.functional as F
{imports}


class Actor(nn.Module):
    def __init__(self, state_size, action_size):
        super().__init__()
        self.fc1 = nn.Linear(state_size, 400)
        self.fc2 = nn.Linear(400, 300)
        self.fc3 = nn.Linear(300, action_size)
        self.fc1.weight.data.uniform_(*{helper}(self.fc1))
        self.fc2.weight.data.uniform_(*{helper}(self.fc2))
        self.fc3.weight.data.uniform_(-3e-3, 3e-3)

    def forward(self, state):
        return F.tanh(self.fc3(F.relu(self.fc2(F.relu(self.fc1(state))))))
"""


@pytest.mark.parametrize("imports, helper", [
    ("from utils import hidden_init", "hidden_init"),
    ("import utils", "utils.hidden_init"),
    ("from utils import hidden_init as bounds", "bounds"),
])
def test_bounds_returned_by_another_files_helper_are_read_there(tmp_path: Path, imports: str, helper: str) -> None:
    """``uniform_(*hidden_init(self.fc1))`` with ``hidden_init`` imported: its returned bounds are
    read in the file that writes it, and the finding names that line."""
    (tmp_path / "utils.py").write_text(HIDDEN_INIT, encoding="utf-8")
    (tmp_path / "actor.py").write_text(ACTOR.format(imports=imports, helper=helper), encoding="utf-8")
    run = run_lint([tmp_path], Config(), jobs=1)
    found = [(Path(d.path).name, d.line, d.message, d.related) for r in run for d in r.diagnostics]
    assert [(name, line) for name, line, _, _ in found] == [("actor.py", 12), ("actor.py", 13)]
    assert all("(read at utils.py:5)" in message for _, _, message, _ in found)
    assert all([(r.path.rsplit("/", 1)[-1], r.line) for r in related] == [("utils.py", 5)]
               for _, _, _, related in found)


def test_bounds_of_another_files_helper_reading_dimension_1_are_quiet(tmp_path: Path) -> None:
    (tmp_path / "utils.py").write_text(HIDDEN_INIT.replace("size()[0]", "size()[1]"), encoding="utf-8")
    (tmp_path / "actor.py").write_text(ACTOR.format(imports="from utils import hidden_init",
                                                    helper="hidden_init"), encoding="utf-8")
    assert [d for r in run_lint([tmp_path], Config(), jobs=1) for d in r.diagnostics] == []
