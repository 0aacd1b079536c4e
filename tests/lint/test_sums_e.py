"""IA103 through sums: a skip connection (``x + f(x)``) is not judged, a sum with another tensor
is a linear combination judged by what follows it."""

from __future__ import annotations

from initaudit.diagnostics import Diagnostic
from tests.lint.selection import lint_selected

HEADER = "import torch\nimport torch.nn as nn\nimport torch.nn.functional as F\n"


def found(code: str) -> list[Diagnostic]:
    return lint_selected(HEADER + code, "IA103")


EMBEDDING = """
class Embedding(nn.Module):
    def __init__(self, c_in, d_model):
        super().__init__()
        self.token = nn.Conv1d(c_in, d_model, 3, padding=1)
        self.position = nn.Embedding(512, d_model)
        nn.init.kaiming_normal_(self.token.weight, mode="fan_in", nonlinearity="leaky_relu")

    def forward(self, x, positions):
        x = {sum}
        return {out}
"""


def test_he_on_a_layer_summed_with_an_embedding_and_returned_is_reported() -> None:
    code = EMBEDDING.format(sum="self.token(x.permute(0, 2, 1)).transpose(1, 2) + self.position(positions)", out="x")
    assert [(d.code, d.line) for d in found(code)] == [("IA103", 10)]
    assert "no activation (it is the model's output)" in found(code)[0].message


def test_the_sum_of_two_layer_outputs_is_judged_by_what_follows_it() -> None:
    relu = EMBEDDING.format(sum="self.token(x) + self.position(positions)", out="F.relu(x)")
    assert found(relu) == []
    tanh = EMBEDDING.format(sum="self.token(x) + self.position(positions)", out="torch.tanh(x)")
    assert [(d.code, d.line) for d in found(tanh)] == [("IA103", 10)]


def test_a_layer_output_added_to_a_position_and_returned_is_the_output() -> None:
    code = EMBEDDING.format(sum="positions + self.token(x)", out="x.view(-1, 2)")
    assert [(d.code, d.line) for d in found(code)] == [("IA103", 10)]


RESIDUAL = """
class Block(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.conv1 = nn.Conv2d(c, c, 3, padding=1)
        self.conv2 = nn.Conv2d(c, c, 3, padding=1)
        nn.init.kaiming_normal_(self.conv2.weight, nonlinearity="relu")

    def forward(self, x):
        {body}
"""


def test_the_last_layer_of_a_residual_branch_is_not_judged() -> None:
    for body in ("return x + self.conv2(F.relu(self.conv1(x)))",
                 "h = x\n        out = self.conv2(F.relu(self.conv1(x)))\n        return h + out",
                 "out = self.conv2(F.relu(self.conv1(x)))\n        out += x\n        return out"):
        assert found(RESIDUAL.format(body=body)) == [], body


def test_a_projection_of_the_input_is_a_shortcut() -> None:
    body = "out = self.conv2(F.relu(self.conv1(x)))\n        return out + self.conv1(x)"
    assert found(RESIDUAL.format(body=body)) == []


def test_a_branch_summed_with_a_layer_of_another_input_is_judged() -> None:
    code = RESIDUAL.format(body="return self.conv2(F.relu(x)) + self.conv1(c)").replace("(self, x)", "(self, x, c)")
    assert [(d.code, d.line) for d in found(code)] == [("IA103", 10)]


def test_a_residual_sum_then_relu_is_judged_as_relu() -> None:
    quiet = RESIDUAL.format(body="return F.relu(x + self.conv2(F.relu(self.conv1(x))))")
    assert found(quiet) == []
    xavier = quiet.replace('kaiming_normal_(self.conv2.weight, nonlinearity="relu")', "xavier_normal_(self.conv2.weight)")
    assert [(d.code, d.line) for d in found(xavier)] == [("IA103", 10)]


STAGES = """
class Stages(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.embed = nn.Linear(c, c)
        self.blocks = nn.ModuleList([nn.Linear(c, c) for _ in range(4)])
        for block in self.blocks:
            nn.init.kaiming_normal_(block.weight, nonlinearity="relu")

    def forward(self, x):
        h = torch.tanh(self.embed(x))
        for block in self.blocks:
            {step}
        return h
"""


def test_a_stage_input_added_to_what_the_stage_computes_from_it_is_a_skip() -> None:
    assert found(STAGES.format(step="h = h + block(F.relu(h))")) == []
    assert found(STAGES.format(step="h += block(F.relu(h))")) == []


def test_a_sum_accumulated_over_stages_is_a_linear_combination() -> None:
    code = STAGES.format(step="h = h + block(torch.tanh(x))")
    assert [(d.code, d.line) for d in found(code)] == [("IA103", 11)]


SHORTCUT = """
class Res(nn.Module):
    def __init__(self, c_in, c_out):
        super().__init__()
        self.conv1 = nn.Conv2d(c_in, c_out, 3, padding=1)
        self.conv2 = nn.Conv2d(c_out, c_out, 3, padding=1)
        self.shortcut = nn.Conv2d(c_in, c_out, 1) if c_in != c_out else nn.Identity()
        nn.init.kaiming_normal_(self.conv2.weight, nonlinearity="relu")

    def forward(self, x, y):
        h = self.conv1(x)
        h = self.conv2(F.relu(h))
        return h + self.shortcut({into})
"""


def test_a_shortcut_module_on_the_block_input_makes_a_skip_connection() -> None:
    assert found(SHORTCUT.format(into="x")) == []
    assert [(d.code, d.line) for d in found(SHORTCUT.format(into="y"))] == [("IA103", 11)]


def test_modules_side_by_side_on_the_input_are_no_shortcut_of_one_another() -> None:
    code = EMBEDDING.format(sum="self.token(x) + self.position(positions) + nn.Identity()(x)", out="x")
    assert [(d.code, d.line) for d in found(code)] == [("IA103", 10)]


MODULATION = """
class Final(nn.Module):
    def __init__(self, d):
        super().__init__()
        self.norm = nn.LayerNorm(d, elementwise_affine=False)
        self.linear = nn.Linear(d, 2 * d)
        self.proj = nn.Linear(d, d)
        nn.init.zeros_(self.linear.weight)

    def forward(self, x, c):
        scale, shift = torch.chunk(self.linear(F.silu(c)), 2, dim=-1)
        h = self.norm(x) * ({factor}) + shift
        return self.proj(h)
"""


def test_a_zero_modulation_around_one_passes_the_signal_through() -> None:
    assert lint_selected(HEADER + MODULATION.format(factor="1 + scale"), "IA101") == []
