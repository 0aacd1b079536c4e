"""Layers used through their weights: a module whose parameter an operator consumes directly
(``F.linear(x, self.proj.weight)``, ``w @ x``, ``F.conv1d(x, conv.weight)``, the projections
handed to ``F.multi_head_attention_forward``) is traced as if its own forward ran: its output
meets the activation that follows, and IA206 judges its weight against that activation."""

from __future__ import annotations

import pytest
import torch
from torch import nn
from torch.nn import functional as F

import initaudit
from initaudit.auditor.load.example import Example
from initaudit.auditor.trace.activations import trace_activations, weight_uses
from initaudit.auditor.trace.roles import Role
from initaudit.diagnostics import Severity


class FunctionalBlock(nn.Module):
    """``proj`` applied through its weight by ``how``, then a ReLU and an output layer."""

    def __init__(self, how: str, std: float | None = None) -> None:
        super().__init__()
        self.how, self.proj, self.out = how, nn.Linear(32, 32), nn.Linear(32, 8)
        nn.init.kaiming_normal_(self.proj.weight, nonlinearity="relu")
        if std is not None:
            nn.init.normal_(self.proj.weight, std=std)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.how == "module":
            h = self.proj(x)
        elif self.how == "linear":
            h = F.linear(x, self.proj.weight, self.proj.bias)
        else:  # "matmul": the weight on the left, the signal transposed
            h = (self.proj.weight @ x.T).T
        return self.out(torch.relu(h))


def _failing(report: object, parameter: str) -> list[tuple[str, Severity]]:
    return [(f.code, f.severity) for f in report.findings if f.parameter == parameter and f.severity.fails]


@pytest.mark.parametrize("how", ["module", "linear", "matmul"])
def test_a_weight_used_by_an_operator_is_judged_like_the_module_call(how: str) -> None:
    torch.manual_seed(0)
    faulty = initaudit.audit(FunctionalBlock(how, std=1.0), (8, 32))
    assert _failing(faulty, "proj.weight") == [("IA206", Severity.WARNING)]
    assert faulty.coverage["traced"] == faulty.coverage["layers"] == 2
    torch.manual_seed(0)
    assert _failing(initaudit.audit(FunctionalBlock(how), (8, 32)), "proj.weight") == []


def test_the_activation_after_a_functional_use_is_found() -> None:
    trace = trace_activations(FunctionalBlock("linear"), Example((torch.randn(8, 32),)))
    assert trace.uses["proj"].activation == "relu" and trace.order == ["proj", "out"]


class DepthwiseCausalConv(nn.Module):
    """Mamba's reference scan: a depthwise convolution applied through its (reshaped) weight,
    sliced to the sequence, then SiLU."""

    def __init__(self, std: float | None = None) -> None:
        super().__init__()
        self.in_proj = nn.Linear(16, 32)
        self.conv = nn.Conv1d(32, 32, 4, groups=32, padding=3)
        self.out_proj = nn.Linear(32, 16)
        nn.init.kaiming_normal_(self.conv.weight, nonlinearity="relu")
        if std is not None:
            nn.init.normal_(self.conv.weight, std=std)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.in_proj(x).transpose(1, 2)
        weight = self.conv.weight.squeeze(1)
        h = F.conv1d(h, weight.unsqueeze(1), self.conv.bias, padding=3, groups=32)[..., :x.shape[1]]
        return self.out_proj(F.silu(h).transpose(1, 2))


def test_a_reshaped_weight_in_a_functional_convolution() -> None:
    trace = trace_activations(DepthwiseCausalConv(), Example((torch.randn(4, 16, 16),)))
    assert trace.uses["conv"].activation == "silu"  # through the slice after it
    torch.manual_seed(0)
    faulty = initaudit.audit(DepthwiseCausalConv(std=3.0), (4, 16, 16))
    assert _failing(faulty, "conv.weight") == [("IA206", Severity.WARNING)]
    torch.manual_seed(0)
    assert _failing(initaudit.audit(DepthwiseCausalConv(), (4, 16, 16)), "conv.weight") == []


