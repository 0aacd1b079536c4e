"""IA103 init-activation-mismatch on the direct patterns."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import lint

HEADER = "import torch\nimport torch.nn as nn\nimport torch.nn.functional as F\nfrom torch.nn import init\n"


def ia103(code: str) -> list:
    return [d for d in lint(HEADER + code) if d.code == "IA103"]


def two_layer(init_line: str, forward_body: str, extra: str = "") -> str:
    return f"""
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(16, 32)
        self.fc2 = nn.Linear(32, 4)
        {extra}
        {init_line}

    def forward(self, x):
        {forward_body}
"""


def test_seed_mnist_example_gives_exactly_two() -> None:
    source = Path(__file__).parents[2] / "examples" / "mnist_init.py"
    found = [d for d in lint(source.read_text()) if d.code == "IA103"]
    assert len(found) == 2
    assert "fc1" in found[0].message and "relu" in found[0].message
    assert "fc2" in found[1].message and "model's output" in found[1].message


@pytest.mark.parametrize("forward", [
    "return self.fc2(F.relu(self.fc1(x)))",
    "return self.fc2(torch.relu(self.fc1(x)))",
    "return self.fc2(self.fc1(x).relu())",
    "h = self.fc1(x)\n        h = F.dropout(h, 0.1, self.training)\n        return self.fc2(F.relu(h))",
    "h = self.fc1(x.view(x.size(0), -1)).reshape(-1, 32)\n        return self.fc2(F.gelu(h))",
    "return self.fc2(F.leaky_relu(self.fc1(x), 0.01))",
    "return self.fc2(F.silu(self.fc1(x)))",
    "return self.fc2(F.elu(self.fc1(x)))",
    "return self.fc2(F.relu6(self.fc1(x)))",
    "return self.fc2(F.mish(self.fc1(x)))",
    "h = self.fc1(x)\n        if self.training:\n            h = F.dropout(h)\n        return self.fc2(F.relu(h))",
])
def test_xavier_before_relu_family_in_forward(forward: str) -> None:
    found = ia103(two_layer("nn.init.xavier_uniform_(self.fc1.weight)", forward))
    assert len(found) == 1
    assert "fc1" in found[0].message


@pytest.mark.parametrize("module", ["nn.ReLU()", "nn.GELU()", "nn.PReLU()", "nn.LeakyReLU(0.1)",
                                    "nn.SiLU(inplace=True)", "nn.Mish()", "nn.ELU()"])
def test_xavier_before_activation_module_attribute(module: str) -> None:
    code = two_layer("nn.init.xavier_normal_(self.fc1.weight)",
                     "return self.fc2(self.act(self.fc1(x)))", extra=f"self.act = {module}")
    assert len(ia103(code)) == 1


def test_sequential_order_and_loop_with_isinstance() -> None:
    code = """
class MLP(nn.Module):
    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(
            nn.Linear(16, 32), nn.ReLU(), nn.Dropout(0.1),
            nn.Linear(32, 32), nn.ReLU(),
            nn.Linear(32, 4),
        )
        for m in self.net:
            if isinstance(m, nn.Linear):
                nn.init.xavier_uniform_(m.weight)

    def forward(self, x):
        return self.net(x)
"""
    [finding] = ia103(code)
    assert "2 Linear layers" in finding.message and "net.0, net.3" in finding.message
    assert finding.fix is None  # net.5 feeds the logits: one rewrite cannot suit all three


def test_indexed_sequential_weight() -> None:
    code = """
class MLP(nn.Module):
    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(16, 32), nn.Tanh(), nn.Linear(32, 4))
        nn.init.kaiming_normal_(self.net[0].weight, nonlinearity="relu")
        nn.init.xavier_normal_(self.net[-1].weight)

    def forward(self, x):
        return self.net(x)
"""
    [finding] = ia103(code)
    assert "net.0" in finding.message and "tanh" in finding.message


def test_ordered_dict_sequential() -> None:
    code = """
from collections import OrderedDict

