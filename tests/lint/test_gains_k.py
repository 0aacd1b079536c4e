"""Which gain an init call gives and which units it reaches: a loop over a model's parameters
reaching the input and hidden weights of its recurrent layers (whose gates are sigmoids and a
tanh), and layers a container builds with ``map`` over a lambda."""

from __future__ import annotations

import pytest

from tests.conftest import lint

RECURRENT_MODEL = '''
import torch.nn as nn
import torch.nn.init as init


class Tagger(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Sequential(nn.Conv1d(8, 16, 3), nn.BatchNorm1d(16), nn.ReLU())
        self.rnn = nn.LSTM(16, 32, bidirectional=True, batch_first=True)
        self.norm = nn.LayerNorm(64)

    def forward(self, x):
        out, _ = self.rnn(self.conv(x).transpose(1, 2))
        return self.norm(out)


model = Tagger()
for name, param in model.named_parameters():
    try:
        if "bias" in name:
            init.constant_(param, 0.0)
        elif {test}:
            init.{function}(param)
    except Exception:
        if "weight" in name:
            param.data.fill_(1)
'''
INIT_LINE = 24


def recurrent_findings(test: str, function: str) -> list[tuple[str, int, str]]:
    source = RECURRENT_MODEL.format(test=test, function=function)
    return sorted((d.code, d.line, d.message) for d in lint(source) if d.code.startswith("IA1"))


@pytest.mark.parametrize("test", ['"weight" in name', '"weight_hh" in name', "param.dim() > 1"])
def test_he_through_a_loop_over_the_parameters_reaches_the_gates_of_a_recurrent_layer(test: str) -> None:
    found = recurrent_findings(test, "kaiming_normal_")
    assert [(code, line) for code, line, _ in found] == [("IA103", INIT_LINE)]
    assert "rnn (LSTM) feeds the layer's own sigmoid and tanh" in found[0][2]


@pytest.mark.parametrize(("test", "function"), [
    ('"weight" in name', "xavier_normal_"),  # gain 1 suits the sigmoid gates
    ('"weight" in name', "orthogonal_"),
    ('name.endswith("weight")', "kaiming_normal_"),  # the LSTM's are weight_ih_l0, weight_hh_l0
    ('"rnn" not in name', "kaiming_normal_"),
    ('"conv" in name', "kaiming_normal_"),
])
def test_a_loop_over_the_parameters_that_leaves_the_gates_alone_or_suits_them(test: str, function: str) -> None:
    assert recurrent_findings(test, function) == []


def test_the_vectors_an_init_rejects_are_the_recurrent_layers_biases_not_their_weights() -> None:
    # The handler's fill_(1) runs for the 1-D tensors kaiming refuses: the norms' scales, and no
    # LSTM weight (its weight_ih and weight_hh are matrices).
    source = RECURRENT_MODEL.format(test='"weight" in name', function="xavier_normal_")
    assert [d.code for d in lint(source) if d.code == "IA102"] == []


PERCEPTRON = '''
import torch.nn as nn
import torch.nn.functional as F


class Perceptron(nn.Module):
    def __init__(self, dims):
        super().__init__()
        self.layers = nn.ModuleList({layers})
        for m in self.modules():
            if isinstance(m, nn.Linear):
                nn.init.xavier_normal_(m.weight)

    def forward(self, x):
        for layer in self.layers:
            x = F.{activation}(layer(x))
        return x
'''


@pytest.mark.parametrize("layers", [
    "map(lambda d: nn.Linear(*d), zip(dims, dims[1:]))",
    "list(map(lambda d: nn.Linear(*d), list(zip(dims, dims[1:]))))",
    "tuple(nn.Linear(a, b) for a, b in zip(dims, dims[1:]))",
])
def test_layers_a_container_builds_from_an_iterable_are_each_judged(layers: str) -> None:
    found = [(d.code, d.line) for d in lint(PERCEPTRON.format(layers=layers, activation="relu"))
             if d.code == "IA103"]
    assert found == [("IA103", 12)]


@pytest.mark.parametrize("layers", [
    "map(lambda d: nn.Linear(*d), zip(dims, dims[1:]))",
    "map(lambda d: d, [nn.Linear(4, 4)])",  # the lambda builds nothing: its body is its argument
])
def test_layers_built_by_map_that_feed_what_xavier_suits_or_are_unknown_are_quiet(layers: str) -> None:
    assert [d.code for d in lint(PERCEPTRON.format(layers=layers, activation="tanh" if "Linear(*d)" in layers
                                                   else "relu")) if d.code == "IA103"] == []


def test_a_list_a_name_holds_made_by_map_is_a_containers_items() -> None:
    source = PERCEPTRON.replace("self.layers = nn.ModuleList({layers})",
                                "layers = list(map(lambda d: nn.Linear(*d), zip(dims, dims[1:])))\n"
                                "        self.layers = nn.ModuleList(layers)")
    found = [(d.code, d.line) for d in lint(source.format(activation="relu")) if d.code == "IA103"]
    assert found == [("IA103", 13)]


def test_the_recurrent_parameter_names_are_torchs() -> None:
    torch = pytest.importorskip("torch")
    from initaudit import knowledge

    for name, names in knowledge.RECURRENT_PARAMETERS.items():
        layer = getattr(torch.nn, name)(2, 3)
        assert tuple(n for n, _ in layer.named_parameters()) == names
        for param in names:
            assert knowledge.parameter_ndim(name, param) == getattr(layer, param).dim()


LSTM_IDIOM = '''
import torch.nn as nn


class Encoder(nn.Module):
    def __init__(self):
        super().__init__()
        self.lstm = nn.LSTM(8, 16, num_layers=2)
        self.out = nn.Linear(16, 4)
        for name, p in self.lstm.named_parameters():
            if name.startswith("weight_ih"):
                nn.init.{function}(p)
            elif name.startswith("weight_hh"):
                nn.init.orthogonal_(p)
            elif name.startswith("bias"):
                nn.init.zeros_(p)

    def forward(self, x):
        return self.out(self.lstm(x)[0])
'''


def test_names_a_loop_over_one_layers_parameters_gives_are_relative_to_that_layer() -> None:
    found = [d for d in lint(LSTM_IDIOM.format(function="kaiming_uniform_")) if d.code.startswith("IA1")]
    assert [(d.code, d.line) for d in found] == [("IA103", 12)]
    assert "weight_ih_l0 of lstm (LSTM) feeds the layer's own sigmoid and tanh" in found[0].message


def test_the_usual_recurrent_init_by_parameter_name_is_quiet() -> None:
    assert [d.code for d in lint(LSTM_IDIOM.format(function="xavier_uniform_")) if d.code.startswith("IA1")] == []


@pytest.mark.parametrize(("test", "expected"), [
    ('name.startswith("rnn.")', [("IA103", INIT_LINE)]),
    ('name.startswith("model.rnn")', []),  # no name the loop gives starts with the variable's name
])
def test_names_a_loop_over_a_models_parameters_gives_leave_out_the_variable(test: str,
                                                                           expected: list[tuple[str, int]]) -> None:
    assert [(code, line) for code, line, _ in recurrent_findings(test, "kaiming_normal_")] == expected
