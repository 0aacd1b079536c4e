"""Layers a loop appends in ``__init__``: the activation class a parameter or a local holds
(``act()`` with ``act=nn.Tanh``, after ``act = nn.ReLU``), and the loop that skips the
activation after its last layer, whose hidden layers still feed it."""

from __future__ import annotations

import pytest

from tests.lint.selection import lint_selected


def lines(code: str, *rules: str) -> list[tuple[int, str]]:
    return [(d.line, d.code) for d in lint_selected(code, *rules)]


MODULE_LIST = """
import torch.nn as nn


class MLP(nn.Module):
    def __init__(self, dims, act={default}):
        super().__init__(){local}
        self.layers = nn.ModuleList()
        for i in range(len(dims) - 1):
            self.layers.append(nn.Linear(dims[i], dims[i + 1]))
            if i < len(dims) - 2:
                self.layers.append(act())
        for m in self.modules():
            if isinstance(m, nn.Linear):
                nn.init.{init}(m.weight)

    def forward(self, x):
        for layer in self.layers:
            x = layer(x)
        return x
"""

LOCAL_LIST = """
import torch.nn as nn


class MLP(nn.Module):
    def __init__(self, dims, act=nn.ReLU):
        super().__init__()
        layers = []
        for i in range(len(dims) - 1):
            layers.append(nn.Linear(dims[i], dims[i + 1]))
            if i != len(dims) - 2:
                layers.append(act())
        self.net = nn.Sequential(*layers)
        for m in self.modules():
            if isinstance(m, nn.Linear):
                nn.init.{init}(m.weight)

    def forward(self, x):
        return self.net(x)
"""

INIT_LINE = 15


@pytest.mark.parametrize(("default", "local", "init", "expected"), [
    ("nn.Tanh", "", "kaiming_normal_", [(INIT_LINE, "IA103")]),  # He gain before tanh
    ("nn.Tanh", "", "xavier_normal_", []),
    ("nn.ReLU", "", "xavier_uniform_", [(INIT_LINE, "IA103")]),  # hidden layers feed ReLU
    ("nn.ReLU", "", "kaiming_uniform_", []),  # leaky_relu a=0: the ReLU gain
    # a local bound after the parameter replaces its default
    ("nn.Tanh", "\n        act = nn.ReLU", "xavier_uniform_", [(INIT_LINE + 1, "IA103")]),
    ("nn.Tanh", "\n        act = nn.ReLU", "kaiming_uniform_", []),
])
def test_appended_activation_comes_from_a_default_or_a_local(
        default: str, local: str, init: str, expected: list[tuple[int, str]]) -> None:
    code = MODULE_LIST.format(default=default, local=local, init=init)
    assert lines(code, "IA103") == expected


def test_a_local_bound_by_an_unknown_call_hides_the_default() -> None:
    code = MODULE_LIST.format(default="nn.Tanh", local="\n        act = pick_activation()",
                              init="kaiming_normal_")
    assert lines(code, "IA103") == []


@pytest.mark.parametrize(("init", "expected"), [
    ("xavier_uniform_", [(16, "IA103")]),
    ("kaiming_normal_", []),
])
def test_a_local_list_whose_last_layer_skips_the_activation(init: str, expected: list[tuple[int, str]]) -> None:
    assert lines(LOCAL_LIST.format(init=init), "IA103") == expected


def test_one_layer_split_between_an_activation_and_the_output_is_not_judged_by_one_path() -> None:
    # One layer, not a loop's copies: half its output is returned raw, which Xavier suits.
    code = """
import torch
import torch.nn as nn


class Head(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(8, 8)
        nn.init.xavier_uniform_(self.fc.weight)

    def forward(self, x):
        a, b = torch.chunk(self.fc(x), 2, dim=-1)
        return torch.relu(a), b
"""
    assert lines(code, "IA103") == []


OPTION_CLASSES = """
import torch.nn as nn


def weight_init(m):
    if isinstance(m, nn.Linear):
        nn.init.xavier_uniform_(m.weight)


class MLP(nn.Module):
    def __init__(self, params):
        super().__init__()
        sizes = params["layer_sizes"]
        self.activation = params["activation"] if "activation" in params else nn.ReLU()
        self.use_batch_norm = params["use_batch_norm"] if "use_batch_norm" in params else False
        self.batch_norm = params["batch_norm"] if "batch_norm" in params else {norm}
        self.layers = nn.ModuleList()
        if not self.use_batch_norm:
            for i in range(1, len(sizes)):
                self.layers.append(nn.Linear(sizes[i - 1], sizes[i]))
                if sizes[i] > 1:
                    self.layers.append(self.activation)
        else:
            for i in range(1, len(sizes)):
                self.layers.append(nn.Linear(sizes[i - 1], sizes[i]))
                self.layers.append(self.batch_norm(sizes[i]))
                self.layers.append(self.activation)
        self.apply(weight_init)

    def forward(self, x):
        for layer in self.layers:
            x = layer(x)
        return x
"""


@pytest.mark.parametrize(("norm", "expected"), [
    # the class an attribute holds builds a norm when called: no unknown path is left
    ("nn.BatchNorm1d", [(7, "IA103")]),
    ("make_norm", []),  # a factory of unknown make: what follows the layer is not known
])
def test_an_attribute_holding_a_class_builds_it_when_called(norm: str, expected: list[tuple[int, str]]) -> None:
    assert lines(OPTION_CLASSES.format(norm=norm), "IA103") == expected
