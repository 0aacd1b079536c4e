"""IA101 zero-weight-init and IA102 constant-weight-init."""

from __future__ import annotations

import pytest

from initaudit.diagnostics import Diagnostic, Severity
from tests.lint.selection import codes_selected, lint_selected

HEADER = "import torch\nimport torch.nn as nn\nfrom torch.nn import init\n"
#: The two rules of this file, selected alone: which of them reports a constant is part of what
#: is tested, and no other rule's finding on the same code can change it.
RULES = ("IA101", "IA102")


def lint(code: str) -> list[Diagnostic]:
    return lint_selected(code, *RULES)


def codes(code: str) -> list[str]:
    return codes_selected(code, *RULES)


def tanh_net(statement: str) -> str:
    """A hidden layer whose consumer (tanh, then another layer) is known, initialised by
    ``statement`` in __init__."""
    return HEADER + f"""
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(8, 4)
        {statement}
        self.out = nn.Linear(4, 2)

    def forward(self, x):
        return self.out(torch.tanh(self.fc(x)))
"""


@pytest.mark.parametrize("statement", [
    "nn.init.zeros_(self.fc.weight)",
    "nn.init.constant_(self.fc.weight, 0)",
    "nn.init.constant_(self.fc.weight, 0.0)",
    "init.constant(self.fc.weight, 0)",
    "torch.nn.init.zeros_(self.fc.weight)",
    "self.fc.weight.data.zero_()",
    "self.fc.weight.data.fill_(0)",
    "self.fc.weight.data.copy_(torch.zeros(4, 8))",
])
def test_zero_spellings_are_reported(statement: str) -> None:
    assert "IA101" in codes(tanh_net(statement))


def test_fill_under_no_grad_is_reported() -> None:
    assert codes(tanh_net("with torch.no_grad():\n            self.fc.weight.fill_(0.5)")) == ["IA102"]


@pytest.mark.parametrize("statement", [
    "nn.init.ones_(self.fc.weight)",
    "nn.init.constant_(self.fc.weight, 0.1)",
    "self.fc.weight.data.fill_(1.0)",
    "self.fc.weight.data.copy_(torch.ones(4, 8))",
    "nn.init.constant_(self.fc.weight, value)",
])
def test_constant_spellings_are_reported(statement: str) -> None:
    assert codes("value = 3\n" + tanh_net(statement)) == ["IA102"]


def zero_layer_before(activation: str) -> str:
    return HEADER + f"""
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(8, 4)
        self.fc2 = nn.Linear(4, 2)
        nn.init.zeros_(self.fc1.weight)

    def forward(self, x):
        return self.fc2(torch.{activation}(self.fc1(x)))
"""


def test_error_when_zero_layer_feeds_relu() -> None:
    [diagnostic] = lint(zero_layer_before("relu"))
    assert (diagnostic.code, diagnostic.severity) == ("IA101", Severity.ERROR)
    assert "ReLU" in diagnostic.message
    assert diagnostic.fix is not None and "kaiming_uniform_" in diagnostic.fix.message


def test_warning_when_zero_layer_feeds_tanh() -> None:
    [diagnostic] = lint(zero_layer_before("tanh"))
    assert diagnostic.severity is Severity.WARNING


def test_unknown_consumer_inside_a_model_class_is_not_judged() -> None:
    code = HEADER + """
class Decoder(nn.Module):
    def __init__(self):
        super().__init__()
        self.proj_out = nn.Linear(8, 8)
        nn.init.zeros_(self.proj_out.weight)

    def forward(self, x, scale):
        return self.unpatchify(self.proj_out(x)) * scale
"""
    assert codes(code) == []


def test_router_created_as_zeros_and_reinitialised_by_the_library_convention() -> None:
    code = HEADER + """
class TopKRouter(nn.Module):
    def __init__(self, n, d):
        super().__init__()
        self.weight = nn.Parameter(torch.zeros(n, d))

    def forward(self, x):
        return F.linear(x, self.weight)

class PreTrained(nn.Module):
    def _init_weights(self, module):
        if isinstance(module, TopKRouter):
            nn.init.normal_(module.weight, std=0.02)
"""
    assert codes("import torch.nn.functional as F\n" + code) == []


