"""A zero layer is excused as the end of a residual branch only when the forward pass adds its
output to the stream its own block transforms; products, gates and conditioning adds are no
residual sums."""

from __future__ import annotations

import pytest
import torch
from torch import nn
from torch.nn import functional as F

import initaudit
from initaudit.diagnostics import Severity


def zero_finding(model: nn.Module, parameter: str, example_inputs) -> tuple[str, Severity] | None:
    report = initaudit.audit(model, example_inputs=example_inputs)
    found = [(f.code, f.severity) for f in report.findings if f.parameter == parameter and f.code == "IA201"]
    assert len(found) == 1, report.findings
    return found[0]


class TimeBlock(nn.Module):
    """A diffusion UNet's residual block: the timestep embedding conditions the first conv's output."""

    def __init__(self, channels: int, time: int) -> None:
        super().__init__()
        self.norm1, self.norm2 = nn.GroupNorm(4, channels), nn.GroupNorm(4, channels)
        self.conv1 = nn.Conv2d(channels, channels, 3, padding=1)
        self.temb_proj = nn.Linear(time, channels)
        self.conv2 = nn.Conv2d(channels, channels, 3, padding=1)

    def forward(self, x: torch.Tensor, temb: torch.Tensor) -> torch.Tensor:
        h = self.conv1(F.silu(self.norm1(x)))
        h = h + self.temb_proj(F.silu(temb))[:, :, None, None]
        h = self.conv2(F.silu(self.norm2(h)))
        return x + h


class TinyUNet(nn.Module):
    def __init__(self, channels: int = 8, time: int = 16) -> None:
        super().__init__()
        self.time = nn.Linear(1, time)
        self.conv_in = nn.Conv2d(3, channels, 3, padding=1)
        self.blocks = nn.ModuleList([TimeBlock(channels, time), TimeBlock(channels, time)])
        self.conv_out = nn.Conv2d(channels, 3, 3, padding=1)

    def forward(self, sample: torch.Tensor, timestep: torch.Tensor) -> torch.Tensor:
        temb = self.time(timestep[:, None])
        h = self.conv_in(sample)
        for block in self.blocks:
            h = block(h, temb)
        return self.conv_out(h)


UNET_INPUTS = (torch.randn(2, 3, 8, 8), torch.rand(2))


@pytest.mark.parametrize("block", [0, 1])
def test_a_zero_conv_before_the_timestep_add_is_reported(block: int) -> None:
    model = TinyUNet()
    nn.init.zeros_(model.blocks[block].conv1.weight)
    assert zero_finding(model, f"blocks.{block}.conv1.weight", UNET_INPUTS) == ("IA201", Severity.WARNING)


@pytest.mark.parametrize("block", [0, 1])
def test_the_zero_last_conv_of_the_residual_branch_stays_excused(block: int) -> None:
    model = TinyUNet()
    nn.init.zeros_(model.blocks[block].conv2.weight)
    assert zero_finding(model, f"blocks.{block}.conv2.weight", UNET_INPUTS) == ("IA201", Severity.INFO)


def test_a_zero_timestep_projection_is_reported() -> None:
    model = TinyUNet()
    nn.init.zeros_(model.blocks[1].temb_proj.weight)
    assert zero_finding(model, "blocks.1.temb_proj.weight", UNET_INPUTS) == ("IA201", Severity.WARNING)


def rotate(x: torch.Tensor) -> torch.Tensor:
    first, second = x.chunk(2, dim=-1)
    return torch.cat([-second, first], dim=-1)