class MLP(nn.Module):
    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(OrderedDict([
            ("fc", nn.Linear(16, 32)), ("act", nn.Sigmoid()), ("out", nn.Linear(32, 4)),
        ]))
        nn.init.kaiming_uniform_(self.net.fc.weight, nonlinearity="relu")

    def forward(self, x):
        return self.net(x)
"""
    [finding] = ia103(code)
    assert "net.fc" in finding.message and "sigmoid" in finding.message


@pytest.mark.parametrize("init_line,forward", [
    ("nn.init.kaiming_normal_(self.fc1.weight)", "return self.fc2(torch.tanh(self.fc1(x)))"),
    ("nn.init.kaiming_uniform_(self.fc1.weight, a=0.2)", "return self.fc2(torch.sigmoid(self.fc1(x)))"),
    ("nn.init.kaiming_normal_(self.fc2.weight, mode='fan_out', nonlinearity='relu')",
     "return self.fc2(F.relu(self.fc1(x)))"),
    ("nn.init.xavier_uniform_(self.fc1.weight, gain=nn.init.calculate_gain('tanh'))",
     "return self.fc2(F.relu(self.fc1(x)))"),
    ("nn.init.xavier_uniform_(self.fc1.weight, gain=nn.init.calculate_gain('sigmoid'))",
     "return self.fc2(torch.tanh(self.fc1(x)))"),
    ("nn.init.kaiming_normal_(self.fc1.weight, nonlinearity='tanh')",
     "return self.fc2(F.relu(self.fc1(x)))"),
    ("nn.init.xavier_uniform_(self.fc1.weight, gain=1.0)", "return self.fc2(F.relu(self.fc1(x)))"),
    ("nn.init.orthogonal_(self.fc1.weight, gain=nn.init.calculate_gain('linear'))",
     "return self.fc2(F.relu(self.fc1(x)))"),
])
def test_mismatches(init_line: str, forward: str) -> None:
    assert len(ia103(two_layer(init_line, forward))) == 1


@pytest.mark.parametrize("init_line,forward", [
    # the right scheme
    ("nn.init.kaiming_normal_(self.fc1.weight, nonlinearity='relu')", "return self.fc2(F.relu(self.fc1(x)))"),
    ("nn.init.kaiming_uniform_(self.fc1.weight, a=0.01, nonlinearity='leaky_relu')",
     "return self.fc2(F.leaky_relu(self.fc1(x)))"),
    ("nn.init.kaiming_normal_(self.fc1.weight)", "return self.fc2(F.gelu(self.fc1(x)))"),
    ("nn.init.xavier_uniform_(self.fc1.weight)", "return self.fc2(torch.tanh(self.fc1(x)))"),
    ("nn.init.xavier_uniform_(self.fc1.weight, gain=nn.init.calculate_gain('tanh'))",
     "return self.fc2(torch.tanh(self.fc1(x)))"),
    ("nn.init.xavier_uniform_(self.fc1.weight, gain=math.sqrt(2))", "return self.fc2(F.relu(self.fc1(x)))"),
    ("nn.init.xavier_normal_(self.fc2.weight)", "return self.fc2(F.relu(self.fc1(x)))"),
    ("nn.init.xavier_uniform_(self.fc1.weight)", "return self.fc2(torch.sigmoid(self.fc1(x)))"),
    # torch's own default (a=sqrt(5)) is not an intent
    ("nn.init.kaiming_uniform_(self.fc2.weight, a=math.sqrt(5))", "return self.fc2(F.relu(self.fc1(x)))"),
    # a norm between the layer and the activation resets the scale
    ("nn.init.xavier_uniform_(self.fc1.weight)", "return self.fc2(F.relu(self.bn(self.fc1(x))))"),
    ("nn.init.xavier_uniform_(self.fc1.weight)", "return self.fc2(F.relu(F.layer_norm(self.fc1(x), (32,))))"),
    # unknown consumers stay unknown
    ("nn.init.xavier_uniform_(self.fc1.weight)", "return self.fc2(self.block(self.fc1(x)))"),
    ("nn.init.xavier_uniform_(self.fc1.weight)", "return self.fc2(getattr(F, self.name)(self.fc1(x)))"),
    ("nn.init.kaiming_normal_(self.fc2.weight)", "return x + self.fc2(F.relu(self.fc1(x)))"),
    # a gain that is not a literal
    ("nn.init.xavier_uniform_(self.fc1.weight, gain=self.gain)", "return self.fc2(F.relu(self.fc1(x)))"),
])
def test_not_reported(init_line: str, forward: str) -> None:
    extra = "self.bn = nn.BatchNorm1d(32)\n        self.block = Block()"
    assert ia103("import math\n" + two_layer(init_line, forward, extra)) == []


def test_kaiming_before_logits_only_in_root_model() -> None:
    block = """
