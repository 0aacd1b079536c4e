"""IA211: a normalisation layer's scale drawn at random around zero, and its look-alikes."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Callable

import pytest
import torch
from torch import nn

import initaudit
from initaudit.auditor.results import AuditReport
from initaudit.auditor.rules.base import ModelFacts
from initaudit.auditor.rules.norm_scale_drawn_around_zero import NormScaleDrawnAroundZero
from initaudit.diagnostics import Severity
from initaudit.model_command import run_model


class T5LayerNorm(nn.Module):
    """An RMS norm of another library: a class named like a norm with a ``weight`` of its own."""

    def __init__(self, width: int) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.ones(width))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.weight * x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + 1e-6)


def _mlp(norm: Callable[[int], nn.Module]) -> nn.Sequential:
    return nn.Sequential(nn.Linear(16, 64), norm(64), nn.ReLU(), nn.Linear(64, 4))


def _cnn(norm: Callable[[int], nn.Module]) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(3, 16, 3, padding=1), norm(16), nn.ReLU(), nn.Conv2d(16, 4, 1))


def _ia211(report: AuditReport) -> list[tuple[str | None, Severity]]:
    return [(f.parameter, f.severity) for f in report.findings if f.code == "IA211"]


def _drawn(model: nn.Sequential, init: Callable[[torch.Tensor], object], index: int = 1) -> nn.Sequential:
    torch.manual_seed(0)
    with torch.no_grad():
        init(model[index].weight)
    return model


AROUND_ZERO = [
    ("LayerNorm N(0, 0.02)", lambda: _drawn(_mlp(nn.LayerNorm), lambda w: nn.init.normal_(w, 0.0, 0.02))),
    ("RMSNorm trunc_normal", lambda: _drawn(_mlp(nn.RMSNorm), lambda w: nn.init.trunc_normal_(w, std=0.02))),
    ("T5LayerNorm N(0, 0.02)", lambda: _drawn(_mlp(T5LayerNorm), lambda w: nn.init.normal_(w, 0.0, 0.02))),
    ("BatchNorm2d N(0, 0.02)", lambda: _drawn(_cnn(nn.BatchNorm2d), lambda w: nn.init.normal_(w, 0.0, 0.02))),
    ("GroupNorm uniform(-0.1, 0.1)",
     lambda: _drawn(_cnn(lambda c: nn.GroupNorm(4, c)), lambda w: nn.init.uniform_(w, -0.1, 0.1))),
    ("LayerNorm N(0, 1)", lambda: _drawn(_mlp(nn.LayerNorm), nn.init.normal_)),
]


@pytest.mark.parametrize(("case", "build"), AROUND_ZERO, ids=[case for case, _ in AROUND_ZERO])
def test_a_scale_drawn_around_zero_is_a_warning(case: str, build: Callable[[], nn.Module]) -> None:
    report = initaudit.audit(build())
    assert _ia211(report) == [("1.weight", Severity.WARNING)]
    message = next(f.message for f in report.findings if f.code == "IA211")
    assert message.startswith("norm scale drawn around 0 (mean ") and "random sign" in message


def test_the_message_says_how_much_too_small() -> None:
    report = initaudit.audit(_drawn(_mlp(nn.LayerNorm), lambda w: nn.init.normal_(w, 0.0, 0.02)))
    message = next(f.message for f in report.findings if f.code == "IA211")
    assert "x too small" in message and "±0.02" in message


def _residual_zero() -> nn.Module:
    class Block(nn.Module):
        """torchvision's zero_init_residual: the last norm of the branch starts at 0."""

        def __init__(self) -> None:
            super().__init__()
            self.conv1, self.bn1 = nn.Conv2d(8, 8, 3, padding=1, bias=False), nn.BatchNorm2d(8)
            self.conv2, self.bn2 = nn.Conv2d(8, 8, 3, padding=1, bias=False), nn.BatchNorm2d(8)
            nn.init.zeros_(self.bn2.weight)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return torch.relu(x + self.bn2(self.conv2(torch.relu(self.bn1(self.conv1(x))))))

    return nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), Block(), Block())


