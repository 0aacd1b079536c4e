"""IA112: std values passed as gains, and the small-gain recipes that are deliberate."""

from __future__ import annotations

import pytest

from tests.conftest import lint

CYCLEGAN = '''
import torch.nn as nn
from torch.nn import init


def init_weights(net, init_type="normal", init_gain=0.02):
    def init_func(m):
        classname = m.__class__.__name__
        if hasattr(m, "weight") and (classname.find("Conv") != -1 or classname.find("Linear") != -1):
            if init_type == "normal":
                init.normal_(m.weight.data, 0.0, init_gain)
            elif init_type == "xavier":
                init.xavier_normal_(m.weight.data, gain=init_gain)
            elif init_type == "kaiming":
                init.kaiming_normal_(m.weight.data, a=0, mode="fan_in")
            elif init_type == "orthogonal":
                init.orthogonal_(m.weight.data, gain=init_gain)
        elif classname.find("BatchNorm2d") != -1:
            init.normal_(m.weight.data, 1.0, init_gain)
            init.constant_(m.bias.data, 0.0)

    net.apply(init_func)
'''

CLEANRL = '''
import numpy as np
import torch
import torch.nn as nn


def layer_init(layer, std=np.sqrt(2), bias_const=0.0):
    torch.nn.init.orthogonal_(layer.weight, std)
    torch.nn.init.constant_(layer.bias, bias_const)
    return layer


class Agent(nn.Module):
    def __init__(self, obs, actions):
        super().__init__()
        self.actor = nn.Sequential(
            layer_init(nn.Linear(obs, 64)), nn.Tanh(),
            layer_init(nn.Linear(64, 64)), nn.Tanh(),
            layer_init(nn.Linear(64, actions), std=0.01),
        )
'''

POLICY_HEAD = '''
import torch.nn as nn


class Policy(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = nn.Linear(8, 64)
        self.head = nn.Linear(64, 4)
        nn.init.orthogonal_(self.head.weight, gain=0.01)
        nn.init.orthogonal_(self.body.weight, gain=2 ** 0.5)

    def forward(self, x):
        return self.head(self.body(x).tanh())
'''


def ia112(code: str) -> list[tuple[int, str]]:
    return [(d.line, d.message) for d in lint(code) if d.code == "IA112"]


def test_cyclegan_helper_reports_both_gain_branches_only() -> None:
    found = ia112(CYCLEGAN)
    assert [line for line, _ in found] == [13, 17]
    assert "gain=0.02 (the default of init_gain) looks like a standard deviation" in found[0][1]
    assert "50x smaller" in found[0][1]


@pytest.mark.parametrize("body", [
    "nn.init.xavier_uniform_(self.fc.weight, gain=0.02)",
    "nn.init.xavier_normal_(self.fc.weight, 0.001)",
    "nn.init.orthogonal_(self.fc.weight, gain=1e-2)",
])
def test_literal_small_gain_before_an_activation(body: str) -> None:
    code = f'''
import torch.nn as nn


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(16, 16)
        self.out = nn.Linear(16, 2)
        {body}

    def forward(self, x):
        return self.out(self.fc(x).relu())
'''
    assert len(ia112(code)) == 1


@pytest.mark.parametrize("code", [
    CLEANRL,  # the small std reaches the policy head through a call site: not known here
    POLICY_HEAD,  # small-gain output layer: a deliberate recipe
    "import torch.nn as nn\nnn.init.xavier_uniform_(nn.Linear(2, 2).weight, gain=0.5)\n",
    "import torch.nn as nn\nnn.init.xavier_uniform_(nn.Linear(2, 2).weight, gain=nn.init.calculate_gain('tanh'))\n",
    # an inner parameter without a default shadows the outer default
    "import torch.nn as nn\n\ndef outer(gain=0.02):\n    def inner(w, gain):\n"
    "        nn.init.xavier_uniform_(w, gain=gain)\n    return inner\n",
    # a normal_ std of 0.02 is a std
    "import torch.nn as nn\nnn.init.normal_(nn.Linear(2, 2).weight, std=0.02)\n",
])
def test_not_reported(code: str) -> None:
    assert ia112(code) == []


