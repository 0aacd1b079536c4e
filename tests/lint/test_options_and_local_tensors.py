"""Values the linter follows into the layers and tensors they build: a module the class already
holds appended to a ModuleList, an option's default (``opts["act"] if "act" in opts else
nn.ReLU()``, ``opts.get``, ``getattr``), gains written as arithmetic on square roots and gains
below 1, a local tensor initialised and then made a Parameter, and an init in an arm of an option
that also chooses the activation."""

from __future__ import annotations

import pytest

from tests.lint.selection import lint_selected


def lines(code: str, *rules: str) -> list[tuple[int, str]]:
    return [(d.line, d.code) for d in lint_selected(code, *rules)]


MLP = """
import torch.nn as nn


def weight_init(m):
    if isinstance(m, nn.Linear):
        nn.init.{init}(m.weight)


class MLP(nn.Module):
    def __init__(self, params):
        super().__init__()
        self.sizes = params["sizes"]
        self.activation = {activation}
        self.layers = nn.ModuleList()
        for i in range(1, len(self.sizes)):
            self.layers.append(nn.Linear(self.sizes[i - 1], self.sizes[i]))
            self.layers.append(self.activation)
        self.apply(weight_init)

    def forward(self, x):
        for layer in self.layers:
            x = layer(x)
        return x
"""


@pytest.mark.parametrize("activation", [
    "nn.ReLU()",
    "params['activation'] if 'activation' in params else nn.ReLU()",
    "(nn.ReLU() if 'activation' not in params else params['activation'])",
    "params.get('activation', nn.ReLU())",
    "getattr(params, 'activation', nn.ReLU())",
])
def test_an_appended_module_the_class_holds_and_an_options_default_decide(activation: str) -> None:
    code = MLP.format(init="xavier_uniform_", activation=activation)
    assert lines(code, "IA103") == [(7, "IA103")]


@pytest.mark.parametrize("activation", [
    "params['activation'] if 'activation' in params else nn.Tanh()",
    "params.get('activation', nn.Tanh())",
])
def test_the_default_is_what_the_layers_are_judged_against(activation: str) -> None:
    assert lines(MLP.format(init="xavier_uniform_", activation=activation), "IA103") == []
    assert lines(MLP.format(init="kaiming_uniform_", activation=activation), "IA103") == [(7, "IA103")]


@pytest.mark.parametrize("activation", [
    "params['activation'] if 'act' in params else nn.ReLU()",  # another key: not the option's default
    "params['activation'] if 'activation' in other else nn.ReLU()",
    "params.get(name, nn.ReLU())",
])
def test_a_lookup_that_is_no_options_default_stays_unknown(activation: str) -> None:
    assert lines(MLP.format(init="xavier_uniform_", activation=activation), "IA103") == []


ATTENTION = """
import math
import torch
import torch.nn as nn
import torch.nn.functional as F


class NodeAttention(nn.Module):
    def __init__(self, dim, heads=4):
        super().__init__()
        self.heads = heads
        self.w1 = nn.Linear(3 * dim, dim)
        self.w2 = nn.Parameter(torch.zeros(heads, dim // heads))
        nn.init.xavier_uniform_(self.w1.weight, gain={gain})
        nn.init.xavier_uniform_(self.w2, gain={gain})

    def forward(self, x):
        x = self.w1(x).view(-1, self.heads, self.w2.shape[1])
        x = F.{activation}(x)
        return torch.einsum("nhc,hc->nh", x, self.w2)
"""


@pytest.mark.parametrize("gain", ["1 / math.sqrt(2)", "math.sqrt(2) / 2", "0.5", "2 ** -0.5"])
def test_a_gain_below_one_is_too_small_before_relu_like_units(gain: str) -> None:
    found = lint_selected(ATTENTION.format(gain=gain, activation="leaky_relu"), "IA103")
    assert [(d.line, d.code) for d in found] == [(14, "IA103")]
    assert "a gain below 1" in found[0].message


@pytest.mark.parametrize("activation", ["tanh", "sigmoid", "softmax"])
def test_a_gain_below_one_is_left_alone_before_other_units(activation: str) -> None:
    assert lines(ATTENTION.format(gain="1 / math.sqrt(2)", activation=activation), "IA103") == []


def test_a_gain_so_small_it_is_a_std_is_ia112_alone() -> None:
    assert lines(ATTENTION.format(gain="0.02", activation="leaky_relu"), "IA103", "IA112") == [
        (14, "IA112"), (15, "IA112")]


LOCAL = """
import torch
from torch import nn


class Layer(nn.Module):
    def __init__(self, n_in, n_out):
        super().__init__()
        w = torch.empty(n_in, n_out)
        {init}
        self.w = nn.Parameter({made})
        b = torch.empty(n_out)
        b.zero_()
        self.b = nn.Parameter(b)

    def forward(self, x):
        return torch.tanh(x @ self.w + self.b)
"""


