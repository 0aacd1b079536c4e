"""IA101-IA103 through the shapes real model code uses: apply, loops, composition, defaults."""

from __future__ import annotations

import pytest

from initaudit.diagnostics import Diagnostic
from tests.lint.selection import lint_selected

HEADER = "import torch\nimport torch.nn as nn\nimport torch.nn.functional as F\nfrom functools import partial\n"
#: The rules that judge what these shapes initialise (zero, constant, scheme, unscaled draw).
JUDGES = ("IA101", "IA102", "IA103", "IA105")


def found(code: str, rule: str = "IA103") -> list[Diagnostic]:
    return lint_selected(HEADER + code, rule)


def judged(code: str) -> list[Diagnostic]:
    """The findings of every rule in ``JUDGES`` on ``code``, selected alone."""
    return lint_selected(code, *JUDGES)


def test_apply_with_init_weights_method() -> None:
    code = """
class MLP(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(16, 64)
        self.fc2 = nn.Linear(64, 64)
        self.head = nn.Linear(64, 10)
        self.norm = nn.LayerNorm(64)
        self.apply(self._init_weights)

    def _init_weights(self, module):
        if isinstance(module, nn.Linear):
            nn.init.xavier_uniform_(module.weight)
            nn.init.zeros_(module.bias)
        elif isinstance(module, nn.LayerNorm):
            nn.init.ones_(module.weight)

    def forward(self, x):
        x = F.relu(self.fc1(x))
        x = F.relu(self.norm(self.fc2(x)))
        return self.head(x)
"""
    [finding] = found(code)
    assert "fc1" in finding.message and "fc2" not in finding.message
    assert finding.line == 17  # points at the init call inside _init_weights
    assert found(code, "IA101") == found(code, "IA102") == []


def test_module_level_apply_with_function_and_partial() -> None:
    code = """
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3)
        self.fc = nn.Linear(8, 2)

    def forward(self, x):
        x = torch.tanh(self.conv(x))
        return self.fc(x.mean((2, 3)))

def init_weights(m, gain=1.0):
    if type(m) == nn.Conv2d:
        nn.init.kaiming_normal_(m.weight, nonlinearity="relu")

model = Net()
model.apply(init_weights)
other = Net()
other.apply(partial(init_weights, gain=2.0))
"""
    findings = found(code)
    assert findings and all("conv" in f.message and "tanh" in f.message for f in findings)


def test_dcgan_style_class_name_dispatch() -> None:
    code = """
class Generator(nn.Module):
    def __init__(self):
        super().__init__()
        self.main = nn.Sequential(
            nn.ConvTranspose2d(100, 64, 4), nn.BatchNorm2d(64), nn.ReLU(True),
            nn.ConvTranspose2d(64, 3, 4), nn.Tanh(),
        )

    def forward(self, x):
        return self.main(x)

def weights_init(m):
    classname = m.__class__.__name__
    if classname.find('Conv') != -1:
        nn.init.kaiming_normal_(m.weight.data)
    elif classname.find('BatchNorm') != -1:
        nn.init.normal_(m.weight.data, 1.0, 0.02)
        nn.init.constant_(m.bias.data, 0)

netG = Generator()
netG.apply(weights_init)
"""
    [finding] = found(code)
    assert "main.3" in finding.message and "tanh" in finding.message  # main.0 is behind a BatchNorm
    assert found(code, "IA102") == [] and found(code, "IA101") == []


@pytest.mark.parametrize("guard", [
    "if p.dim() > 1:",
    "if p.ndim >= 2:",
    "if len(p.shape) > 1:",
    "if 'weight' in name and p.dim() == 2:",
])
def test_parameters_loop_with_dim_guard(guard: str) -> None:
    code = f"""
class MLP(nn.Module):
    def __init__(self):
        super().__init__()
        self.layers = nn.Sequential(nn.Linear(8, 32), nn.GELU(), nn.Linear(32, 32), nn.GELU(), nn.Linear(32, 1))
        for name, p in self.named_parameters():
            {guard}
                nn.init.xavier_normal_(p)

    def forward(self, x):
        return self.layers(x)
"""
    [finding] = found(code)
    assert "layers.0, layers.2" in finding.message


