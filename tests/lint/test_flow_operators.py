"""IA103 by the operator that takes a layer's output: a method of the module it passes through,
a sum with another tensor, another weight layer, an activation a function of the file picks."""

from __future__ import annotations

from initaudit.diagnostics import Diagnostic
from tests.lint.selection import lint_selected

HEADER = "import torch\nimport torch.nn as nn\nimport torch.nn.functional as F\n"


def found(code: str) -> list[Diagnostic]:
    return lint_selected(HEADER + code, "IA103")


# ------------------------------------------------------------------ a method of the module

THROUGH_METHOD = """
class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv1d(8, 8, 3)
        self.norm = {norm}
        self.act = nn.{act}()
        nn.init.xavier_uniform_(self.conv.weight)

    def apply_norm(self, h, norm_layer):
        if norm_layer is not None:
            return norm_layer(h)
        return h

    def forward(self, x):
        h = self.apply_norm(self.conv(x), norm_layer=self.norm)
        return self.act(h)
"""


def test_a_method_given_a_present_norm_runs_the_norm() -> None:
    # ``norm_layer`` is bound to a BatchNorm (by keyword): the test holds, the norm resets the scale.
    assert found(THROUGH_METHOD.format(norm="nn.BatchNorm1d(8)", act="ReLU")) == []


def test_a_method_given_a_module_hands_its_output_to_the_activation() -> None:
    # An identity is a module too: the test holds and the conv's output reaches the ReLU.
    findings = found(THROUGH_METHOD.format(norm="nn.Identity()", act="ReLU"))
    assert [(f.code, f.line) for f in findings] == [("IA103", 11)]
    assert "conv (Conv1d) feeds relu" in findings[0].message


def test_a_method_given_an_identity_before_tanh_is_fine() -> None:
    assert found(THROUGH_METHOD.format(norm="nn.Identity()", act="Tanh")) == []


# ------------------------------------------------------------------ sums

SUMMED = """
class ValueEmbedding(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv1d(4, 16, 3, padding=1)
        nn.init.kaiming_normal_(self.conv.weight, nonlinearity="{nonlinearity}")

    def forward(self, x):
        return self.conv(x)


class Embedding(nn.Module):
    def __init__(self):
        super().__init__()
        self.value = ValueEmbedding()
        self.dropout = nn.Dropout(0.1)

    def forward(self, x, pos):
        return {use}
"""


def test_a_sum_with_another_tensor_is_left_to_what_follows_the_sum() -> None:
    findings = found(SUMMED.format(nonlinearity="relu", use="self.dropout(self.value(x) + pos)"))
    assert [f.line for f in findings] == [9]


def test_a_sum_with_another_tensor_into_an_activation_keeps_the_activation() -> None:
    assert found(SUMMED.format(nonlinearity="relu", use="F.relu(self.value(x) + pos)")) == []
    findings = found(SUMMED.format(nonlinearity="tanh", use="F.relu(self.value(x) + pos)"))
    assert [f.line for f in findings] == [9]


def test_a_linear_gain_on_a_sum_into_the_output_is_fine() -> None:
    assert found(SUMMED.format(nonlinearity="linear", use="self.dropout(self.value(x) + pos)")) == []


RESIDUAL_OUTPUT = """
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(8, 8)
        self.fc2 = nn.Linear(8, 8)
        nn.init.kaiming_uniform_(self.fc1.weight, nonlinearity="relu")
        nn.init.{init}(self.fc2.weight)

    def forward(self, x):
        return x + self.fc2(F.relu(self.fc1(x)))
"""


def test_a_residual_end_summed_into_the_output_is_left_to_what_follows_the_sum() -> None:
    assert found(RESIDUAL_OUTPUT.format(init="kaiming_normal_")) == []


def test_a_zero_residual_end_is_not_judged_by_ia103() -> None:
    assert found(RESIDUAL_OUTPUT.format(init="zeros_")) == []
    assert lint_selected(HEADER + RESIDUAL_OUTPUT.format(init="zeros_"), "IA101") == []


# ------------------------------------------------------------------ a layer into a layer

LATERAL = """import math


class Lateral(nn.Module):
    def __init__(self):
        super().__init__()
        self.lateral = nn.Conv2d(64, 32, 1)
        self.smooth = nn.Conv2d(32, 32, 3, padding=1)
        nn.init.{init}(self.lateral.weight{args})

    def forward(self, x):
        return self.smooth(self.lateral(x)).relu()
"""