@pytest.mark.parametrize("made", ["w", "w.float()", "w.clone()", "w.to('cpu')"])
def test_a_local_tensor_made_a_parameter_keeps_its_init(made: str) -> None:
    code = LOCAL.format(init="nn.init.kaiming_normal_(w)", made=made)
    assert lines(code, "IA103", "IA107") == [(10, "IA103")]


def test_an_in_place_draw_on_the_local_tensor_is_no_write_into_a_parameter() -> None:
    """The local is a plain tensor when it is drawn: autograd raises nothing (no IA107), but the
    Parameter starts from that draw (IA105)."""
    assert lines(LOCAL.format(init="w.normal_(0, 1)", made="w"), "IA105", "IA107") == [(10, "IA105")]


def test_each_slice_a_loop_hands_on_is_the_tensor_made_a_parameter() -> None:
    code = """
import torch
from torch import nn


class Ensemble(nn.Module):
    def __init__(self, k, n_in, n_out):
        super().__init__()
        weights = torch.zeros(k, n_in, n_out).float()
        for weight in weights:
            nn.init.kaiming_normal_(weight)
        self.weights = nn.Parameter(weights)
        self.biases = nn.Parameter(torch.zeros(k, 1, n_out))

    def forward(self, x):
        return torch.tanh(torch.baddbmm(self.biases, x, self.weights))
"""
    assert lines(code, "IA103", "IA101") == [(11, "IA103")]


def test_a_parameter_made_from_an_argument_adopts_nothing() -> None:
    code = """
import torch
from torch import nn


class Layer(nn.Module):
    def __init__(self, w):
        super().__init__()
        nn.init.kaiming_normal_(w)
        self.w = nn.Parameter(w)

    def forward(self, x):
        return torch.tanh(x @ self.w)
"""
    assert lines(code, "IA103") == []


OPTION = """
import torch
import torch.nn.functional as F
from torch import nn


class Dense(nn.Module):
    def __init__(self, n_in, n_out, non_linearity="leaky_relu"):
        super().__init__()
        self.weight = nn.Parameter(torch.empty(n_in, n_out))
        if non_linearity == "swish":
            nn.init.xavier_uniform_(self.weight)
        elif non_linearity == "leaky_relu":
            nn.init.{default_arm}(self.weight)
        elif non_linearity == "linear":
            nn.init.xavier_normal_(self.weight)
        if non_linearity == "leaky_relu":
            self.act = F.leaky_relu
        elif non_linearity == "linear":
            self.act = nn.Identity()

    def forward(self, x):
        return self.act(x @ self.weight)
"""


def test_an_arm_of_the_option_that_chooses_the_activation_is_another_configuration() -> None:
    """The swish and linear arms run only when the activation is not the default's leaky ReLU."""
    assert lines(OPTION.format(default_arm="kaiming_normal_"), "IA103") == []
    assert lines(OPTION.format(default_arm="xavier_normal_"), "IA103") == [(14, "IA103")]


def test_an_init_option_beside_a_fixed_activation_is_judged_in_every_arm() -> None:
    code = """
import torch.nn as nn


class Net(nn.Module):
    def __init__(self, init="kaiming"):
        super().__init__()
        self.fc = nn.Linear(8, 8)
        self.act = nn.ReLU()
        if init == "xavier":
            nn.init.xavier_uniform_(self.fc.weight)
        else:
            nn.init.kaiming_uniform_(self.fc.weight, nonlinearity="relu")

    def forward(self, x):
        return self.act(self.fc(x))
"""
    assert lines(code, "IA103") == [(11, "IA103")]


CYCLE = """
import torch.nn as nn


class Stack(nn.Module):
    def __init__(self, n, width):
        super().__init__()
        self.layers = nn.ModuleList()
        for i in range(n):
            self.layers.append(nn.Linear(width, width))
            {append}
        for layer in self.layers:
            if isinstance(layer, nn.Linear):
                nn.init.kaiming_uniform_(layer.weight, nonlinearity="relu")

    def forward(self, x):
        for layer in self.layers:
            x = layer(x)
        return x
"""


def test_what_one_loop_appends_comes_round_in_order() -> None:
    """Linear, Tanh, Linear, Tanh, ...: each Linear feeds a tanh, none another Linear."""
    found = lint_selected(CYCLE.format(append="self.layers.append(nn.Tanh())"), "IA103")
    assert [(d.line, d.code) for d in found] == [(14, "IA103")]
    assert "feeds tanh" in found[0].message or "that feed tanh" in found[0].message


def test_an_append_under_a_test_in_the_loop_breaks_the_cycle() -> None:
    """``if i < n - 1``: the last Linear feeds the output, the others the tanh: no one verdict."""
    code = CYCLE.format(append="if i < n - 1:\n                self.layers.append(nn.Tanh())")
    found = [d.message for d in lint_selected(code, "IA103")]
    assert all("tanh" in message for message in found)