def test_parameters_loop_without_guard_writes_the_weights_too() -> None:
    code = """
class MLP(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(8, 8)
        for p in self.parameters():
            nn.init.zeros_(p)

    def forward(self, x):
        return F.relu(self.fc(x))
"""
    # zeros_ takes vectors too: the loop zeroes every bias and every weight
    assert [d.code for d in judged(HEADER + code)] == ["IA101"]


def test_parameters_loop_zeroing_weights() -> None:
    code = """
class MLP(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(8, 8)
        self.out = nn.Linear(8, 1)
        for name, p in self.named_parameters():
            if name.endswith("weight"):
                nn.init.zeros_(p)

    def forward(self, x):
        return self.out(F.relu(self.fc(x)))
"""
    [finding] = found(code, "IA101")
    assert "fc.weight" in finding.message and finding.severity.value == "error"


def test_composition_across_classes_and_act_layer_default() -> None:
    code = """
class Mlp(nn.Module):
    def __init__(self, dim, hidden, act_layer=nn.GELU):
        super().__init__()
        self.fc1 = nn.Linear(dim, hidden)
        self.act = act_layer()
        self.fc2 = nn.Linear(hidden, dim)

    def forward(self, x):
        return self.fc2(self.act(self.fc1(x)))

class Block(nn.Module):
    def __init__(self, dim):
        super().__init__()
        self.norm = nn.LayerNorm(dim)
        self.mlp = Mlp(dim, 4 * dim)

    def forward(self, x):
        return x + self.mlp(self.norm(x))

class Model(nn.Module):
    def __init__(self, dim=64, depth=4):
        super().__init__()
        self.blocks = nn.ModuleList([Block(dim) for _ in range(depth)])
        self.head = nn.Linear(dim, 10)
        for m in self.modules():
            if isinstance(m, nn.Linear):
                nn.init.xavier_uniform_(m.weight)

    def forward(self, x):
        for blk in self.blocks:
            x = blk(x)
        return self.head(x)
"""
    [finding] = found(code)
    assert "blocks.0.mlp.fc1" in finding.message and "gelu" in finding.message
    assert "fc2" not in finding.message and "head" not in finding.message


def test_string_switch_resolved_when_constant() -> None:
    code = """
class Block(nn.Module):
    def __init__(self, d, activation="relu"):
        super().__init__()
        self.fc = nn.Linear(d, d)
        self.act = nn.ReLU() if activation == "relu" else nn.Tanh()
        self.out = nn.Linear(d, 1)
        nn.init.xavier_uniform_(self.fc.weight)

    def forward(self, x):
        return self.out(self.act(self.fc(x)))
"""
    assert len(found(code)) == 1


def test_dynamic_activation_stays_unknown() -> None:
    code = """
class Block(nn.Module):
    def __init__(self, d, activation):
        super().__init__()
        self.fc = nn.Linear(d, d)
        self.act = getattr(nn, activation)()
        self.out = nn.Linear(d, 1)
        nn.init.xavier_uniform_(self.fc.weight)

    def forward(self, x):
        return self.out(self.act(self.fc(x)))
"""
    assert found(code) == []


def test_zero_init_of_residual_branch_in_composed_block_is_intentional() -> None:
    code = """
class Attention(nn.Module):
    def __init__(self, d):
        super().__init__()
        self.qkv = nn.Linear(d, 3 * d)
        self.proj = nn.Linear(d, d)

    def forward(self, x):
        q, k, v = self.qkv(x).chunk(3, dim=-1)
        return self.proj(F.scaled_dot_product_attention(q, k, v))

class Block(nn.Module):
    def __init__(self, d):
        super().__init__()
        self.norm = nn.LayerNorm(d)
        self.attn = Attention(d)
        nn.init.zeros_(self.attn.proj.weight)

    def forward(self, x):
        return self.norm(x + self.attn(x))
"""
    assert judged(HEADER + code) == []


