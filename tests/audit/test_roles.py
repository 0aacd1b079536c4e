"""Each parameter judged by the operators that consume it in the forward pass: contraction
weights are matrices, learned tokens, position tables, biases and scales are not."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from torch import nn
from torch.nn import functional as F

import initaudit
from initaudit.auditor.load.sources import open_source
from initaudit.auditor.pipeline import analyse
from initaudit.auditor.trace.roles import Role, guessed_role
from initaudit.diagnostics import Severity
from initaudit.knowledge import LayerKind


def findings(report, *codes: str) -> list[tuple[str, str | None, Severity]]:
    return [(f.code, f.parameter, f.severity) for f in report.findings if f.code in codes]


def role_of(report, name: str):
    return next(p.role for p in report.parameters if p.name == name)


class Block(nn.Module):
    def __init__(self, width: int) -> None:
        super().__init__()
        self.norm = nn.LayerNorm(width)
        self.fc1 = nn.Linear(width, 4 * width)
        self.fc2 = nn.Linear(4 * width, width)
        nn.init.kaiming_normal_(self.fc1.weight)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.fc2(torch.relu(self.fc1(self.norm(x))))


class TinyViT(nn.Module):
    """Learned tokens and a position table held by the root, as ViT, BEiT and DINOv2 hold them."""

    def __init__(self, width: int = 32) -> None:
        super().__init__()
        self.patch = nn.Conv2d(3, width, 8, 8)
        self.cls_token = nn.Parameter(torch.zeros(1, 1, width))
        self.mask_token = nn.Parameter(torch.zeros(1, 1, width))
        self.register_tokens = nn.Parameter(torch.zeros(1, 2, width))
        self.pos_embed = nn.Parameter(torch.zeros(1, 17, width))
        self.blocks = nn.Sequential(Block(width), Block(width))
        self.norm = nn.LayerNorm(width)
        self.head = nn.Linear(width, 10)

    def forward(self, pixels: torch.Tensor) -> torch.Tensor:
        x = self.patch(pixels).flatten(2).transpose(1, 2)
        masked = torch.zeros(x.shape[:2], dtype=torch.bool)
        x = torch.where(masked[..., None], self.mask_token.to(x.dtype), x)
        x = torch.cat([self.cls_token.expand(x.shape[0], -1, -1), x], dim=1) + self.pos_embed
        x = torch.cat([x, self.register_tokens.expand(x.shape[0], -1, -1)], dim=1)
        return self.head(self.norm(self.blocks(x))[:, 0])


def test_zero_tokens_and_position_table_are_quiet() -> None:
    torch.manual_seed(0)
    report = initaudit.audit(TinyViT(), example_inputs=torch.randn(2, 3, 32, 32))
    assert findings(report, "IA201", "IA202") == []
    for name in ("cls_token", "mask_token", "register_tokens", "pos_embed"):
        assert role_of(report, name).roles == {Role.ADDITIVE}, name
    patch = role_of(report, "patch.weight")
    assert patch.roles == {Role.CONTRACTION} and patch.fan_in == 3 * 8 * 8
    assert role_of(report, "norm.weight").roles == {Role.SCALE}
    assert role_of(report, "head.bias").roles == {Role.ADDITIVE}


def test_a_zero_contraction_weight_next_to_zero_tokens_is_reported() -> None:
    torch.manual_seed(0)
    model = TinyViT()
    nn.init.zeros_(model.blocks[0].fc1.weight)
    report = initaudit.audit(model, example_inputs=torch.randn(2, 3, 32, 32))
    assert findings(report, "IA201") == [("IA201", "blocks.0.fc1.weight", Severity.WARNING)]


def test_constant_tokens_are_no_constant_matrix() -> None:
    torch.manual_seed(0)
    model = TinyViT()
    with torch.no_grad():
        model.pos_embed.fill_(0.02)
        model.register_tokens.fill_(1.0)
    report = initaudit.audit(model, example_inputs=torch.randn(2, 3, 32, 32))
    assert findings(report, "IA202") == []


@pytest.mark.parametrize(("name", "shape", "kind", "matrix"), [
    ("cls_token", (1, 1, 64), None, False),
    ("latent", (1, 1, 64), None, False),
    ("blocks.0.scale", (1, 1, 64), None, False),
    ("pos_embed", (1, 197, 64), None, False),
    ("blocks.0.proj", (1, 64, 64), None, True),
    ("encoder.weight", (64, 64), LayerKind.DENSE, True),
    ("embed.weight", (100, 64), LayerKind.EMBEDDING, False),
    ("rnn.weight_hh_l0", (128, 32), LayerKind.RECURRENT, True),
])
def test_without_a_forward_singleton_dimensions_make_no_matrix(name: str, shape: tuple[int, ...],
                                                               kind: LayerKind | None, matrix: bool) -> None:
    role = guessed_role(name, shape, kind)
    assert role.weight_matrix is matrix and not role.traced


def test_state_dict_tokens_are_not_matrices_but_a_zero_projection_is(tmp_path: Path) -> None:
    path = tmp_path / "checkpoint.pt"
    torch.save({"cls_token": torch.zeros(1, 1, 16), "pos_embed": torch.zeros(1, 5, 16),
                "blocks.0.proj": torch.zeros(1, 16, 16), "head.weight": torch.randn(4, 16) * 0.1}, path)
    report = analyse(open_source(str(path))).report
    assert findings(report, "IA201") == [("IA201", "blocks.0.proj", Severity.WARNING)]


class RawWeights(nn.Module):
    """Weights held as bare parameters and contracted by matmul and einsum, stored (in, out)."""

    def __init__(self) -> None:
        super().__init__()
        self.w_in = nn.Parameter(torch.randn(16, 64) * 16 ** -0.5)
        self.w_mix = nn.Parameter(torch.randn(4, 16, 32) * 64 ** -0.5)
        self.gamma = nn.Parameter(torch.zeros(32))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = torch.tanh(x @ self.w_in)
        return torch.einsum("bhi,hio->bo", h.view(-1, 4, 16), self.w_mix) * self.gamma


def test_contraction_fan_in_comes_from_the_contracted_dimensions() -> None:
    report = initaudit.audit(RawWeights(), example_inputs=torch.randn(8, 16))
    assert role_of(report, "w_in").fan_in == 16
    mix = role_of(report, "w_mix")
    assert mix.roles == {Role.CONTRACTION} and mix.fan_in == 4 * 16
    assert role_of(report, "gamma").roles == {Role.SCALE}


def test_a_zero_bare_contraction_weight_is_reported() -> None:
    model = nn.Sequential(RawWeights(), nn.Linear(32, 4))
    nn.init.zeros_(model[0].w_in)
    report = initaudit.audit(model, example_inputs=torch.randn(8, 16))
    assert findings(report, "IA201") == [("IA201", "0.w_in", Severity.WARNING)]


class TiedLanguageModel(nn.Module):
    def __init__(self, tied: bool = True) -> None:
        super().__init__()
        self.embed = nn.Embedding(100, 32)
        self.block = Block(32)
        self.norm = nn.LayerNorm(32)
        self.head = nn.Linear(32, 100, bias=False)
        if tied:
            self.head.weight = self.embed.weight

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        return self.head(self.norm(self.block(self.embed(ids))))


def test_a_tied_embedding_drawn_n01_is_reported_as_an_output_projection() -> None:
    torch.manual_seed(0)
    report = initaudit.audit(TiedLanguageModel())
    role = role_of(report, "embed.weight")
    assert role.roles >= {Role.EMBEDDING, Role.CONTRACTION} and role.tied_head and role.head == "head"
    found = [f for f in report.findings if f.parameter == "embed.weight"]
    assert [(f.code, f.severity) for f in found] == [("IA206", Severity.WARNING)]
    assert "output projection head" in found[0].message and "grows" in found[0].message


def test_a_tied_embedding_with_a_small_std_and_an_untied_n01_table_are_quiet() -> None:
    torch.manual_seed(0)
    small = TiedLanguageModel()
    nn.init.normal_(small.embed.weight, std=0.02)
    assert [(f.code, f.severity) for f in initaudit.audit(small).findings if f.parameter == "embed.weight"] == [
        ("IA206", Severity.INFO)]  # GPT-2's N(0, 0.02): the convention of normalised networks
    untied = initaudit.audit(TiedLanguageModel(tied=False))
    assert role_of(untied, "embed.weight").roles == {Role.EMBEDDING}
    assert not [f for f in untied.findings if f.parameter == "embed.weight"]


class RelativeBias(nn.Module):
    """Swin's relative position bias: a table indexed by relative offsets, added to the scores."""

    def __init__(self, tokens: int = 6, width: int = 16) -> None:
        super().__init__()
        self.qkv = nn.Linear(width, 3 * width)
        self.table = nn.Parameter(torch.zeros(2 * tokens - 1, 1))
        offsets = torch.arange(tokens)[:, None] - torch.arange(tokens)[None] + tokens - 1
        self.register_buffer("index", offsets.flatten())
        self.gate = nn.Parameter(torch.zeros(1))
        self.tokens = tokens

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        q, k, v = self.qkv(x).chunk(3, dim=-1)
        bias = self.table[self.index].view(self.tokens, self.tokens)
        return x + torch.tanh(self.gate) * F.scaled_dot_product_attention(q, k, v, attn_mask=bias)


