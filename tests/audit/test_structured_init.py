"""Structure, not randomness: deterministic values (a function of their position) are neither
clones nor duplicated rows and are named as structure; singleton dimensions never make a
matrix; a weight the forward standardises by its own statistics has no scale to judge."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
import torch
from torch import nn
from torch.nn import functional as F

import initaudit
from initaudit.auditor.load.sources import open_source
from initaudit.auditor.measure.tensorstats import tensor_stats
from initaudit.auditor.pipeline import analyse
from initaudit.diagnostics import Severity


def codes(report, *wanted: str) -> list[tuple[str, str | None]]:
    return [(f.code, f.parameter) for f in report.findings if f.code in wanted]


def parameter(report, name: str):
    return next(p for p in report.parameters if p.name == name)


def log_arange_rows(rows: int = 32, states: int = 8) -> torch.Tensor:
    """S4D-real's A_log: log(1..N) in every row (Mamba's init)."""
    return torch.log(torch.arange(1, states + 1, dtype=torch.float32)).repeat(rows, 1)


def sinusoid_table(positions: int = 64, width: int = 32) -> torch.Tensor:
    position = torch.arange(positions, dtype=torch.float32)[:, None]
    frequency = torch.exp(torch.arange(0, width, 2, dtype=torch.float32) * (-math.log(10000.0) / width))
    table = torch.zeros(positions, width)
    table[:, 0::2], table[:, 1::2] = torch.sin(position * frequency), torch.cos(position * frequency)
    return table


class SSMBlock(nn.Module):
    def __init__(self, a_log: torch.Tensor) -> None:
        super().__init__()
        self.in_proj = nn.Linear(a_log.shape[0], a_log.shape[0])
        self.A_log = nn.Parameter(a_log.clone())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.in_proj(x) * torch.exp(-torch.exp(self.A_log)).mean(-1)  # elementwise, as the scan


# --------------------------------------------------------------------------- deterministic structure

def test_a_deterministic_tensor_identical_in_every_layer_is_no_clone() -> None:
    torch.manual_seed(0)
    report = initaudit.audit(nn.Sequential(SSMBlock(log_arange_rows()), SSMBlock(log_arange_rows())),
                             input_shape=(4, 32))
    assert codes(report, "IA203", "IA204") == []
    assert parameter(report, "1.A_log").scheme.name == "structured"
    assert not parameter(report, "1.A_log").trained


def test_a_random_tensor_copied_into_another_layer_is_still_a_clone() -> None:
    torch.manual_seed(0)
    drawn = torch.randn(32, 8)
    report = initaudit.audit(nn.Sequential(SSMBlock(drawn), SSMBlock(drawn)), input_shape=(4, 32))
    assert codes(report, "IA204") == [("IA204", "1.A_log")]
    assert parameter(report, "1.A_log").scheme.name != "structured"


def test_identity_and_sinusoid_tables_in_every_layer_are_no_clones() -> None:
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(32, 32), nn.Tanh(), nn.Linear(32, 32), nn.Tanh(), nn.Linear(32, 4))
    nn.init.eye_(model[0].weight)
    nn.init.eye_(model[2].weight)
    report = initaudit.audit(model, input_shape=(4, 32))
    assert codes(report, "IA204") == []
    assert parameter(report, "2.weight").scheme.name == "eye"


@pytest.mark.parametrize("table", [log_arange_rows(), sinusoid_table(),
                                   torch.linspace(-1.0, 1.0, 24).repeat(16, 1),
                                   torch.exp(torch.linspace(math.log(1e-3), math.log(1e-1), 16)).repeat(8, 1)],
                         ids=["log-arange rows", "sinusoid table", "linspace rows", "geometric rows"])
def test_state_dict_structure_is_neither_duplicated_rows_nor_clones(tmp_path: Path, table: torch.Tensor) -> None:
    path = tmp_path / "checkpoint.pt"
    torch.save({"layers.0.mixer.A_log": table.clone(), "layers.1.mixer.A_log": table.clone(),
                "layers.0.proj.weight": torch.randn(16, 16) * 0.25}, path)
    report = analyse(open_source(str(path))).report
    assert codes(report, "IA203", "IA204") == []
    assert parameter(report, "layers.1.mixer.A_log").scheme.name == "structured"


def test_state_dict_random_rows_repeated_and_copied_are_still_reported(tmp_path: Path) -> None:
    torch.manual_seed(0)
    repeated = torch.randn(16, 16) * 0.25
    repeated[1] = repeated[0]
    copied = torch.randn(16, 16) * 0.25
    path = tmp_path / "checkpoint.pt"
    torch.save({"a.weight": repeated, "b.weight": copied, "c.weight": copied.clone()}, path)
    report = analyse(open_source(str(path))).report
    assert codes(report, "IA203", "IA204") == [("IA203", "a.weight"), ("IA204", "c.weight")]


@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16, torch.float16])
def test_structure_is_a_statistic_random_draws_never_have(dtype: torch.dtype) -> None:
    for table in (log_arange_rows(), sinusoid_table(), torch.log(torch.arange(1, 17.0))):
        assert tensor_stats(table.to(dtype)).pattern == "structured"
    generator = torch.Generator().manual_seed(0)
    for shape in [(8,), (12,), (16, 16), (64, 8), (8, 4, 3, 3), (1, 17, 32)]:
        for draw in (torch.randn, torch.rand):
            for _ in range(5):
                values = draw(*shape, generator=generator).to(dtype)
                assert tensor_stats(values).pattern is None, (shape, draw.__name__)
    random_row = torch.randn(16, generator=generator).repeat(8, 1).to(dtype)  # repeated, not structured
    assert tensor_stats(random_row).pattern is None


# --------------------------------------------------------------------------- singleton dimensions

class GainConv(nn.Conv2d):
    """A conv whose output channels a (C, 1, 1, 1) gain scales, as timm's ScaledStdConv2d's."""

    def __init__(self, cin: int, cout: int) -> None:
        super().__init__(cin, cout, 3, padding=1)
        self.gain = nn.Parameter(torch.ones(cout, 1, 1, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.conv2d(x, self.weight * self.gain, self.bias, padding=1)


def test_a_per_channel_gain_of_ones_is_no_constant_matrix() -> None:
    torch.manual_seed(0)
    model = nn.Sequential(GainConv(3, 8), nn.ReLU(), nn.Conv2d(8, 8, 1), nn.ReLU(), nn.Flatten(),
                          nn.Linear(8 * 8 * 8, 4))
    report = initaudit.audit(model, input_shape=(2, 3, 8, 8))
    assert codes(report, "IA201", "IA202", "IA203") == []
    nn.init.ones_(model[2].weight)  # (8, 8, 1, 1): a matrix, whatever its trailing ones
    report = initaudit.audit(model, input_shape=(2, 3, 8, 8))
    assert [(f.code, f.parameter, f.severity) for f in report.findings if f.code == "IA202"] == [
        ("IA202", "2.weight", Severity.WARNING)]


# --------------------------------------------------------------------------- standardised weights

class BatchNormStdConv(nn.Conv2d):
    """timm's StdConv2d/ScaledStdConv2d: F.batch_norm over the weight, a per-channel gain."""

    def __init__(self, cin: int, cout: int) -> None:
        super().__init__(cin, cout, 3, padding=1)
        self.gain = nn.Parameter(torch.ones(cout, 1, 1, 1))
        nn.init.normal_(self.weight, 0, 1.0)  # any scale: the forward standardises it away

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        weight = F.batch_norm(self.weight.reshape(1, self.out_channels, -1), None, None, training=True,
                              momentum=0.0, eps=1e-6,
                              weight=(self.gain * self.weight[0].numel() ** -0.5).view(-1)).reshape_as(self.weight)
        return F.conv2d(x, weight, self.bias, padding=1)