def test_a_normalisation_after_the_layer_makes_it_info() -> None:
    code = '''
import torch.nn as nn


class LayerNorm2d(nn.LayerNorm):
    def forward(self, x):
        return super().forward(x.permute(0, 2, 3, 1)).permute(0, 3, 1, 2)


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.embedding = nn.Sequential(nn.PixelUnshuffle(2), nn.Conv2d(12, 32, 1), LayerNorm2d(32))
        self.body = nn.Conv2d(32, 32, 3)
        nn.init.xavier_uniform_(self.embedding[1].weight, 0.02)

    def forward(self, x):
        return self.body(self.embedding(x)).relu()
'''
    found = [d for d in lint(code) if d.code == "IA112"]
    assert [(d.line, d.severity.value) for d in found] == [(15, "info")]
    assert "a normalisation after the layer rescales its output" in found[0].message


#: A helper that passes its ``gain`` parameter on, called with a literal in a class whose use of
#: the layer {use}.
CALLER_PICKS = '''
import torch.nn as nn


def orthogonal_init(weight, gain):
    nn.init.orthogonal_(weight, gain)


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.rnn = nn.GRU(8, 8)
        self.body = nn.Linear(8, 8)
        self.head = nn.Linear(8, 2)
        {call}

    def forward(self, x):
        y, _ = self.rnn(x)
        return self.head(self.body(y).relu())
'''


@pytest.mark.parametrize("call", [
    # recurrent weights: their gates follow them inside the layer, never an output
    "for p in self.rnn.parameters():\n            if p.dim() > 1:\n                orthogonal_init(p, 0.01)",
    # a layer the forward shows feeding relu
    "orthogonal_init(self.body.weight, 0.01)",
])
def test_a_small_gain_the_caller_passes_for_a_known_layer(call: str) -> None:
    assert len(ia112(CALLER_PICKS.format(call=call))) == 1


def test_a_small_gain_the_caller_passes_for_a_head_is_its_choice() -> None:
    assert ia112(CALLER_PICKS.format(call="orthogonal_init(self.head.weight, 0.01)")) == []


FLAGGED_ARM = '''
import torch
import torch.nn as nn


def init_linear(m, final_layer=False):
    nn.init.orthogonal_(m.weight)
    if final_layer:
        nn.init.orthogonal_(m.weight, gain=0.01)


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = nn.Linear(8, 8)
        self.head = nn.Linear(8, 2)
        {calls}

    def forward(self, x):
        return self.head(self.body(x).relu())
'''


@pytest.mark.parametrize(("calls", "expected"), [
    ("init_linear(self.body)\n        init_linear(self.head, final_layer=True)", []),  # the head's recipe
    ("init_linear(self.body, final_layer=True)", [9]),  # the arm reaches a hidden layer
])
def test_a_small_gain_in_the_arm_of_a_flag_the_caller_sets(calls: str, expected: list[int]) -> None:
    assert [line for line, _ in ia112(FLAGGED_ARM.format(calls=calls))] == expected


def test_a_small_gain_in_the_arm_of_a_flag_of_a_helper_applied_by_class_name() -> None:
    # Which classes take the arm is the caller's choice (a table of lambdas by class name): not in view.
    code = '''
import torch.nn as nn


def weights_init(m):
    def init_linear(m, final_layer=False):
        nn.init.orthogonal_(m.weight.data)
        if final_layer:
            nn.init.orthogonal_(m.weight.data, gain=0.01)

    table = {"LinearFinal": lambda m: init_linear(m, final_layer=True), "Linear": init_linear}
    fn = table.get(m.__class__.__name__)
    if fn is not None:
        fn(m)
'''
    assert ia112(code) == []