class AdaLNZero(nn.Module):
    """DiT's modulation: a Linear (not a norm scale) that starts at zero, with an affine-free norm."""

    def __init__(self, width: int = 32) -> None:
        super().__init__()
        self.norm = nn.LayerNorm(width, elementwise_affine=False)
        self.modulation = nn.Linear(width, 2 * width)
        self.proj = nn.Linear(width, width)
        nn.init.normal_(self.modulation.weight, 0.0, 0.02)
        nn.init.zeros_(self.modulation.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        shift, scale = self.modulation(x).chunk(2, dim=-1)
        return self.proj(self.norm(x) * (1 + scale) + shift)


NOT_REPORTED = [
    ("default ones", lambda: _mlp(nn.LayerNorm)),
    ("N(1, 0.02), the DCGAN recipe", lambda: _drawn(_cnn(nn.BatchNorm2d), lambda w: nn.init.normal_(w, 1.0, 0.02))),
    ("U(0, 1), torch before 1.2", lambda: _drawn(_cnn(nn.BatchNorm2d), nn.init.uniform_)),
    ("zero-init residual", _residual_zero),
    ("a norm's shift around 0",
     lambda: _mlp(nn.LayerNorm).apply(lambda m: nn.init.normal_(m.bias, 0.0, 0.02) if isinstance(m, nn.LayerNorm)
                                      else None)),
    ("adaLN modulation", AdaLNZero),
    ("a gate vector around 0 outside a norm", lambda: nn.Sequential(nn.Linear(8, 8), nn.PReLU(8))),
]


@pytest.mark.parametrize(("case", "build"), NOT_REPORTED, ids=[case for case, _ in NOT_REPORTED])
def test_not_reported(case: str, build: Callable[[], nn.Module]) -> None:
    torch.manual_seed(0)
    assert _ia211(initaudit.audit(build())) == []


def test_a_bare_state_dict_knows_norms_by_name(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    torch.manual_seed(0)
    state = {"h.0.attn.weight": torch.randn(32, 32) * 0.02, "h.0.ln_1.weight": torch.randn(32) * 0.02,
             "h.0.ln_1.bias": torch.zeros(32), "h.0.mlp.scale": torch.randn(32) * 0.02,
             "ln_f.weight": torch.ones(32)}
    torch.save(state, tmp_path / "model.pt")
    assert run_model(str(tmp_path / "model.pt"), output_format="json") == 1
    findings = json.loads(capsys.readouterr().out)["findings"]
    assert [f["parameter"] for f in findings if f["code"] == "IA211"] == ["h.0.ln_1.weight"]


def test_trained_scales_are_left_to_ia209() -> None:
    report = initaudit.audit(_drawn(_mlp(nn.LayerNorm), lambda w: nn.init.normal_(w, 0.0, 0.02)))
    for parameter in report.parameters:
        parameter.trained = True
    facts = ModelFacts(report.parameters, report.signal, [], True, {})
    assert list(NormScaleDrawnAroundZero().check(facts)) == []


def test_fix_sets_the_scale_to_one() -> None:
    report = initaudit.audit(_drawn(_mlp(nn.LayerNorm), lambda w: nn.init.normal_(w, 0.0, 0.02)))
    plan = next(f.fix for f in report.findings if f.code == "IA211")
    assert plan is not None and (plan.tensor, plan.describe()) == ("1.weight", "ones_()")


def test_fix_writes_ones_and_the_fixed_copy_audits_clean(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "normmodels.py").write_text(
        "import torch\n"
        "from torch import nn\n"
        "def build():\n"
        "    model = nn.Sequential(nn.Linear(16, 64), nn.LayerNorm(64), nn.ReLU(), nn.Linear(64, 4))\n"
        "    nn.init.kaiming_normal_(model[0].weight, nonlinearity='relu')\n"
        "    nn.init.normal_(model[1].weight, 0.0, 0.02)\n"
        "    return model\n")
    monkeypatch.chdir(tmp_path)
    monkeypatch.delitem(sys.modules, "normmodels", raising=False)
    model = _drawn(_mlp(nn.LayerNorm), lambda w: nn.init.normal_(w, 0.0, 0.02))
    nn.init.kaiming_normal_(model[0].weight, nonlinearity="relu")
    torch.save(model.state_dict(), tmp_path / "bad.pt")
    assert run_model(str(tmp_path / "bad.pt"), factory="normmodels:build", fix=True,
                     output=str(tmp_path / "fixed.pt")) == 0
    assert "ones_()" in capsys.readouterr().out
    assert torch.equal(torch.load(tmp_path / "fixed.pt")["1.weight"], torch.ones(64))