class Head(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(8, 8)
        nn.init.kaiming_normal_(self.fc.weight)

    def forward(self, x):
        return self.fc(x)
"""
    assert len(ia103(block)) == 1  # the file's root model: its output is the logits
    composed = block + """
class Model(nn.Module):
    def __init__(self):
        super().__init__()
        self.head = Head()

    def forward(self, x):
        return torch.relu(self.head(x))
"""
    assert ia103(composed) == []  # what follows Head is decided in Model, not known as logits


def test_later_init_overrides_earlier() -> None:
    code = two_layer(
        "nn.init.xavier_uniform_(self.fc1.weight)\n        nn.init.kaiming_uniform_(self.fc1.weight, nonlinearity='relu')",
        "return self.fc2(F.relu(self.fc1(x)))")
    assert ia103(code) == []


def test_an_explicit_init_after_apply_overrides_what_apply_wrote() -> None:
    """DiT: every Linear gets Xavier through ``self.apply``, then the timestep MLP before SiLU is
    drawn again with std 0.02; the Xavier before SiLU is gone by then. Layers that nothing
    writes again keep their finding."""
    code = """
class Embedder(nn.Module):
    def __init__(self):
        super().__init__()
        self.mlp = nn.Sequential(nn.Linear(16, 32), nn.SiLU(), nn.Linear(32, 32))
        self.gate = nn.Sequential(nn.Linear(32, 32), nn.ReLU())

    def forward(self, t):
        return self.gate(self.mlp(t))


class DiT(nn.Module):
    def __init__(self):
        super().__init__()
        self.t_embedder = Embedder()
        self.initialize_weights()

    def initialize_weights(self):
        def _basic_init(module):
            if isinstance(module, nn.Linear):
                torch.nn.init.xavier_uniform_(module.weight)
        self.apply(_basic_init)
        nn.init.normal_(self.t_embedder.mlp[0].weight, std=0.02)

    def forward(self, t):
        return self.t_embedder(t)
"""
    found = ia103(code)
    assert len(found) == 1 and "t_embedder.gate.0" in found[0].message


def test_helper_method_called_from_init() -> None:
    code = """
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(16, 32)
        self.fc2 = nn.Linear(32, 4)
        self._init()

    def _init(self):
        nn.init.xavier_uniform_(self.fc1.weight)

    def forward(self, x):
        x = self.fc1(x)
        x = F.relu(x)
        return self.fc2(x)
"""
    assert len(ia103(code)) == 1


def test_residual_relu_after_add() -> None:
    code = """
class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(8, 8, 3, padding=1)
        self.conv2 = nn.Conv2d(8, 8, 3, padding=1)
        nn.init.xavier_normal_(self.conv2.weight)

    def forward(self, x):
        out = F.relu(self.conv1(x))
        out = self.conv2(out)
        out += x
        return F.relu(out)
"""
    [finding] = ia103(code)
    assert "conv2" in finding.message


def test_local_sequential_in_a_script() -> None:
    code = """
net1 = nn.Sequential(nn.Linear(30, 40), nn.ReLU(), nn.Linear(40, 50), nn.ReLU(), nn.Linear(50, 10))
init.xavier_uniform_(net1[0].weight)
init.xavier_uniform_(net1[4].weight)
"""
    [finding] = ia103(code)
    assert "net1.0" in finding.message