class RotaryAttention(nn.Module):
    """Self-attention with rotary position embeddings: ``q * cos + rotate(q) * sin``."""

    def __init__(self, width: int, length: int) -> None:
        super().__init__()
        self.norm = nn.LayerNorm(width)
        self.q_proj, self.k_proj = nn.Linear(width, width), nn.Linear(width, width)
        self.v_proj, self.o_proj = nn.Linear(width, width), nn.Linear(width, width)
        angles = torch.arange(length)[:, None] * 0.1 ** torch.arange(width // 2).repeat(2)[None]
        self.register_buffer("cos", angles.cos())
        self.register_buffer("sin", angles.sin())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.norm(x)
        q, k = self.q_proj(h), self.k_proj(h)
        q, k = q * self.cos + rotate(q) * self.sin, k * self.cos + rotate(k) * self.sin
        return x + self.o_proj(F.scaled_dot_product_attention(q, k, self.v_proj(h)))


def rotary(zeroed: str) -> nn.Module:
    model = nn.Sequential(RotaryAttention(16, 6), RotaryAttention(16, 6), nn.LayerNorm(16), nn.Linear(16, 4))
    nn.init.zeros_(model[1].get_parameter(f"{zeroed}.weight"))
    return model


def test_a_zero_query_projection_under_rotary_products_is_reported() -> None:
    assert zero_finding(rotary("q_proj"), "1.q_proj.weight", torch.randn(2, 6, 16)) == ("IA201", Severity.WARNING)


def test_a_zero_attention_output_projection_is_a_residual_end() -> None:
    assert zero_finding(rotary("o_proj"), "1.o_proj.weight", torch.randn(2, 6, 16)) == ("IA201", Severity.INFO)


class Branch(nn.Module):
    """A residual block in several spellings: scaled by a layer scale, with a projection
    shortcut, or added in a sub-module that takes the block's input as its second argument."""

    def __init__(self, width: int, spelling: str) -> None:
        super().__init__()
        self.spelling = spelling
        self.fc1, self.fc2 = nn.Linear(width, 2 * width), nn.Linear(2 * width, width)
        self.shortcut = nn.Linear(width, width)
        self.scale = nn.Parameter(torch.full((width,), 0.1))
        nn.init.zeros_(self.fc2.weight)

    def forward(self, x: torch.Tensor, condition: torch.Tensor) -> torch.Tensor:
        h = self.fc2(F.gelu(self.fc1(x)))
        if self.spelling == "layer scale":
            return x + F.dropout(self.scale * h, 0.1)
        if self.spelling == "projection shortcut":
            return self.shortcut(x) + h
        if self.spelling == "gated by the condition":
            return x + torch.tanh(condition) * h
        return h + condition  # "conditioning add"


class Conditioned(nn.Module):
    def __init__(self, spelling: str) -> None:
        super().__init__()
        self.inp, self.cond = nn.Linear(8, 16), nn.Linear(8, 16)
        self.block = Branch(16, spelling)
        self.head = nn.Linear(16, 4)

    def forward(self, x: torch.Tensor, c: torch.Tensor) -> torch.Tensor:
        return self.head(torch.relu(self.block(torch.relu(self.inp(x)), self.cond(c))))


@pytest.mark.parametrize(("spelling", "severity"), [
    ("layer scale", Severity.INFO), ("projection shortcut", Severity.INFO),
    ("gated by the condition", Severity.WARNING), ("conditioning add", Severity.WARNING)])
def test_what_closes_a_residual(spelling: str, severity: Severity) -> None:
    inputs = (torch.randn(4, 8), torch.randn(4, 8))
    assert zero_finding(Conditioned(spelling), "block.fc2.weight", inputs) == ("IA201", severity)


class PostNormOutput(nn.Module):
    """BERT's ``SelfOutput``: the sum happens in a module given the block's input second."""

    def __init__(self, width: int) -> None:
        super().__init__()
        self.dense = nn.Linear(width, width)
        self.norm = nn.LayerNorm(width)
        nn.init.zeros_(self.dense.weight)

    def forward(self, hidden: torch.Tensor, block_input: torch.Tensor) -> torch.Tensor:
        return self.norm(self.dense(hidden) + block_input)


class PostNormLayer(nn.Module):
    def __init__(self, width: int) -> None:
        super().__init__()
        self.inner = nn.Linear(width, width)
        self.output = PostNormOutput(width)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.output(torch.tanh(self.inner(x)), x)


def test_a_sum_in_a_sub_module_given_the_block_input_is_a_residual() -> None:
    model = nn.Sequential(nn.Linear(8, 16), PostNormLayer(16), PostNormLayer(16), nn.Linear(16, 4))
    assert zero_finding(model, "2.output.dense.weight", torch.randn(4, 8)) == ("IA201", Severity.INFO)
