"""Builder functions (``mlp(sizes, activation)``, VGG's ``make_layers``) summarised once and
expanded at each call, with the activation and tests passed there."""

from __future__ import annotations

import textwrap
from pathlib import Path

import libcst as cst
import pytest

from initaudit.lint.model.builders import BuiltStep
from initaudit.lint.model.file_model import FileModel
from tests.lint.selection import lint_selected, selecting
from tests.lint.test_project import findings, write

MLP = '''
import torch.nn as nn


def mlp(sizes, activation=nn.Tanh, output_activation=nn.Identity):
    layers = []
    for j in range(len(sizes) - 1):
        act = activation if j < len(sizes) - 2 else output_activation
        layers += [nn.Linear(sizes[j], sizes[j + 1]), act()]
    return nn.Sequential(*layers)


class Actor(nn.Module):
    def __init__(self, obs_dim, act_dim, hidden=(64, 64), act_fn=nn.ReLU):
        super().__init__()
        self.net = {call}
        {init}

    def forward(self, obs):
        return self.net(obs)
'''

XAVIER_LOOP = '''for m in self.net.modules():
            if isinstance(m, nn.Linear):
                nn.init.xavier_uniform_(m.weight)'''


def model_of(code: str) -> FileModel:
    text = textwrap.dedent(code)
    return FileModel(cst.parse_module(text), text)


def found(code: str, rule: str) -> list[tuple[int, str]]:
    return [(d.line, d.message) for d in lint_selected(code, rule)]


def test_mlp_is_summarised_as_plain_data() -> None:
    summary = model_of(MLP.format(call="mlp([obs_dim, act_dim])", init="")).builders["mlp"]
    assert summary.parameters == ("sizes", "activation", "output_activation")
    assert dict(summary.defaults) == {"activation": "Tanh", "output_activation": "Identity"}
    assert summary.prefix == summary.suffix == ()
    assert summary.body == (BuiltStep("Linear"), BuiltStep(parameter="activation", last=False),
                            BuiltStep(parameter="output_activation", last=True))
    assert summary == model_of(MLP.format(call="None", init="")).builders["mlp"]  # compared as data


@pytest.mark.parametrize("call", [
    "mlp([obs_dim, *hidden, act_dim], nn.ReLU)",
    "mlp([obs_dim, *hidden, act_dim], activation=nn.ReLU)",
    "mlp([obs_dim, *hidden, act_dim], act_fn)",  # the caller's default
])
def test_activation_passed_at_the_call_reaches_the_hidden_layers_only(call: str) -> None:
    findings = found(MLP.format(call=call, init=XAVIER_LOOP), "IA103")
    assert len(findings) == 1
    assert "but net.0 (Linear) feeds relu" in findings[0][1]  # the output layer net.-2 feeds nothing


def test_default_activation_of_the_builder_applies() -> None:
    assert found(MLP.format(call="mlp([obs_dim, *hidden, act_dim])", init=XAVIER_LOOP), "IA103") == []
    kaiming = XAVIER_LOOP.replace("xavier_uniform_(m.weight)", 'kaiming_uniform_(m.weight, nonlinearity="relu")')
    messages = [m for _, m in found(MLP.format(call="mlp([obs_dim, *hidden, act_dim])", init=kaiming), "IA103")]
    assert len(messages) == 2
    assert any("net.0 (Linear) feeds tanh" in m for m in messages)
    assert any("net.-2 (Linear) feeds no activation" in m for m in messages)


@pytest.mark.parametrize("index, expected", [("0", ["IA101"]), ("-2", []), ("2", [])])
def test_first_and_last_layers_are_addressed_from_their_end(index: str, expected: list[str]) -> None:
    # net[0] is a hidden layer (feeds ReLU), net[-2] the output layer (a zero start there is a
    # known recipe); net[2] depends on the depth, which is not known.
    code = MLP.format(call="mlp([obs_dim, *hidden, act_dim], nn.ReLU)",
                      init=f"nn.init.zeros_(self.net[{index}].weight)")
    assert [d.code for d in lint_selected(code, "IA101")] == expected


def test_activation_appended_under_a_last_iteration_test() -> None:
    code = '''
    import torch.nn as nn


    def build(sizes, activation=nn.ReLU):
        layers = []
        for i in range(len(sizes) - 1):
            layers.append(nn.Linear(sizes[i], sizes[i + 1]))
            if i < len(sizes) - 2:
                layers.append(activation())
        return nn.Sequential(*layers)


    class Critic(nn.Module):
        def __init__(self):
            super().__init__()
            self.q = build([8, 256, 256, 1])
            for layer in self.q:
                if isinstance(layer, nn.Linear):
                    nn.init.xavier_normal_(layer.weight)

        def forward(self, x):
            return self.q(x)
    '''
    findings = found(code, "IA103")
    assert len(findings) == 1 and "q.0 (Linear) feeds relu" in findings[0][1]


VGG = '''
from typing import List, Union

import torch.nn as nn


def make_layers(cfg: List[Union[str, int]], batch_norm: bool = False) -> nn.Sequential:
    layers: List[nn.Module] = []
    in_channels = 3
    for v in cfg:
        if v == "M":
            layers += [nn.MaxPool2d(kernel_size=2, stride=2)]
        else:
            conv2d = nn.Conv2d(in_channels, v, kernel_size=3, padding=1)
            if batch_norm:
                layers += [conv2d, nn.BatchNorm2d(v), nn.ReLU(inplace=True)]
            else:
                layers += [conv2d, nn.ReLU(inplace=True)]
            in_channels = v
    return nn.Sequential(*layers)


class VGG(nn.Module):
    def __init__(self):
        super().__init__()
        self.features = {call}
        self.classifier = nn.Linear(512, 10)
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.xavier_normal_(m.weight)

    def forward(self, x):
        return self.classifier(self.features(x).flatten(1))
'''