def test_he_on_a_layer_another_layer_takes_directly_is_reported() -> None:
    findings = found(LATERAL.format(init="kaiming_normal_", args=', nonlinearity="relu"'))
    assert [(f.code, f.line) for f in findings] == [("IA103", 12)]
    assert "lateral (Conv2d) feeds no activation (another layer takes it directly)" in findings[0].message


def test_xavier_on_a_layer_another_layer_takes_directly_is_fine() -> None:
    assert found(LATERAL.format(init="xavier_uniform_", args="")) == []
    assert found(LATERAL.format(init="kaiming_uniform_", args=", a=math.sqrt(5)")) == []


SEPARABLE = """
class SeparableConv(nn.Module):
    def __init__(self):
        super().__init__()
        self.depthwise = nn.Conv2d(32, 32, 3, padding=1, groups=32)
        self.pointwise = nn.Conv2d(32, 64, 1)

    def forward(self, x):
        return self.pointwise(self.depthwise(x))


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.sep = SeparableConv()
        self.bn = nn.BatchNorm2d(64)
        self.post = {post}
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")

    def forward(self, x):
        return F.relu(self.post(self.sep(x)))
"""


def test_a_chain_of_layers_ending_in_a_norm_has_its_scale_reset() -> None:
    # depthwise -> pointwise -> BatchNorm: neither conv's scale reaches the ReLU.
    assert found(SEPARABLE.format(post="self.bn")) == []


def test_a_chain_of_layers_ending_in_an_activation_leaves_the_first_unscaled() -> None:
    findings = found(SEPARABLE.format(post="nn.Identity()"))
    assert [f.line for f in findings] == [23]
    assert "sep.depthwise (Conv2d) feeds no activation (another layer takes it directly)" in findings[0].message


def test_a_chain_of_layers_into_something_unknown_is_left_alone() -> None:
    assert found(SEPARABLE.format(post="make_post()")) == []


# ------------------------------------------------------------------ an activation a function picks

PICKED = """
def activation_fn(name):
    \"\"\"The activation a name stands for.\"\"\"
    if name == "relu":
        return F.relu
    elif name == "tanh":
        return torch.tanh
    raise ValueError(name)


class FeedForward(nn.Module):
    def __init__(self, activation={default}):
        super().__init__()
        self.linear1 = nn.Linear(16, 64)
        self.activation = activation_fn({argument})
        self.linear2 = nn.Linear(64, 16)
        nn.init.xavier_uniform_(self.linear1.weight)

    def forward(self, x):
        return x + self.linear2(self.activation(self.linear1(x)))
"""


def test_an_activation_picked_by_the_default_name_is_followed() -> None:
    findings = found(PICKED.format(default='"relu"', argument="activation"))
    assert [(f.code, f.line) for f in findings] == [("IA103", 20)]
    assert "linear1 (Linear) feeds relu" in findings[0].message
    findings = found(PICKED.format(default='"gelu"', argument='name="relu"'))
    assert [f.line for f in findings] == [20]


def test_an_activation_picked_for_tanh_or_an_unknown_name_is_fine() -> None:
    assert found(PICKED.format(default='"tanh"', argument="activation")) == []
    assert found(PICKED.format(default='"swish"', argument="activation")) == []
    assert found(PICKED.format(default="None", argument="activation")) == []


OPTIONAL_NORM = """
class Block(nn.Module):
    def __init__(self, cin, cout, norm=None):
        super().__init__()
        self.conv = nn.Conv1d(cin, cout, 3)
        self.norm = norm
        self.act = nn.PReLU(cout, init=0)
        nn.init.xavier_uniform_(self.conv.weight)

    def maybe_norm(self, x):
        if self.norm is not None:
            return self.norm(x)
        return x

    def forward(self, x):
        h = self.conv(x)
        h = self.maybe_norm(h)
        return self.act(h)


class Encoder(nn.Module):
    def __init__(self, *extra):
        super().__init__()
        self.blocks = nn.ModuleList([{first}, Block(8, 8)])
"""


def test_an_optional_norm_no_construction_passes_is_left_out() -> None:
    findings = found(OPTIONAL_NORM.format(first="Block(1, 8)"))
    assert [(f.code, f.line) for f in findings] == [("IA103", 11)]
    assert "conv (Conv1d) feeds prelu" in findings[0].message


def test_an_optional_norm_a_construction_may_pass_stays_unknown() -> None:
    assert found(OPTIONAL_NORM.format(first="Block(1, 8, nn.BatchNorm1d(8))")) == []
    assert found(OPTIONAL_NORM.format(first="Block(1, 8, *extra)")) == []