class SeparateProjectionAttention(nn.Module):
    """WavLM-style attention: four Linear layers whose weights go to
    ``F.multi_head_attention_forward``; the Linear modules themselves never run."""

    def __init__(self, width: int = 32, heads: int = 2, q_std: float | None = None) -> None:
        super().__init__()
        self.width, self.heads = width, heads
        self.q_proj, self.k_proj, self.v_proj, self.out_proj = (nn.Linear(width, width) for _ in range(4))
        self.norm = nn.LayerNorm(width)
        self.fc = nn.Linear(width, width)
        nn.init.kaiming_normal_(self.fc.weight, nonlinearity="relu")
        if q_std is not None:
            nn.init.normal_(self.q_proj.weight, std=q_std)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        tokens = x.transpose(0, 1)
        attended, _ = F.multi_head_attention_forward(
            tokens, tokens, tokens, self.width, self.heads, torch.empty([0]),
            torch.cat((self.q_proj.bias, self.k_proj.bias, self.v_proj.bias)), None, None, False, 0.0,
            self.out_proj.weight, self.out_proj.bias, training=self.training, need_weights=False,
            use_separate_proj_weight=True, q_proj_weight=self.q_proj.weight, k_proj_weight=self.k_proj.weight,
            v_proj_weight=self.v_proj.weight)
        h = self.norm(x + attended.transpose(0, 1))
        return h + torch.relu(self.fc(h))


def test_projections_handed_to_multi_head_attention_are_traced() -> None:
    torch.manual_seed(0)
    report = initaudit.audit(SeparateProjectionAttention(), (4, 8, 32))
    assert report.coverage["traced"] == report.coverage["layers"] == 5
    assert not [f for f in report.findings if f.severity.fails]
    trace = trace_activations(SeparateProjectionAttention(), Example((torch.randn(4, 8, 32),)))
    assert {trace.uses[name].activation for name in ("q_proj", "k_proj", "v_proj", "out_proj")} == {"linear"}
    assert trace.uses["out_proj"].residual  # added back to the stream it transforms


def test_an_unscaled_query_projection_handed_to_attention_is_reported() -> None:
    torch.manual_seed(0)
    report = initaudit.audit(SeparateProjectionAttention(q_std=1.0), (4, 8, 32))
    assert _failing(report, "q_proj.weight") == [("IA206", Severity.WARNING)]


def test_multihead_attention_out_proj_is_traced_and_quiet() -> None:
    """``nn.MultiheadAttention`` hands its ``out_proj``'s weight to the functional attention: the
    composite is followed inside, its own ``in_proj_weight`` staying with the module."""
    torch.manual_seed(0)
    layer = nn.TransformerEncoderLayer(32, 2, 64, batch_first=True)
    report = initaudit.audit(layer, (4, 8, 32))
    assert report.coverage["traced"] == report.coverage["layers"] == 4
    assert not [f for f in report.findings if f.severity.fails]


def test_a_tied_head_through_the_table_keeps_the_embedding_a_lookup() -> None:
    """The output head written as ``h @ embedding.weight.T``: the table is traced as the head too,
    and no layer running its own forward is marked twice."""

    class TiedLM(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.embed = nn.Embedding(50, 16)
            self.fc = nn.Linear(16, 16)

        def forward(self, ids: torch.Tensor) -> torch.Tensor:
            return torch.relu(self.fc(self.embed(ids))) @ self.embed.weight.T

    trace = trace_activations(TiedLM(), Example((torch.randint(50, (4, 8)),)))
    assert trace.order == ["embed", "fc"] and trace.uses["fc"].activation == "relu"
    assert trace.roles["embed.weight"].tied_head


def test_weight_uses_reports_only_what_no_forward_hook_sees() -> None:
    """What a signal probe needs for rows of layers used through their weights: each such output,
    with gradients intact; a module running its own forward is left to its hook."""
    model = SeparateProjectionAttention()
    seen: dict[str, torch.Tensor] = {}
    tokens = torch.randn(4, 8, 32)
    with weight_uses(model, Example((tokens,)), seen.setdefault):
        output = model(tokens)
    assert sorted(seen) == ["k_proj", "out_proj", "q_proj", "v_proj"]
    assert seen["out_proj"].requires_grad and output.requires_grad
    grads = torch.autograd.grad(output.sum(), [seen["q_proj"]])
    assert grads[0].shape == seen["q_proj"].shape


def test_a_table_looked_up_through_its_weight_stays_a_table() -> None:
    """``F.embedding(ids, self.embed.weight)``: one layer's operator, attributed as it stands (not
    followed inside, where ``torch.embedding`` takes the table first)."""

    class Lookup(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.embed = nn.Embedding(50, 16)
            self.fc = nn.Linear(16, 16)

        def forward(self, ids: torch.Tensor) -> torch.Tensor:
            return torch.relu(self.fc(F.embedding(ids, self.embed.weight)))

    trace = trace_activations(Lookup(), Example((torch.randint(50, (4, 8)),)))
    assert trace.order == ["embed", "fc"] and trace.roles["embed.weight"].roles == {Role.EMBEDDING}
