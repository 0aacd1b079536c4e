"""The per-module path: a factory's model built on the meta device, then materialised,
initialised, measured and freed one module at a time, gives the normal path's statistics."""

from __future__ import annotations

import json
import sys
import textwrap
from pathlib import Path

import pytest
import torch

from initaudit.auditor.load import materialise
from initaudit.auditor.load.sources import open_source
from initaudit.auditor.notes import NoteKind
from initaudit.auditor.pipeline import analyse
from initaudit.model_command import run_model

#: Findings that need the signal probe, which the per-module path cannot run.
PROBE_CODES = {"IA207", "IA208"}

FACTORIES = textwrap.dedent("""
    import torch
    from torch import nn

    def mlp():
        torch.manual_seed(0)
        return nn.Sequential(nn.Linear(64, 256), nn.ReLU(), nn.Linear(256, 256), nn.ReLU(),
                             nn.Linear(256, 10))

    def zeroed():
        model = mlp()
        nn.init.zeros_(model[2].weight)
        return model

    class Scaled(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(32, 32)
            self.scale = nn.Parameter(torch.randn(32, 32))  # no reset_parameters covers it

        def forward(self, x):
            return torch.relu(self.fc(x)) @ self.scale

    def scaled():
        return Scaled()

    def reads_values():
        model = mlp()
        if float(model[0].weight.sum()) > 1e9:  # needs values: fails on the meta device
            raise RuntimeError
        return model

    def llama():
        from tests.torchvision_ops import declare_torchvision_ops
        declare_torchvision_ops()
        from transformers import LlamaConfig, LlamaForCausalLM
        torch.manual_seed(0)
        return LlamaForCausalLM(LlamaConfig(hidden_size=64, intermediate_size=192, num_hidden_layers=2,
                                            num_attention_heads=4, num_key_value_heads=2,
                                            vocab_size=512))
""")


