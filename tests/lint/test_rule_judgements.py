"""What the rules make of what the model knows: a head is a layer whose output leaves the model
as it is or through squashes alone (IA101's zero heads, IA112's small-gain heads), and a scale
written as a formula of a fan states a gain (IA103)."""

from __future__ import annotations

import pytest

from tests.lint.selection import lint_selected

HEADER = "import math\n\nimport torch\nimport torch.nn as nn\nimport torch.nn.functional as F\n"


def found(code: str, *rules: str) -> list[tuple[str, int]]:
    return [(d.code, d.line) for d in lint_selected(HEADER + code, *rules)]


# ------------------------------------------------------------------ IA101: zero heads

ATTENTION_POOL = """
class Pool(nn.Module):
    def __init__(self, d):
        super().__init__()
        self.hidden = nn.Linear(d, d)
        self.score = nn.Linear(d, 4)
        with torch.no_grad():
            self.score.weight.zero_()

    def forward(self, x):
        w = torch.softmax(self.score(torch.relu(self.hidden(x))), dim=1)
        return (w * x).sum(1)
"""

PRIOR_HEAD = """
class Head(nn.Module):
    def __init__(self, prior=0.01):
        super().__init__()
        self.conv = nn.Conv2d(16, 16, 3, padding=1)
        self.out = nn.Conv2d(16, 9, 3, padding=1)
        self.act = nn.Sigmoid()
        self.out.weight.data.fill_(0)
        self.out.bias.data.fill_(-math.log((1.0 - prior) / prior))

    def forward(self, x):
        out = self.act(self.out(F.relu(self.conv(x))))
        return out.permute(0, 2, 3, 1).contiguous()
"""

SEQUENTIAL_SOFTMAX = """
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = nn.Linear(8, 8)
        self.head = nn.Sequential(nn.Linear(8, 3), nn.Softmax(dim=-1))
        nn.init.zeros_(self.head[0].weight)

    def forward(self, x):
        return self.head(F.relu(self.body(x)))
"""


@pytest.mark.parametrize("code", [ATTENTION_POOL, PRIOR_HEAD, SEQUENTIAL_SOFTMAX])
def test_a_zero_head_before_a_squash_is_deliberate(code: str) -> None:
    assert found(code, "IA101") == []


def test_a_zero_layer_whose_squashed_output_feeds_a_layer_is_reported() -> None:
    code = """
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.hidden = nn.Linear(8, 8)
        self.out = nn.Linear(8, 2)
        nn.init.zeros_(self.hidden.weight)

    def forward(self, x):
        return self.out(torch.sigmoid(self.hidden(x)))
"""
    assert found(code, "IA101") == [("IA101", 12)]


def test_a_zero_layer_inside_a_sequential_before_tanh_and_a_layer_is_reported() -> None:
    code = """
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(8, 8), nn.Tanh(), nn.Linear(8, 2))
        nn.init.zeros_(self.net[0].weight)

    def forward(self, x):
        return self.net(x)
"""
    assert found(code, "IA101") == [("IA101", 11)]


# ------------------------------------------------------------------ IA103: He written by hand

HAND_HE = """
class Head(nn.Module):
    def __init__(self):
        super().__init__()
        self.out = nn.Conv2d(32, 8, 3, padding=1)
        n = self.out.kernel_size[0] * self.out.kernel_size[1] * self.out.out_channels
        {init}

    def forward(self, x):
        return {forward}
"""


@pytest.mark.parametrize("init", [
    "self.out.weight.data.normal_(0, math.sqrt(2.0 / n))",
    "nn.init.normal_(self.out.weight, std=(2.0 / n) ** 0.5)",
    "std = math.sqrt(2. / n); self.out.weight.data.normal_(0, std)",
    "bound = math.sqrt(6.0 / n); nn.init.uniform_(self.out.weight, -bound, bound)",
    "self.out.weight.data.normal_(0, math.sqrt(2) / math.sqrt(n))",
])
def test_he_written_as_a_formula_before_no_activation_is_reported(init: str) -> None:
    code = HAND_HE.format(init=init, forward="self.out(x)")
    diagnostics = lint_selected(HEADER + code, "IA103")
    assert [(d.code, d.line) for d in diagnostics] == [("IA103", 12)]
    assert "a ReLU gain" in diagnostics[0].message
    assert diagnostics[0].fix is None  # the formula is the author's to change


@pytest.mark.parametrize("init", [
    "self.out.weight.data.normal_(0, math.sqrt(2.0 / n))",
    "bound = math.sqrt(6.0 / n); nn.init.uniform_(self.out.weight, -bound, bound)",
])
def test_he_written_as_a_formula_before_relu_is_fine(init: str) -> None:
    assert found(HAND_HE.format(init=init, forward="F.relu(self.out(x))"), "IA103") == []


