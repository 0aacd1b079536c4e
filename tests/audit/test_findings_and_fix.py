from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
import torch
from torch import nn

from examples import audit_models
from initaudit.auditor.pipeline import audit_module
from initaudit.diagnostics import Severity
from initaudit.model_command import run_model


def _codes(model: nn.Module, severity: Severity = Severity.WARNING) -> set[str]:
    return {f.code for f in audit_module(model).findings if f.severity is severity}


def test_example_models() -> None:
    assert audit_module(audit_models.good_mlp()).exit_code == 0
    assert {"IA201", "IA206", "IA207"} <= _codes(audit_models.bad_mlp())
    conventions = audit_module(audit_models.residual_mlp())
    assert conventions.exit_code == 0
    assert {f.code for f in conventions.findings} == {"IA201", "IA206"}  # explained as info


def test_norm_between_layer_and_activation_is_info() -> None:
    model = nn.Sequential(nn.Linear(64, 64), nn.BatchNorm1d(64), nn.ReLU(), nn.Linear(64, 4))
    nn.init.xavier_normal_(model[0].weight)
    report = audit_module(model)
    first = report.parameters[0]
    assert first.activation == "relu" and first.norm_between
    assert report.exit_code == 0 and "IA206" in _codes(model, Severity.INFO)


class _Mlp(nn.Module):
    def __init__(self, width: int) -> None:
        super().__init__()
        self.fc1, self.act, self.fc2 = nn.Linear(width, 4 * width), nn.GELU(), nn.Linear(4 * width, width)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc2(self.act(self.fc1(x)))


class _TimmMlp(_Mlp):
    """Stands for timm's Mlp, whose qualified name the recipe table names."""


_TimmMlp.__module__, _TimmMlp.__qualname__ = "timm.layers.mlp", "Mlp"


@pytest.mark.parametrize("block, severity", [(_TimmMlp, Severity.INFO), (_Mlp, Severity.WARNING)])
def test_a_library_recipe_is_explained_only_in_its_own_block(block: type[_Mlp], severity: Severity) -> None:
    """Xavier before GELU is timm's documented jax recipe inside timm's Mlp; in any other block
    it is the mismatch it looks like."""
    torch.manual_seed(0)
    model = nn.Sequential(block(64), nn.Linear(64, 4))
    nn.init.xavier_uniform_(model[0].fc1.weight)
    fc1 = [f for f in audit_module(model).findings if f.parameter == "0.fc1.weight" and f.code == "IA206"]
    assert [f.severity for f in fc1] == [severity]
    assert ("weight_init='jax'" in fc1[0].message) is (block is _TimmMlp)


def test_functional_activations_are_attributed() -> None:
    class Net(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.a, self.b, self.c = nn.Linear(8, 16), nn.Linear(16, 16), nn.Linear(16, 2)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return self.c(self.b(nn.functional.gelu(self.a(x))).tanh())

    activations = {p.name: p.activation for p in audit_module(Net()).parameters if p.name.endswith("weight")}
    assert activations == {"a.weight": "gelu", "b.weight": "tanh", "c.weight": "linear"}


def test_lora_b_zero_is_intentional() -> None:
    class Lora(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.base = nn.Linear(32, 32)
            self.lora_A = nn.Linear(32, 4, bias=False)
            self.lora_B = nn.Linear(4, 32, bias=False)
            nn.init.zeros_(self.lora_B.weight)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return torch.relu(self.base(x) + self.lora_B(self.lora_A(x)))

    report = audit_module(Lora())
    zero = [f for f in report.findings if f.code == "IA201"]
    assert zero and all(f.severity is Severity.INFO for f in zero)


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.parametrize("suffix", [".pt", ".safetensors"])
def test_fix_round_trip(tmp_path: Path, capsys: pytest.CaptureFixture[str], suffix: str) -> None:
    from initaudit.auditor.load.safetensors_io import save_safetensors

    source = tmp_path / f"bad{suffix}"
    state = audit_models.bad_mlp().state_dict()
    if suffix == ".pt":
        torch.save({"model": state, "epoch": 1}, source)
    else:
        save_safetensors(state, source)
    before = _digest(source)
    spec = "examples.audit_models:bad_mlp"
    out = tmp_path / f"fixed{suffix}"
    assert run_model(str(source), factory=spec, output_format="json") == 1
    capsys.readouterr()
    assert run_model(str(source), factory=spec, fix=True, output=str(out), seed=3) == 0
    text = capsys.readouterr().out
    assert "fix written to" in text and "forward std ratio" in text
    assert _digest(source) == before
    assert run_model(str(out), factory=spec) == 0
    again = tmp_path / f"again{suffix}"
    run_model(str(source), factory=spec, fix=True, output=str(again), seed=3)
    load = (lambda p: torch.load(p)["model"]) if suffix == ".pt" else _load_safetensors
    assert all(torch.equal(a, b) for a, b in zip(load(out).values(), load(again).values(), strict=True))


def _load_safetensors(path: Path) -> dict[str, torch.Tensor]:
    from safetensors.torch import load_file

    return load_file(str(path))


def test_json_contract(capsys: pytest.CaptureFixture[str]) -> None:
    status = run_model(factory="examples.audit_models:bad_mlp", output_format="json")
    report = json.loads(capsys.readouterr().out)
    assert status == 1
    assert set(report) == {"version", "summary", "parameters", "findings", "signal", "notes"}
    assert report["version"] == 1
    parameter = report["parameters"][0]
    assert set(parameter) == {"name", "shape", "fan_in", "fan_out", "mean", "std", "zero_fraction",
                              "scheme", "activation", "expected_std", "std_ratio", "trained"}
    assert set(parameter["scheme"]) == {"name", "family", "gain", "std", "confidence"}
    assert set(report["findings"][0]) == {"code", "name", "severity", "parameter", "message"}
    assert set(report["signal"][0]) == {"module", "forward_std", "sample_std", "grad_norm", "grad_rms"}


def test_the_probe_leaves_parameter_gradients_alone() -> None:
    import initaudit

    model = torch.nn.Sequential(torch.nn.Linear(8, 8), torch.nn.ReLU(), torch.nn.Linear(8, 8),
                                torch.nn.ReLU(), torch.nn.Linear(8, 2))
    for parameter in model.parameters():
        parameter.grad = torch.full_like(parameter, 3.0)
    report = initaudit.audit(model)
    assert report.signal and all(row.grad_norm is not None for row in report.signal)
    assert all(torch.equal(p.grad, torch.full_like(p, 3.0)) for p in model.parameters())
