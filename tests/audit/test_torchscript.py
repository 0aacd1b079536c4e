from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from torch import nn

from initaudit.auditor.load.sources import open_source
from initaudit.auditor.notes import NoteKind
from initaudit.auditor.pipeline import analyse, audit_module
from initaudit.diagnostics import Severity
from initaudit.model_command import run_model


class NewGELUActivation(nn.Module):
    """A parameter-free activation module outside torch.nn, as in transformers."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return 0.5 * x * (1.0 + torch.tanh(0.7978845608 * (x + 0.044715 * x.pow(3))))


class Mixed(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3)
        self.bn = nn.BatchNorm2d(8)
        self.fc = nn.Linear(8 * 6 * 6, 32)
        self.ln = nn.LayerNorm(32)
        self.leaky = nn.Linear(32, 32)
        self.branch = nn.Linear(32, 32)
        self.mlp = nn.Sequential(nn.Linear(32, 32), NewGELUActivation(), nn.Dropout(0.1))
        self.gate = nn.Linear(32, 32)
        self.head = nn.Linear(32, 4)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = torch.relu(self.bn(self.conv(x)))
        h = nn.functional.dropout(h.flatten(1), 0.1, self.training)
        h = nn.functional.gelu(self.ln(self.fc(h)))
        h = nn.functional.leaky_relu(self.leaky(h), 0.2)
        h = h + self.branch(h)
        h = self.mlp(h)
        gate = self.gate(h)
        if x.shape[0] > 1:  # a branch: the activation sits inside an if block of the graph
            h = h * torch.sigmoid(gate)
        return self.head(h)


def _attribution(report) -> dict[str, tuple[str | None, bool, float | None]]:  # type: ignore[no-untyped-def]
    return {p.name: (p.activation, p.norm_between, p.slope)
            for p in report.parameters if p.name.endswith("weight") and len(p.shape) >= 2}


def _save(model: nn.Module, how: str, path: Path) -> Path:
    example = torch.randn(2, 3, 8, 8)
    scripted = torch.jit.script(model) if how == "script" else torch.jit.trace(model, example, check_trace=False)
    torch.jit.save(scripted, path)
    return path


@pytest.mark.parametrize("how", ["script", "trace"])
def test_graph_attribution_matches_the_runtime_tracer(tmp_path: Path, how: str) -> None:
    model = Mixed()
    expected = _attribution(audit_module(model, input_shape=(2, 3, 8, 8)))
    assert expected["fc.weight"] == ("gelu", True, None)
    assert expected["leaky.weight"] == ("leaky_relu", False, pytest.approx(0.2))
    assert expected["mlp.0.weight"][0] == "gelu" and expected["gate.weight"][0] == "sigmoid"
    analysis = analyse(open_source(str(_save(model, how, tmp_path / "m.pt")), trust_pickle=True))
    assert _attribution(analysis.report) == expected
    kinds = {note.kind for note in analysis.report.notes}
    assert NoteKind.SCRIPT_GRAPH in kinds and NoteKind.SCRIPT_WEIGHTS not in kinds


def _deep_mlp(init: str) -> nn.Sequential:
    layers: list[nn.Module] = []
    for _ in range(6):
        linear = nn.Linear(256, 256)
        if init == "xavier":
            nn.init.xavier_normal_(linear.weight)
        else:
            nn.init.kaiming_normal_(linear.weight, nonlinearity="relu")
        nn.init.zeros_(linear.bias)
        layers += [linear, nn.ReLU()]
    return nn.Sequential(*layers, nn.Linear(256, 10))


@pytest.mark.parametrize("how", ["script", "trace"])
def test_std_findings_work_for_torchscript(tmp_path: Path, capsys: pytest.CaptureFixture[str], how: str) -> None:
    model = nn.Sequential(nn.Flatten(), _deep_mlp("xavier"))
    example = torch.randn(4, 256)
    scripted = torch.jit.script(model) if how == "script" else torch.jit.trace(model, example)
    torch.jit.save(scripted, tmp_path / "bad.pt")
    assert run_model(str(tmp_path / "bad.pt"), output_format="json", trust_pickle=True) == 1
    report = json.loads(capsys.readouterr().out)
    warned = {f["parameter"] for f in report["findings"]
              if f["code"] == "IA206" and f["severity"] == Severity.WARNING.value}
    assert warned == {f"1.{index}.weight" for index in range(0, 12, 2)}
    torch.jit.save(torch.jit.script(_deep_mlp("kaiming")), tmp_path / "good.pt")
    assert run_model(str(tmp_path / "good.pt"), output_format="json", trust_pickle=True) == 0


def test_recurrent_and_embedding_graphs(tmp_path: Path) -> None:
    class Tagger(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.embed = nn.Embedding(100, 16)
            self.lstm = nn.LSTM(16, 32, batch_first=True)
            self.out = nn.Linear(32, 5)

        def forward(self, tokens: torch.Tensor) -> torch.Tensor:
            hidden, _ = self.lstm(self.embed(tokens))
            return torch.log_softmax(self.out(torch.tanh(hidden)), dim=-1)

    torch.jit.save(torch.jit.script(Tagger()), tmp_path / "tagger.pt")
    report = analyse(open_source(str(tmp_path / "tagger.pt"), trust_pickle=True)).report
    activations = {p.name: p.activation for p in report.parameters if p.activation}
    assert activations["embed.weight"] == "linear"
    assert activations["lstm.weight_ih_l0"] == "tanh"
    assert activations["out.weight"] == "log_softmax"


def _archive_with_side_effect(path: Path, marker: Path) -> Path:
    """A TorchScript archive whose ``__setstate__`` writes ``marker`` when the archive is loaded."""
    class Sneaky(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.target = str(marker)
            self.weight = nn.Parameter(torch.randn(8, 16) * 3)
            self.bias = nn.Parameter(torch.zeros(8))

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return torch.relu(nn.functional.linear(x, self.weight, self.bias))

        @torch.jit.export
        def __getstate__(self) -> tuple[torch.Tensor, torch.Tensor, bool, str]:
            return (self.weight, self.bias, self.training, self.target)

        @torch.jit.export
        def __setstate__(self, state: tuple[torch.Tensor, torch.Tensor, bool, str]) -> None:
            self.weight = state[0]
            self.bias = state[1]
            self.training = state[2]
            self.target = state[3]
            torch.save(self.weight, self.target)

    torch.jit.save(torch.jit.script(nn.Sequential(Sneaky(), nn.Linear(8, 4))), path)
    return path


def test_torchscript_runs_nothing_without_consent(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    marker = tmp_path / "written-by-the-archive"
    archive = _archive_with_side_effect(tmp_path / "sneaky.pt", marker)
    status = run_model(str(archive), output_format="json")
    report = json.loads(capsys.readouterr().out)
    assert not marker.exists()
    assert status in (0, 1)
    weights = {p["name"]: p for p in report["parameters"]}
    assert set(weights) == {"0.0", "0.1", "1.weight", "1.bias"}  # custom state keeps its tuple slots
    assert weights["0.0"]["std"] == pytest.approx(3, rel=0.3)
    assert weights["1.weight"]["shape"] == [4, 8]
    assert torch.equal(open_source(str(archive)).load("1.weight"), torch.jit.load(archive).state_dict()["1.weight"])
    marker.unlink()  # jit.load just above ran the archive's code on purpose
    kinds = {note.kind for note in analyse(open_source(str(archive))).report.notes}
    assert not marker.exists() and NoteKind.SCRIPT_WEIGHTS in kinds and NoteKind.SCRIPT_GRAPH not in kinds
    assert run_model(str(archive), output_format="json", trust_pickle=True) in (0, 1)
    assert marker.exists()  # with consent the archive is loaded, code and all


def test_torchscript_weights_of_a_plain_module_match_jit_load(tmp_path: Path) -> None:
    torch.jit.save(torch.jit.script(Mixed()), tmp_path / "m.pt")
    safe = open_source(str(tmp_path / "m.pt"))
    loaded = torch.jit.load(tmp_path / "m.pt").state_dict()
    assert safe.module is None
    assert set(safe.names) == set(loaded)
    assert all(torch.equal(safe.load(name), loaded[name]) for name in safe.names)


def test_tied_weights_in_torchscript_are_not_clones(tmp_path: Path) -> None:
    class Tied(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.encode = nn.Linear(32, 32)
            self.decode = nn.Linear(32, 32)
            self.decode.weight = self.encode.weight

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return self.decode(torch.relu(self.encode(x)))

    torch.jit.save(torch.jit.script(Tied()), tmp_path / "tied.pt")
    for trusted in (False, True):
        report = analyse(open_source(str(tmp_path / "tied.pt"), trust_pickle=trusted)).report
        assert "encode.weight" in {p.name for p in report.parameters}
        assert "IA204" not in {f.code for f in report.findings}  # cloned-layers