def test_branch_dependent_parameter_shape_is_unknown() -> None:
    code = HEADER + """
class Rotation(nn.Module):
    def __init__(self, size, orth):
        super().__init__()
        if orth:
            self.weight = nn.Parameter(torch.empty(size * (size - 1) // 2))
        else:
            self.weight = nn.Parameter(torch.empty(size, size))
        with torch.no_grad():
            nn.init.eye_(self.weight)

    def forward(self, x):
        return x @ self.weight
"""
    assert codes(code) == []


def test_seed_tutorial_module_level_layer() -> None:
    code = HEADER + """
linear = nn.Linear(5, 2)
nn.init.zeros_(linear.weight)
print(linear.weight)
"""
    assert codes(code) == ["IA101"]


@pytest.mark.parametrize("assigned, reported", [("weight", False), ("bias", True)])
def test_a_zero_parameter_whose_data_an_assignment_replaces_is_not_judged(assigned: str, reported: bool) -> None:
    """score_sde_pytorch's StyleGAN2 Conv2d: zeros, then ``self.weight.data = kernel_init(shape)``
    (every caller passes one). Replacing another parameter's data leaves the zero weight."""
    code = HEADER + f"""
class Conv2d(nn.Module):
    def __init__(self, in_ch, out_ch, kernel, kernel_init=None):
        super().__init__()
        self.weight = nn.Parameter(torch.zeros(out_ch, in_ch, kernel, kernel))
        self.bias = nn.Parameter(torch.zeros(out_ch))
        if kernel_init is not None:
            self.{assigned}.data = kernel_init(self.{assigned}.data.shape)

    def forward(self, x):
        return F.conv2d(x, self.weight) + self.bias.reshape(1, -1, 1, 1)
"""
    assert (codes("import torch.nn.functional as F\n" + code) == ["IA101"]) is reported


def test_zero_parameter_matrix_used_as_weight() -> None:
    code = HEADER + """
class MyLinear(nn.Module):
    def __init__(self, n_in, n_out):
        super().__init__()
        self.weight = nn.Parameter(torch.zeros(n_out, n_in))

    def forward(self, x):
        return x @ self.weight.t()
"""
    assert codes(code) == ["IA101"]


@pytest.mark.parametrize("name, reported", [("pos_emb", False), ("cls_token", False), ("w_pos", True)])
def test_a_zero_positional_table_or_token_is_a_start_not_a_dead_weight(name: str, reported: bool) -> None:
    """CoPE (x-transformers, and the paper's own code): ``pos_emb`` starts at zero and meets the
    query in an einsum. No layer feeds a table or a learned token, so a zero start stalls
    nothing before it; a projection spelled ``w_pos`` is a weight."""
    code = HEADER + f"""
class CoPE(nn.Module):
    def __init__(self, dim, max_pos):
        super().__init__()
        self.{name} = nn.Parameter(torch.zeros(max_pos, dim))

    def forward(self, query):
        return torch.einsum("b n d, p d -> b n p", query, self.{name})
"""
    assert (codes(code) == ["IA101"]) is reported