def test_a_method_appending_in_nested_blocks_keeps_the_written_order() -> None:
    """The loop's Linear, its optional norm, the activation, then the last Linear after the loop:
    only that last Linear feeds no activation (He before the reconstruction)."""
    code = """
import torch.nn as nn


class AutoEncoder(nn.Module):
    def __init__(self, sizes, batch_norm=False):
        super().__init__()
        self.sizes = sizes
        self.batch_norm = batch_norm
        self.decoder = self._build()
        self.apply(self._init_weights)

    def _build(self):
        layers = []
        for a, b in zip(self.sizes, self.sizes[1:]):
            layers.append(nn.Linear(a, b))
            if self.batch_norm:
                layers.append(nn.BatchNorm1d(b))
            layers.append(nn.ReLU())
        layers.append(nn.Linear(self.sizes[-1], 4))
        return nn.Sequential(*layers)

    def _init_weights(self, module):
        if isinstance(module, nn.Linear):
            nn.init.kaiming_normal_(module.weight, nonlinearity="relu")

    def forward(self, x):
        return self.decoder(x)
"""
    found = lint_selected(code, "IA103")
    assert [(d.line, d.code) for d in found] == [(25, "IA103")]
    assert "decoder.3 (Linear)" in found[0].message


def test_an_arm_of_the_option_is_judged_with_the_activation_that_option_picks() -> None:
    code = OPTION.format(default_arm="kaiming_normal_").replace(
        '''        elif non_linearity == "linear":
            nn.init.xavier_normal_(self.weight)''', '''        elif non_linearity == "linear":
            nn.init.xavier_normal_(self.weight)
        elif non_linearity == "tanh":
            nn.init.kaiming_normal_(self.weight)''').replace(
        '''        elif non_linearity == "linear":
            self.act = nn.Identity()''', '''        elif non_linearity == "linear":
            self.act = nn.Identity()
        elif non_linearity == "tanh":
            self.act = torch.tanh''')
    found = lint_selected(code, "IA103")
    assert [(d.line, d.code) for d in found] == [(18, "IA103")]
    assert 'feeds tanh where non_linearity == "tanh"' in found[0].message


def test_a_layer_in_an_arm_of_the_option_feeds_that_arms_activation() -> None:
    code = """
import torch.nn as nn


class Block(nn.Module):
    def __init__(self, width, act="relu"):
        super().__init__()
        self.fc = nn.Linear(width, width)
        if act == "relu":
            nn.init.kaiming_uniform_(self.fc.weight, nonlinearity="relu")
            self.act = nn.ReLU()
        elif act == "tanh":
            nn.init.kaiming_uniform_(self.fc.weight, nonlinearity="relu")
            self.act = nn.Tanh()
        elif act == "sigmoid":
            nn.init.xavier_uniform_(self.fc.weight)
            self.act = nn.Sigmoid()

    def forward(self, x):
        return self.act(self.fc(x))
"""
    found = lint_selected(code, "IA103")
    assert [(d.line, d.code) for d in found] == [(13, "IA103")]
    assert 'fc feeds tanh where act == "tanh"' in found[0].message


def test_the_configurations_run_again_are_bounded() -> None:
    """Each arm of an option is one more run of the class's forward: past ``CONFIGURATIONS``
    distinct ones, an arm's init gets no verdict rather than more work."""
    from initaudit.lint.model.bounds import CONFIGURATIONS

    arms = "".join(f'''
        elif act == "tanh{i}":
            nn.init.kaiming_normal_(self.fc.weight)
            self.act = nn.Tanh()''' for i in range(CONFIGURATIONS + 6))
    code = f"""
import torch.nn as nn


class Block(nn.Module):
    def __init__(self, act="relu"):
        super().__init__()
        self.fc = nn.Linear(8, 8)
        if act == "relu":
            self.act = nn.ReLU(){arms}

    def forward(self, x):
        return self.act(self.fc(x))
"""
    assert len(lint_selected(code, "IA103")) == CONFIGURATIONS


def test_a_local_tensor_registered_under_a_computed_name() -> None:
    # The name is only known as a template: the file is still analysed, and the registered
    # local's draw judged like any other.
    code = """
import torch
import torch.nn as nn


class Prompts(nn.Module):
    def __init__(self, n, d):
        super().__init__()
        for i in range(n):
            prompt = torch.empty(4, d)
            nn.init.normal_(prompt, std=0.02)
            self.register_parameter(f"prompt_{i}", nn.Parameter(prompt))
        w = torch.empty(d, d)
        nn.init.normal_(w)
        setattr(self, "w", nn.Parameter(w))

    def forward(self, x):
        return x @ self.w + getattr(self, "prompt_0").sum()
"""
    assert lines(code, "IA105", "IA112") == [(14, "IA105")]