def test_helper_functions_and_literal_lists() -> None:
    code = """
def init_layer(layer):
    nn.init.xavier_uniform_(layer.weight)
    nn.init.zeros_(layer.bias)

class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(4, 8)
        self.fc2 = nn.Linear(8, 8)
        self.fc3 = nn.Linear(8, 2)
        self.bn = nn.BatchNorm1d(8)
        init_layer(self.fc1)
        for layer in (self.fc2, self.fc3):
            nn.init.kaiming_normal_(layer.weight, nonlinearity="relu")
        self._init_norm(self.bn)
        self._init_norm(self.fc2)

    def _init_norm(self, m):
        if isinstance(m, nn.BatchNorm1d):
            nn.init.constant_(m.weight, 0.5)

    def forward(self, x):
        x = F.relu(self.fc1(x))
        x = torch.tanh(self.fc2(x))
        return self.fc3(x)
"""
    findings = found(code)
    assert len(findings) == 3
    assert "fc1" in findings[0].message and findings[0].line == 7
    assert {"fc2", "fc3"} <= {name for f in findings[1:] for name in ("fc2", "fc3") if name in f.message}
    assert found(code, "IA102") == []  # the helper's isinstance keeps fc2 out of constant_


def test_containers_filled_incrementally() -> None:
    code = """
class MLP(nn.Module):
    def __init__(self, sizes):
        super().__init__()
        layers = []
        for a, b in zip(sizes[:-1], sizes[1:]):
            layers.append(nn.Linear(a, b))
            layers.append(nn.Tanh())
        self.net = nn.Sequential(*layers)
        self.head = nn.Sequential()
        self.head.add_module("fc", nn.Linear(4, 4))
        self.head.add_module("act", nn.Sigmoid())
        for m in self.modules():
            if isinstance(m, nn.Linear):
                nn.init.kaiming_normal_(m.weight, nonlinearity="relu")

    def forward(self, x):
        return self.head(self.net(x))
"""
    tanh, sigmoid = sorted(found(code), key=lambda d: "sigmoid" in d.message)
    assert "net.0" in tanh.message and "tanh" in tanh.message  # one finding per activation kind
    assert "head.fc" in sigmoid.message and "sigmoid" in sigmoid.message


def test_component_passed_to_another_model_has_no_final_output() -> None:
    code = """
class Encoder(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 8, 3)
        self.conv = nn.Conv2d(8, 16, 1)
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")

    def forward(self, x):
        return self.conv(F.relu(self.conv1(x)))

class Flow(nn.Module):
    def __init__(self, encoder):
        super().__init__()
        self.encoder = encoder

def build(**kwargs):
    encoder = kwargs.pop("encoder", None) or Encoder()
    return Flow(encoder)
"""
    assert found(code) == []  # whatever Flow does with the encoder's output is not visible here


@pytest.mark.parametrize("code", [
    # frozen placeholder filled from a checkpoint
    """
class Packed(nn.Module):
    def __init__(self, n, d):
        super().__init__()
        self.weight = nn.Parameter(torch.zeros(n, d), requires_grad=False)

    def forward(self, x):
        return F.linear(x, self.weight)
""",
    # the library initialises every module after construction
    """
class Router(nn.Module):
    def __init__(self, n, d):
        super().__init__()
        self.weight = nn.Parameter(torch.zeros(n, d))

    def forward(self, x):
        return F.linear(x, self.weight)

class MoePreTrainedModel(PreTrainedModel):
    pass
""",
    # Gaussian Fourier features: one input per unit, so std 1 is already 1/sqrt(fan_in)
    """
class Fourier(nn.Module):
    def __init__(self, dim):
        super().__init__()
        self.freqs = nn.Parameter(torch.randn(dim // 2, 1))

    def forward(self, t):
        angles = 2 * math.pi * t @ self.freqs.T
        return torch.cat([angles.cos(), angles.sin()], dim=-1)
""",
])
def test_library_shapes_that_are_not_bugs(code: str) -> None:
    assert judged("import math\n" + HEADER + code) == []


def test_parameters_loop_of_a_fan_based_init_without_guard_is_not_judged() -> None:
    code = """
class MLP(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(8, 8)
        for p in self.parameters():
            nn.init.xavier_uniform_(p)

    def forward(self, x):
        return F.relu(self.fc(x))
"""
    # xavier_uniform_ raises on the first bias the loop reaches: what it wrote before is unknown
    assert [d.code for d in judged(HEADER + code)] == []