@pytest.mark.parametrize("code", [
    # biases, norm layers and 1-D scales are meant to start constant
    """
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(8, 4)
        self.bn = nn.BatchNorm1d(4)
        self.ln = nn.LayerNorm(4)
        nn.init.kaiming_normal_(self.fc.weight)
        nn.init.zeros_(self.fc.bias)
        nn.init.ones_(self.bn.weight)
        nn.init.zeros_(self.bn.bias)
        nn.init.constant_(self.ln.weight, 1.0)
        self.gamma = nn.Parameter(torch.zeros(4))
        self.scale = nn.Parameter(torch.ones(1))
""",
    # a 2-D Parameter added to the signal is an offset, not a weight (torch's own test Task)
    """
class Task(nn.Module):
    def __init__(self):
        super().__init__()
        self.p = nn.Parameter(torch.ones(2, 2))

    def forward(self, x):
        return self.p + x
""",
    # a zero init overwritten later in the same __init__
    """
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(8, 4)
        nn.init.zeros_(self.fc.weight)
        nn.init.xavier_uniform_(self.fc.weight)
""",
    # a zero Parameter re-initialised by reset_parameters
    """
class MyLinear(nn.Module):
    def __init__(self, n_in, n_out):
        super().__init__()
        self.weight = nn.Parameter(torch.zeros(n_out, n_in))
        self.reset_parameters()

    def reset_parameters(self):
        nn.init.kaiming_uniform_(self.weight, a=5 ** 0.5)

    def forward(self, x):
        return x @ self.weight.t()
""",
    # LoRA: B is zero while A is random, so the adapter starts as a no-op
    """
class LoRALinear(nn.Module):
    def __init__(self, n_in, n_out, r=8):
        super().__init__()
        self.lora_A = nn.Parameter(torch.zeros(r, n_in))
        self.lora_B = nn.Parameter(torch.zeros(n_out, r))
        nn.init.kaiming_uniform_(self.lora_A, a=5 ** 0.5)
        nn.init.zeros_(self.lora_B)

    def forward(self, x):
        return x @ self.lora_A.t() @ self.lora_B.t()
""",
    # zero-init residual branch: the block starts as the identity
    """
class Block(nn.Module):
    def __init__(self, d):
        super().__init__()
        self.fc1 = nn.Linear(d, 4 * d)
        self.proj = nn.Linear(4 * d, d)
        nn.init.zeros_(self.proj.weight)

    def forward(self, x):
        return x + self.proj(torch.relu(self.fc1(x)))
""",
    # ControlNet-style zero convolution, adaLN-Zero modulation, zero classifier head
    """
class ControlBlock(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.zero_conv = nn.Conv2d(c, c, 1)
        self.adaLN_modulation = nn.Sequential(nn.SiLU(), nn.Linear(c, 6 * c))
        nn.init.zeros_(self.zero_conv.weight)
        nn.init.constant_(self.adaLN_modulation[-1].weight, 0)
        nn.init.constant_(self.adaLN_modulation[-1].bias, 0)
""",
    """
class Classifier(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = nn.Linear(16, 16)
        self.head = nn.Linear(16, 10)
        nn.init.kaiming_normal_(self.body.weight, nonlinearity="relu")
        nn.init.zeros_(self.head.weight)

    def forward(self, x):
        return self.head(torch.relu(self.body(x)))
""",
    # ReZero: a scalar residual weight
    """
class ReZeroBlock(nn.Module):
    def __init__(self, d):
        super().__init__()
        self.fc = nn.Linear(d, d)
        self.resweight = nn.Parameter(torch.Tensor([0]))

    def forward(self, x):
        return x + self.resweight * torch.relu(self.fc(x))
""",
    # gradients and unrelated tensors are not weights
    """
def train_step(model, optimizer, x):
    for p in model.parameters():
        if p.grad is not None:
            p.grad.zero_()
    buffer = torch.empty(3, 3)
    buffer.fill_(0)
    optimizer.zero_grad()
""",
    # a local variable called init is not torch.nn.init
    """
class Net(nn.Module):
    def __init__(self, init):
        super().__init__()
        self.fc = nn.Linear(8, 4)
        init.zeros_(self.fc.weight)
""",
])
def test_not_reported(code: str) -> None:
    assert codes(HEADER + code) == []


def test_loop_over_modules_with_isinstance() -> None:
    code = HEADER + """
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(nn.Conv2d(3, 8, 3), nn.BatchNorm2d(8), nn.ReLU())
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.constant_(m.weight, 0.01)
            elif isinstance(m, nn.BatchNorm2d):
                nn.init.constant_(m.weight, 1)
                nn.init.constant_(m.bias, 0)
"""
    [diagnostic] = lint(code)
    assert diagnostic.code == "IA102"
    assert "features.0" in diagnostic.message