def test_roles_of_tables_gates_recurrent_and_attention_weights() -> None:
    model = nn.Sequential(RelativeBias(), nn.Linear(16, 16))
    report = initaudit.audit(model, example_inputs=torch.randn(2, 6, 16))
    assert role_of(report, "0.table").roles == {Role.EMBEDDING}
    assert role_of(report, "0.gate").roles == {Role.GATE, Role.SCALE}
    assert findings(report, "IA201", "IA202") == []
    lstm = initaudit.audit(nn.LSTM(8, 16), example_inputs=torch.randn(5, 2, 8))
    assert role_of(lstm, "weight_hh_l0").roles == {Role.RECURRENT} and role_of(lstm, "weight_hh_l0").weight_matrix
    attention = nn.TransformerEncoderLayer(16, 2, 32, batch_first=True)
    traced = initaudit.audit(attention, example_inputs=torch.randn(2, 5, 16))
    assert role_of(traced, "self_attn.in_proj_weight").roles == {Role.CONTRACTION}
    assert role_of(traced, "self_attn.in_proj_bias").roles == {Role.ADDITIVE}


class UntracedStep(nn.Module):
    """Layers after a step the trace cannot follow (a round trip through NumPy, as a compiled
    op's output is unseen), then scores picked out by an index: still layers, not tables."""

    def __init__(self) -> None:
        super().__init__()
        self.stem = nn.Linear(8, 16)
        self.fc = nn.Linear(16, 16)
        self.scores = nn.Linear(16, 4)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        unseen = torch.from_numpy(self.stem(x).detach().numpy().copy())
        scores = self.scores(torch.relu(self.fc(unseen)))
        return scores[torch.arange(scores.shape[0]), torch.zeros(scores.shape[0], dtype=torch.long)]


def test_layers_after_an_untraced_step_stay_contractions() -> None:
    report = initaudit.audit(UntracedStep(), example_inputs=torch.randn(4, 8))
    for name in ("fc.weight", "scores.weight"):
        assert role_of(report, name).roles == {Role.CONTRACTION}, name