@pytest.mark.parametrize("call, reported", [
    ('make_layers([64, "M", 128, "M"])', True),
    ('make_layers([64, "M", 128, "M"], batch_norm=False)', True),
    ('make_layers([64, "M", 128, "M"], True)', False),  # a BatchNorm follows each conv
    ('make_layers([64, "M", 128, "M"], batch_norm=use_bn)', False),  # not known
])
def test_vgg_make_layers_follows_the_batch_norm_argument(call: str, reported: bool) -> None:
    findings = found(VGG.format(call=call), "IA103")
    assert bool(findings) is reported
    if reported:
        assert "Conv2d layers that feed relu: features.make_layers:1" in findings[0][1]


@pytest.mark.parametrize("builder", [
    # returns something else than the Sequential of its list
    "def mlp(sizes, activation=nn.ReLU):\n    layers = []\n    for j in range(len(sizes) - 1):\n"
    "        layers += [nn.Linear(sizes[j], sizes[j + 1]), activation()]\n    return layers",
    # the list is replaced on the way
    "def mlp(sizes, activation=nn.ReLU):\n    layers = []\n    for j in range(len(sizes) - 1):\n"
    "        layers += [nn.Linear(sizes[j], sizes[j + 1]), activation()]\n    layers = layers[:-1]\n"
    "    return nn.Sequential(*layers)",
    # a module of unknown kind in the list
    "def mlp(sizes, activation=nn.ReLU):\n    layers = []\n    for j in range(len(sizes) - 1):\n"
    "        layers += [nn.Linear(sizes[j], sizes[j + 1]), make_act()]\n    return nn.Sequential(*layers)",
])
def test_what_is_not_understood_stays_unknown(builder: str) -> None:
    code = f'''
import torch.nn as nn
from acts import make_act


{builder}


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.net = mlp([4, 64, 2])
        for m in self.net.modules():
            if isinstance(m, nn.Linear):
                nn.init.zeros_(m.weight)

    def forward(self, x):
        return self.net(x)
'''
    assert found(code, "IA101") == []


def test_activation_class_from_elsewhere_stays_unknown() -> None:
    code = MLP.replace("import torch.nn as nn", "import torch.nn as nn\nfrom acts import Swish")
    assert found(code.format(call="mlp([obs_dim, act_dim], Swish)", init=XAVIER_LOOP), "IA103") == []


def test_a_module_chosen_in_two_branches_stays_unknown() -> None:
    code = '''
    import torch.nn as nn


    def mlp(sizes, use_tanh):
        layers = []
        for j in range(len(sizes) - 1):
            if sizes[j] > 64:
                act = nn.ReLU()
            else:
                act = nn.Tanh()
            layers += [nn.Linear(sizes[j], sizes[j + 1]), act]
        return nn.Sequential(*layers)


    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.net = mlp([4, 128, 2], True)
            nn.init.zeros_(self.net[0].weight)

        def forward(self, x):
            return self.net(x)
    '''
    assert model_of(code).builders["mlp"].body[1] == BuiltStep()
    assert found(code, "IA101") == []


INSTANCE_BUILDER = """\
import torch.nn as nn


def build_mlp(input_dim, output_dim, hidden_units=(64, 64), hidden_activation=nn.Tanh(),
              output_activation=None):
    layers = []
    units = input_dim
    for next_units in hidden_units:
        layers.append(nn.Linear(units, next_units))
        layers.append(hidden_activation)
        units = next_units
    layers.append(nn.Linear(units, output_dim))
    if output_activation is not None:
        layers.append(output_activation)
    return nn.Sequential(*layers)


def build_pair(act):
    return nn.Sequential(nn.Linear(8, 64), act, nn.Linear(64, 1))
"""

USER = """\
import torch.nn as nn
{import_line}


def initialize_weight(m):
    if isinstance(m, nn.Linear):
        nn.init.xavier_uniform_(m.weight, gain=1.0)


class QNetwork(nn.Module):
    def __init__(self):
        super().__init__()
        self.net = {call}
        self.net.apply(initialize_weight)

    def forward(self, x):
        return self.net(x)
"""


@pytest.mark.parametrize(("call", "reported"), [
    ("build_mlp(8, 1, hidden_activation=nn.ReLU(inplace=True))", True),
    ("build_mlp(8, 1, (32,), nn.LeakyReLU(0.2))", True),
    ("build_mlp(8, 1)", False),  # the default module, a Tanh
    ("build_mlp(8, 1, output_activation=nn.ReLU())", True),  # ``if output_activation is not None:``
    ("build_mlp(8, 1, output_activation=None)", False),
    ("build_pair(nn.ReLU())", True),
    ("build_pair(nn.Tanh())", False),
])
def test_a_module_passed_in_is_what_the_builder_appends(call: str, reported: bool, tmp_path: Path) -> None:
    """The parameter holds the module itself (``layers.append(act)``), in this file or in the
    project file the builder is imported from."""
    one_file = INSTANCE_BUILDER + USER.format(import_line="", call=call)
    assert bool(found(one_file, "IA103")) is reported
    files = {"pyproject.toml": "", "pkg/__init__.py": "", "pkg/utils.py": INSTANCE_BUILDER,
             "pkg/model.py": USER.format(import_line="from pkg.utils import build_mlp, build_pair", call=call)}
    codes = [code for _, _, code, _ in findings([write(tmp_path, files)], config=selecting("IA103"))]
    assert bool(codes) is reported