@pytest.fixture
def factories(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    (tmp_path / "lowmem_factories.py").write_text(FACTORIES)
    monkeypatch.chdir(tmp_path)
    monkeypatch.delitem(sys.modules, "lowmem_factories", raising=False)
    return "lowmem_factories"


def _audit(capsys: pytest.CaptureFixture[str], spec: str | None = None, **options: object) -> tuple[int, dict]:
    status = run_model(spec, output_format="json", **options)
    return status, json.loads(capsys.readouterr().out)


def _findings(report: dict) -> list[tuple[str, str]]:
    return [(f["code"], f["parameter"]) for f in report["findings"] if f["code"] not in PROBE_CODES]


def _kinds(spec: str, low_memory: bool = False) -> set[NoteKind]:
    """The kinds of the notes of the audit of the model ``spec`` builds."""
    return {note.kind for note in analyse(open_source(None, factory=spec, low_memory=low_memory)).report.notes}


def test_mlp_per_module_equals_the_normal_path(factories: str, capsys: pytest.CaptureFixture[str]) -> None:
    status, whole = _audit(capsys, factory=f"{factories}:mlp")
    low_status, low = _audit(capsys, factory=f"{factories}:mlp", low_memory=True)
    assert status == low_status
    # Torch modules replay the constructor's RNG stream in order: the very same values.
    assert low["parameters"] == whole["parameters"]
    assert _findings(low) == _findings(whole)
    assert whole["summary"]["probed"] and not low["summary"]["probed"]
    low_kinds = _kinds(f"{factories}:mlp", low_memory=True)
    assert {NoteKind.MODULE_BY_MODULE, NoteKind.META_TRACE} <= low_kinds and NoteKind.PROBED not in low_kinds
    assert NoteKind.MODULE_BY_MODULE not in _kinds(f"{factories}:mlp")


def test_tiny_llama_per_module_matches_the_normal_path(factories: str,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("transformers")
    _, whole = _audit(capsys, factory=f"{factories}:llama")
    _, low = _audit(capsys, factory=f"{factories}:llama", low_memory=True)
    assert not low["summary"]["probed"]  # module by module: no signal probe
    assert [p["name"] for p in low["parameters"]] == [p["name"] for p in whole["parameters"]]
    for mine, theirs in zip(low["parameters"], whole["parameters"]):
        # Hugging Face's _init_weights draws afresh: same scheme, std within sampling error.
        assert mine["scheme"]["name"] == theirs["scheme"]["name"], mine["name"]
        assert mine["activation"] == theirs["activation"], mine["name"]
        assert mine["std"] == pytest.approx(theirs["std"], rel=0.05), mine["name"]
    assert _findings(low) == _findings(whole)


def test_factory_init_after_construction_is_not_replayed(factories: str,
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    status, whole = _audit(capsys, factory=f"{factories}:zeroed")
    assert status == 1  # the zeroed matrix is caught on the normal path
    assert NoteKind.MODULE_BY_MODULE in _kinds(f"{factories}:zeroed", low_memory=True)


def test_automatic_above_the_memory_share(factories: str, capsys: pytest.CaptureFixture[str],
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(materialise, "AUTO_SHARE", 0.0)
    assert NoteKind.MODULE_BY_MODULE in _kinds(f"{factories}:mlp")
    monkeypatch.setattr(materialise, "AUTO_SHARE", 0.5)
    assert NoteKind.MODULE_BY_MODULE not in _kinds(f"{factories}:mlp")


def test_unreplayable_init_falls_back_to_the_whole_model(factories: str,
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    status, report = _audit(capsys, factory=f"{factories}:scaled", low_memory=True)
    assert "scale" in [p["name"] for p in report["parameters"]]
    kinds = _kinds(f"{factories}:scaled", low_memory=True)
    assert NoteKind.BUILT_WHOLE in kinds and NoteKind.MODULE_BY_MODULE not in kinds


def test_unreplayable_init_too_big_to_build_is_not_measured(factories: str, capsys: pytest.CaptureFixture[str],
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(materialise, "fits", lambda model: False)
    _, report = _audit(capsys, factory=f"{factories}:scaled", low_memory=True)
    names = [p["name"] for p in report["parameters"]]
    assert "fc.weight" in names and "scale" not in names
    assert {NoteKind.MODULE_BY_MODULE, NoteKind.NOT_REPLAYED} <= _kinds(f"{factories}:scaled", low_memory=True)


def test_factory_that_needs_values_is_built_whole(factories: str, capsys: pytest.CaptureFixture[str]) -> None:
    status, report = _audit(capsys, factory=f"{factories}:reads_values", low_memory=True)
    assert status == 0 and report["summary"]["probed"]
    kinds = _kinds(f"{factories}:reads_values", low_memory=True)
    assert NoteKind.BUILT_WHOLE in kinds and NoteKind.MODULE_BY_MODULE not in kinds


def test_fix_is_refused_per_module(factories: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status = run_model(factory=f"{factories}:zeroed", fix=True, output=str(tmp_path / "out.safetensors"), low_memory=True)
    assert status == 2
    assert "module by module" in capsys.readouterr().err
    assert not (tmp_path / "out.safetensors").exists()


def test_units_are_freed_one_at_a_time() -> None:
    torch.manual_seed(0)
    with torch.device("meta"):
        model = torch.nn.Sequential(*[torch.nn.Linear(32, 32) for _ in range(4)])
    replay = materialise.ModuleReplay(model)
    first = replay.load("0.weight")
    assert not first.is_meta and first.isfinite().all()
    replay.load("3.weight")
    assert replay.current is not None and set(replay.current[1]) == {"3.weight", "3.bias"}
    assert all(p.is_meta for p in model.parameters())  # the model itself never holds values


def test_a_unit_replays_its_submodules_in_construction_order() -> None:
    """A module with parameters of its own is one unit with its submodules: the stream of random
    numbers reaches them in the constructor's order, so the values are the constructor's."""

    class Block(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.gate = torch.nn.Parameter(torch.ones(8))
            self.first = torch.nn.Linear(8, 8)
            self.second = torch.nn.Sequential(torch.nn.Linear(8, 8), torch.nn.Linear(8, 8))

        def reset_parameters(self) -> None:
            torch.nn.init.ones_(self.gate)

    torch.manual_seed(3)
    whole = Block()
    torch.manual_seed(3)
    with torch.device("meta"):
        meta = Block()
    replay = materialise.ModuleReplay(meta)
    for name, parameter in whole.named_parameters():
        assert torch.equal(replay.load(name), parameter.detach()), name
