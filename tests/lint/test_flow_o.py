"""IA103 through forward() data flow: in-place activations on a later statement, a raw weight
drawn with a hand-written scale, and a raw weight read through a local name."""

from __future__ import annotations

from initaudit.diagnostics import Diagnostic
from tests.lint.selection import lint_selected

HEADER = "import math\nimport torch\nimport torch.nn as nn\nimport torch.nn.functional as F\n"


def found(code: str) -> list[Diagnostic]:
    return lint_selected(HEADER + code, "IA103")


# A per-feature weight drawn N(0, sqrt(2 / (fan_in + fan_out))), Glorot by hand (gain 1); the
# product goes through an activation written as a statement of its own before the next layer.
PREP = """
class Prep(nn.Module):
    def __init__(self, n, hidden, out):
        super().__init__()
        std = math.sqrt(2.0 / (4 + hidden))
        self.w = nn.Parameter(std * torch.randn(n, 4, hidden))
        self.b = nn.Parameter(torch.zeros(n, hidden))
        self.cell = nn.GRUCell(hidden * n, out)

    def forward(self, x, h):
        y = torch.matmul(x, self.w).squeeze(2) + self.b
        {activation}
        y = y.reshape(y.shape[0], -1)
        return self.cell(y, h)
"""

IN_PLACE_RELU = ("y.relu_()", "F.relu_(y)", "torch.relu_(y)", "F.relu(y, inplace=True)",
                 "F.leaky_relu(y, 0.1, inplace=True)")


def test_glorot_by_hand_before_an_in_place_relu_is_reported() -> None:
    for activation in IN_PLACE_RELU:
        findings = found(PREP.format(activation=activation))
        assert [f.line for f in findings] == [10], activation
        assert "product with w" in findings[0].message


def test_an_in_place_squash_or_an_out_of_place_call_keeps_glorot_quiet() -> None:
    # ``y.tanh_()`` suits Glorot; ``F.relu(y)`` as a statement changes nothing ``y`` holds, so the
    # product still reaches the recurrent cell as it is (a linear map: Glorot suits it).
    for activation in ("y.tanh_()", "F.relu(y)", "F.relu(y, inplace=False)", "torch.sigmoid_(y)"):
        assert found(PREP.format(activation=activation)) == [], activation


def test_he_by_hand_before_an_in_place_relu_stays_quiet() -> None:
    code = PREP.format(activation="y.relu_()").replace("2.0 / (4 + hidden)", "2.0 / hidden")
    assert found(code) == []


def test_an_in_place_relu_of_another_name_leaves_the_product_to_the_cell() -> None:
    code = PREP.format(activation="z = y.clone()\n        z.relu_()")
    assert found(code) == []


# Rows of the raw weight picked through a local name, then multiplied.
PICKED = """
class Picked(nn.Module):
    def __init__(self, n, hidden, out):
        super().__init__()
        std = math.sqrt(2.0 / (4 + hidden))
        self.w = nn.Parameter(std * torch.randn(n, 4, hidden))
        self.b = nn.Parameter(torch.zeros(n, hidden))
        self.cell = nn.GRUCell(hidden, out)

    def forward(self, x, ids, h):
        w = {picked}
        b = self.b[ids]
        y = torch.matmul(x, w).squeeze(1) + b
        y.relu_()
        return self.cell(y, h)
"""


def test_rows_of_a_raw_weight_bound_to_a_name_are_that_weight() -> None:
    for picked in ("self.w[ids, :, :]", "self.w[ids]", "self.w.transpose(1, 2)[ids]"):
        findings = found(PICKED.format(picked=picked))
        assert [f.line for f in findings] == [10], picked


def test_a_name_bound_again_to_another_tensor_is_no_weight() -> None:
    code = PICKED.format(picked="self.w[ids]\n        w = torch.ones_like(b)")
    assert found(code) == []


# A block whose last layer's output is split: one half closes a residual sum, the other (the
# skip) leaves the block; the model sums the skips and feeds them to another layer directly.
SPLIT = """
def conv(*args, **kwargs):
    layer = nn.Conv1d(*args, **kwargs)
    nn.init.kaiming_normal_(layer.weight)
    return layer


class Block(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.mid = nn.Conv1d(c, c, 3, padding=1)
        self.out = {out}

    def forward(self, x):
        y = self.out(F.relu(self.mid(x)))
        residual, skip = torch.chunk(y, 2, dim=1)
        return (x + residual) / math.sqrt(2.0), skip


class Net(nn.Module):
    def __init__(self, c, n):
        super().__init__()
        self.blocks = nn.ModuleList([Block(c) for _ in range(n)])
        self.skip_projection = nn.Conv1d(c, c, 1)
        self.head = nn.Conv1d(c, 1, 1)

    def forward(self, x):
        skips = []
        for block in self.blocks:
            x, skip = block(x)
            skips.append(skip)
        x = {summed}
        return self.head({after}(self.skip_projection(x)))
"""

SUMS = ("torch.sum(torch.stack(skips), dim=0)", "torch.stack(skips).sum(0)")


def split(out: str = "conv(c, 2 * c, 1)", summed: str = SUMS[0], after: str = "F.relu") -> str:
    return SPLIT.format(out=out, summed=summed, after=after)


def test_he_on_a_split_output_whose_skip_half_feeds_a_layer_is_reported_in_the_helper() -> None:
    for summed in SUMS:
        findings = found(split(summed=summed))
        assert [f.line for f in findings] == [8], summed
        assert "blocks.0.out (Conv1d) in Net feeds no activation" in findings[0].message


def test_he_written_in_the_block_on_a_split_output_is_reported_there() -> None:
    code = split(out="nn.Conv1d(c, 2 * c, 1)\n        nn.init.kaiming_normal_(self.out.weight)")
    assert [f.line for f in found(code)] == [17]


def test_the_skip_half_through_a_norm_stays_quiet() -> None:
    assert found(split(after="nn.functional.layer_norm")) == []


def test_the_whole_output_both_summed_and_skipped_is_judged_by_the_skip() -> None:
    whole = split().replace("residual, skip = torch.chunk(y, 2, dim=1)", "residual = skip = y")
    assert [f.line for f in found(whole)] == [8]
    activated = whole.replace("x = torch.sum(", "x = F.relu(torch.sum(").replace("dim=0)\n", "dim=0))\n")
    assert activated.count("F.relu(torch.sum(") == 1 and found(activated) == []


def test_xavier_on_a_split_output_stays_quiet() -> None:
    assert found(split().replace("kaiming_normal_", "xavier_normal_")) == []