@pytest.mark.parametrize("init", [
    "self.out.weight.data.normal_(0, math.sqrt(1.0 / n))",  # gain 1: what logits want
    "self.out.weight.data.normal_(0, math.sqrt(2.0 / 288))",  # a fixed std, no fan
    "self.out.weight.data.normal_(1.0, math.sqrt(2.0 / n))",  # not centred
    "bound = math.sqrt(2.0 / n); nn.init.uniform_(self.out.weight, 0, bound)",  # not symmetric
])
def test_other_formulas_state_no_relu_gain(init: str) -> None:
    assert found(HAND_HE.format(init=init, forward="self.out(x)"), "IA103") == []


def test_a_unit_gain_formula_before_relu_is_not_taken_for_he() -> None:
    code = HAND_HE.format(init="self.out.weight.data.normal_(0, math.sqrt(1.0 / n))",
                          forward="F.relu(self.out(x))")
    diagnostics = lint_selected(HEADER + code, "IA103")
    assert all("a ReLU gain" not in d.message for d in diagnostics)


# ------------------------------------------------------------------ IA112: small-gain heads

POLICY = """
class Policy(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = nn.Linear(8, 64)
        self.mean = nn.Linear(64, 2)
        nn.init.orthogonal_(self.body.weight, gain=math.sqrt(2))
        nn.init.orthogonal_(self.mean.weight, gain=0.01)

    def forward(self, x):
        return {forward}
"""


def test_a_small_gain_policy_head_before_tanh_is_deliberate() -> None:
    assert found(POLICY.format(forward="torch.tanh(self.mean(torch.tanh(self.body(x))))"), "IA112") == []


def test_a_small_gain_layer_whose_squashed_output_feeds_a_layer_is_reported() -> None:
    code = """
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.hidden = nn.Linear(8, 64)
        self.out = nn.Linear(64, 2)
        nn.init.orthogonal_(self.hidden.weight, gain=0.01)

    def forward(self, x):
        return self.out(torch.tanh(self.hidden(x)))
"""
    assert found(code, "IA112") == [("IA112", 12)]


def test_glorot_written_out_over_both_fans_is_gain_one() -> None:
    code = """
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(8, 4)
        bound = math.sqrt(6.0 / (self.fc.in_features + self.fc.out_features))
        nn.init.uniform_(self.fc.weight, -bound, bound)

    def forward(self, x):
        return {forward}
"""
    assert found(code.format(forward="self.fc(x)"), "IA103") == []
    assert found(code.format(forward="torch.tanh(self.fc(x))"), "IA103") == []
    assert found(code.format(forward="F.relu(self.fc(x))"), "IA103") == [("IA103", 12)]


# ------------------------------------------------------------------ IA105: a draw redrawn later

DRAWN = """
class Graph(nn.Module):
    def __init__(self, nodes, dim):
        super().__init__()
        self.node_vectors = nn.Parameter(torch.randn(nodes, dim))
        self.mix = nn.Linear(dim, dim)
{loop}
    def forward(self, x):
        adj = torch.softmax(torch.mm(x.mean(0), self.node_vectors.t()), dim=1)
        return torch.tanh(self.mix(torch.einsum("nm,bmd->bnd", adj, x)))
"""


@pytest.mark.parametrize("loop", [
    "        for p in self.parameters():\n            if p.dim() > 1:\n                nn.init.xavier_uniform_(p)\n",
    "        for name, p in self.named_parameters():\n            nn.init.normal_(p.data, std=0.02)\n",
])
def test_a_draw_that_a_loop_over_every_parameter_redraws_is_not_its_start(loop: str) -> None:
    assert found(DRAWN.format(loop=loop), "IA105") == []


@pytest.mark.parametrize("loop", [
    "",
    "        for p in self.mix.parameters():\n            nn.init.normal_(p, std=0.02)\n",
])
def test_a_draw_nothing_redraws_is_reported(loop: str) -> None:
    assert found(DRAWN.format(loop=loop), "IA105") == [("IA105", 10)]


def test_a_loop_over_every_parameter_before_the_draw_does_not_void_it() -> None:
    code = """
class Graph(nn.Module):
    def __init__(self, nodes, dim):
        super().__init__()
        self.mix = nn.Linear(dim, dim)
        for p in self.parameters():
            nn.init.normal_(p, std=0.02)
        self.node_vectors = nn.Parameter(torch.randn(nodes, dim))

    def forward(self, x):
        adj = torch.softmax(torch.mm(x.mean(0), self.node_vectors.t()), dim=1)
        return torch.tanh(self.mix(torch.einsum("nm,bmd->bnd", adj, x)))
"""
    assert found(code, "IA105") == [("IA105", 13)]