class MeanStdConv(nn.Conv2d):
    """BiT's form: (w - mean) / std, or times rsqrt(var + eps)."""

    def __init__(self, cin: int, cout: int, rsqrt: bool = False) -> None:
        super().__init__(cin, cout, 3, padding=1)
        self.rsqrt = rsqrt
        nn.init.normal_(self.weight, 0, 1.0)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.rsqrt:
            var, mean = torch.var_mean(self.weight, dim=[1, 2, 3], keepdim=True, unbiased=False)
            weight = (self.weight - mean) * torch.rsqrt(var + 1e-10)
        else:
            std, mean = torch.std_mean(self.weight, dim=[1, 2, 3], keepdim=True, unbiased=False)
            weight = (self.weight - mean) / (std + 1e-5)
        return F.conv2d(x, weight, self.bias, padding=1)


class CosineHead(nn.Linear):
    """A cosine classifier: rows normalised to unit length before the product."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.linear(F.normalize(x, dim=-1), F.normalize(self.weight, dim=-1)) * 10.0


def ws_model(conv: type[nn.Module], **options: object) -> nn.Sequential:
    return nn.Sequential(conv(3, 16, **options), nn.ReLU(), conv(16, 16, **options), nn.ReLU(),
                         nn.Conv2d(16, 16, 3, padding=1), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(),
                         nn.Linear(16, 10))


@pytest.mark.parametrize(("conv", "options"), [(BatchNormStdConv, {}), (MeanStdConv, {}),
                                               (MeanStdConv, {"rsqrt": True})],
                         ids=["batch_norm", "mean-std", "var-rsqrt"])
def test_a_weight_standardised_in_forward_is_scale_free(conv: type[nn.Module], options: dict) -> None:
    torch.manual_seed(0)
    report = initaudit.audit(ws_model(conv, **options), input_shape=(2, 3, 16, 16))
    for name in ("0.weight", "2.weight"):
        assert parameter(report, name).role.scale_free, name
    for name in ("4.weight", "8.weight"):  # ordinary layers of the same model
        assert not parameter(report, name).role.scale_free, name
    assert codes(report, "IA202") == []


def test_weight_norm_direction_and_cosine_rows_are_scale_free() -> None:
    torch.manual_seed(0)
    model = nn.Sequential(nn.utils.parametrizations.weight_norm(nn.Linear(8, 16)), nn.ReLU(), CosineHead(16, 4))
    report = initaudit.audit(model, input_shape=(4, 8))
    assert parameter(report, "0.parametrizations.weight.original1").role.scale_free  # v
    assert not parameter(report, "0.parametrizations.weight.original0").role.scale_free  # g carries the scale
    assert parameter(report, "2.weight").role.scale_free


def test_a_weight_used_raw_as_well_as_standardised_keeps_its_scale() -> None:
    class Both(MeanStdConv):
        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return super().forward(x) + F.conv2d(x, self.weight, None, padding=1)

    report = initaudit.audit(nn.Sequential(Both(3, 8), nn.ReLU(), nn.Flatten(), nn.Linear(8 * 64, 2)),
                             input_shape=(2, 3, 8, 8))
    assert not parameter(report, "0.weight").role.scale_free


def test_an_n01_ordinary_conv_next_to_standardised_ones_is_caught() -> None:
    torch.manual_seed(0)
    model = ws_model(BatchNormStdConv)
    nn.init.normal_(model[4].weight, 0, 1.0)
    report = initaudit.audit(model, input_shape=(2, 3, 16, 16))
    assert ("IA206", "4.weight", Severity.WARNING) in [(f.code, f.parameter, f.severity) for f in report.findings]


def test_standardised_weights_get_no_std_verdict() -> None:
    torch.manual_seed(0)
    report = initaudit.audit(ws_model(BatchNormStdConv), input_shape=(2, 3, 16, 16))
    assert [f for f in report.findings if f.code == "IA206" and f.parameter in ("0.weight", "2.weight")] == []
