"""Minimal reproducers, in plain torch, of what the zoo found: each convention understood at its
root (module kinds, gates, soon-rescaled mismatches, zero heads, tied copies, transposed dense
layers, gradient norms, exact fingerprints) and the inputs the probe infers or is given."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from torch import nn

import initaudit
from initaudit.auditor.identify.layers import module_kind
from initaudit.auditor.load.sources import open_source
from initaudit.auditor.measure.tensorstats import tensor_stats
from initaudit.auditor.notes import NoteKind
from initaudit.auditor.pipeline import analyse
from initaudit.auditor.results import SignalRow
from initaudit.auditor.trace.example_inputs import infer_example
from initaudit.auditor.trace.probe import signal_ratios
from initaudit.diagnostics import Severity
from initaudit.knowledge import LayerKind


def findings(report, parameter: str) -> list[tuple[str, Severity]]:
    return [(f.code, f.severity) for f in report.findings if f.parameter == parameter]


def by_name(report, name: str):
    return next(p for p in report.parameters if p.name == name)


class ConvNormAct(nn.Sequential):
    """torchvision's Conv2dNormActivation / timm's ConvNormAct: a composite named "Norm"."""

    def __init__(self, channels: int) -> None:
        super().__init__(nn.Conv2d(channels, channels, 3, padding=1, bias=False), nn.BatchNorm2d(channels),
                         nn.ReLU())


class BatchNormAct2d(nn.BatchNorm2d):
    """timm's BatchNormAct2d: a norm class with an activation inside."""

    def __init__(self, channels: int) -> None:
        super().__init__(channels)
        self.act = nn.ReLU()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.act(super().forward(x))


def test_module_kinds_by_what_a_module_is() -> None:
    class T5LayerNorm(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.weight = nn.Parameter(torch.ones(4))

    assert module_kind(ConvNormAct(4)) is None
    assert module_kind(BatchNormAct2d(4)) is LayerKind.NORM
    assert module_kind(T5LayerNorm()) is LayerKind.NORM


@pytest.mark.parametrize("block", [ConvNormAct, lambda c: nn.Sequential(nn.Conv2d(c, c, 3, padding=1), BatchNormAct2d(c))],
                         ids=["conv-norm-act", "batchnorm-act"])
def test_the_tracer_sees_the_activation_inside_composite_norm_modules(block) -> None:
    model = nn.Sequential(*(block(8) for _ in range(3)))
    report = initaudit.audit(model, (2, 8, 8, 8))
    convs = [p for p in report.parameters if len(p.shape) == 4]
    assert [(p.activation, p.norm_between) for p in convs] == [("relu", True)] * 3


class SqueezeExcite(nn.Module):
    def __init__(self, channels: int, reduced: int, gate: nn.Module) -> None:
        super().__init__()
        self.fc1 = nn.Conv2d(channels, reduced, 1)
        self.fc2 = nn.Conv2d(reduced, channels, 1)
        self.gate = gate
        nn.init.normal_(self.fc2.weight, std=0.05)  # scaled down: the gate starts near its midpoint

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        scale = self.gate(self.fc2(torch.relu(self.fc1(x.mean((2, 3), keepdim=True)))))
        return x * scale


@pytest.mark.parametrize("gate", [nn.Sigmoid, nn.Hardsigmoid])
def test_squeeze_excitation_gate_is_info(gate) -> None:
    model = nn.Sequential(nn.Conv2d(3, 64, 3), nn.BatchNorm2d(64), nn.ReLU(), SqueezeExcite(64, 8, gate()),
                          nn.Conv2d(64, 8, 1), nn.BatchNorm2d(8))
    report = initaudit.audit(model)
    assert findings(report, "3.fc2.weight") == [("IA206", Severity.INFO)]
    assert "gate" in next(f.message for f in report.findings if f.parameter == "3.fc2.weight")


class PreNormBlock(nn.Module):
    def __init__(self, width: int, hidden: int) -> None:
        super().__init__()
        self.norm = nn.LayerNorm(width)
        self.up = nn.Linear(width, hidden)
        self.down = nn.Linear(hidden, width)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.down(torch.relu(self.up(self.norm(x))))


def pre_norm(init, hidden: int) -> nn.Sequential:
    blocks = [PreNormBlock(64, hidden) for _ in range(3)]
    for block in blocks:
        init(block.up.weight)
        nn.init.normal_(block.down.weight, std=0.02)
    return nn.Sequential(*blocks, nn.LayerNorm(64))


def test_mismatch_in_a_pre_norm_branch_is_info_when_small() -> None:
    # T5's Mesh-TF init: std fan_in**-0.5 before ReLU, 0.71x of He, rescaled by the next norm.
    report = initaudit.audit(pre_norm(lambda w: nn.init.normal_(w, std=64 ** -0.5), 64), (8, 64))
    assert findings(report, "0.up.weight") == [("IA206", Severity.INFO)]
    assert "rescales" in next(f.message for f in report.findings if f.parameter == "0.up.weight")
    assert by_name(report, "0.up.weight").rescaled_within == 2


def test_xavier_before_relu_in_a_wide_branch_is_still_a_warning() -> None:
    report = initaudit.audit(pre_norm(nn.init.xavier_uniform_, 256), (8, 64))  # 0.45x of He
    assert findings(report, "0.up.weight") == [("IA206", Severity.WARNING)]


def test_unscaled_normal_in_a_normalised_network_is_a_warning() -> None:
    report = initaudit.audit(pre_norm(nn.init.normal_, 64), (8, 64))
    assert findings(report, "1.up.weight") == [("IA206", Severity.WARNING)]
    small = initaudit.audit(pre_norm(lambda w: nn.init.normal_(w, std=0.02), 64), (8, 64))
    assert findings(small, "1.up.weight") == [("IA206", Severity.INFO)]


class TokenModel(nn.Module):
    """A root owning learned tokens (timm's VisionTransformer owns cls_token) and a zero head."""

    def __init__(self) -> None:
        super().__init__()
        self.cls_token = nn.Parameter(torch.zeros(1, 1, 16))
        self.pos_embed = nn.Parameter(torch.randn(1, 5, 16) * 0.02)
        self.body = nn.Linear(16, 16)
        self.head = nn.Linear(16, 4)
        nn.init.zeros_(self.head.weight)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = torch.cat([self.cls_token.expand(x.shape[0], -1, -1), x], dim=1) + self.pos_embed
        return self.head(torch.relu(self.body(x))[:, 0])


def test_zero_head_is_recognised_whatever_the_root_owns() -> None:
    report = initaudit.audit(TokenModel(), example_inputs=torch.randn(4, 4, 16))
    assert findings(report, "head.weight") == [("IA201", Severity.INFO)]


class TiedLanguageModel(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.embed = nn.Embedding(50, 16)
        self.hidden = nn.Linear(16, 16)
        self.copy = nn.Linear(16, 16)
        self.head = nn.Linear(16, 50, bias=False)

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        return self.head(self.copy(torch.tanh(self.hidden(self.embed(ids)))))


def test_tied_embedding_saved_as_a_copy_is_no_clone_but_a_copied_layer_is() -> None:
    model = TiedLanguageModel()
    with torch.no_grad():
        model.head.weight.copy_(model.embed.weight)
        model.copy.weight.copy_(model.hidden.weight)
    report = initaudit.audit(model)
    clones = {f.parameter for f in report.findings if f.code == "IA204"}
    assert clones == {"copy.weight"}


class Conv1D(nn.Module):
    """Hugging Face's Conv1D: a dense layer whose weight is stored (in, out)."""

    def __init__(self, out_features: int, in_features: int) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.empty(in_features, out_features))
        self.bias = nn.Parameter(torch.zeros(out_features))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.addmm(self.bias, x.reshape(-1, x.shape[-1]), self.weight).reshape(*x.shape[:-1], -1)


def conv1d_mlp(init) -> nn.Sequential:
    layers = [Conv1D(256, 64), nn.GELU(), Conv1D(64, 256), nn.GELU(), Conv1D(10, 64)]
    for layer in layers[::2]:
        init(layer.weight)
    return nn.Sequential(*layers)


def test_transposed_dense_layer_gets_its_true_fans() -> None:
    he = initaudit.audit(conv1d_mlp(lambda w: nn.init.normal_(w, std=(2 / w.shape[0]) ** 0.5)))
    first = by_name(he, "0.weight")
    assert (first.fan_in, first.fan_out, first.kind) == (64, 256, LayerKind.DENSE)
    assert not [f for f in he.findings if f.severity.fails]
    xavier = initaudit.audit(conv1d_mlp(nn.init.xavier_uniform_))
    assert ("IA206", Severity.WARNING) in findings(xavier, "0.weight")


def test_backward_ratio_compares_gradient_norms_of_hidden_layers() -> None:
    """A fan-in init keeps the gradient's norm, not its per-element RMS, through a layer of
    another width (or a pooling, a stride)."""
    rows = [SignalRow("wide", 1.0, 1.0, grad_norm=1.0, grad_rms=0.01),
            SignalRow("narrow", 1.0, 1.0, grad_norm=1.0, grad_rms=0.1),
            SignalRow("head", 1.0, 1.0, grad_norm=5.0, grad_rms=1.0)]
    assert signal_ratios(rows) == (1.0, 1.0)


def test_fingerprints_are_exact_whatever_the_memory_layout() -> None:
    tensor = torch.randn(700, 301)
    strided = tensor.t().contiguous().t()
    assert not strided.is_contiguous() and torch.equal(tensor, strided)
    assert tensor_stats(tensor).fingerprint == tensor_stats(strided).fingerprint


def test_inputs_inferred_for_embeddings_and_transformer_encoders() -> None:
    ids = infer_example(nn.Sequential(nn.Embedding(30, 8), nn.Linear(8, 2)), None, 0)
    assert ids.args[0].dtype == torch.long and int(ids.args[0].max()) < 30
    layer = nn.TransformerEncoderLayer(24, 2, 48, batch_first=True)
    encoder = infer_example(nn.TransformerEncoder(layer, 2, enable_nested_tensor=False), None, 0)
    assert encoder.args[0].shape[-1] == 24 and encoder.origin.startswith("d_model")


class TwoInputs(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.text = nn.Embedding(20, 8)
        self.image = nn.Linear(12, 8)

    def forward(self, ids: torch.Tensor, pixels: torch.Tensor) -> torch.Tensor:
        return self.text(ids).mean(1) + torch.relu(self.image(pixels))


def test_factory_returning_model_and_inputs_is_probed() -> None:
    inputs = {"ids": torch.randint(20, (4, 5)), "pixels": torch.randn(4, 12)}
    report = initaudit.audit(lambda: (TwoInputs(), inputs))
    assert report.signal and report.coverage["probed"] == 1
    assert any(note.kind is NoteKind.PROBED and "ids=4x5" in note for note in report.notes)
    assert NoteKind.NO_ARCHITECTURE not in {note.kind for note in report.notes}


def test_cli_example_inputs_and_notes_in_json(tmp_path: Path) -> None:
    (tmp_path / "two_inputs.py").write_text(
        "import torch\n"
        "from torch import nn\n"
        "class TwoInputs(nn.Module):\n"
        "    def __init__(self):\n"
        "        super().__init__()\n"
        "        self.text = nn.Embedding(20, 8)\n"
        "        self.image = nn.Linear(12, 8)\n"
        "    def forward(self, ids, pixels):\n"
        "        return self.text(ids).mean(1) + torch.relu(self.image(pixels))\n"
        "def model():\n"
        "    return TwoInputs()\n"
        "def inputs():\n"
        "    return torch.randint(20, (4, 5)), torch.randn(4, 12)\n"
        "def broken():\n"
        "    return 'text'\n")

    def run(*extra: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "initaudit", "model", "--factory", "two_inputs:model", "--format", "json",
                               *extra], capture_output=True, text=True, cwd=tmp_path, timeout=120)

    given = json.loads(run("--example-inputs", "two_inputs:inputs").stdout)
    assert given["summary"]["probed"] is True
    assert given["notes"] == ["forward probe on inputs from two_inputs:inputs (4x5, 4x12)"]
    guessed = json.loads(run().stdout)
    assert guessed["summary"]["probed"] is False and guessed["summary"]["notes"] == 1
    assert guessed["notes"][0].startswith("no forward pass") and "--example-inputs" in guessed["notes"][0]
    refused = run("--example-inputs", "two_inputs:broken")
    assert refused.returncode == 2 and refused.stderr.startswith("initaudit: error: example inputs must be")
    assert "Traceback" not in refused.stderr


def test_state_dict_without_a_module_says_what_is_skipped(tmp_path: Path) -> None:
    path = tmp_path / "weights.pt"
    torch.save(nn.Sequential(nn.Linear(4, 4)).state_dict(), path)
    skipped = [note for note in analyse(open_source(str(path))).report.notes if note.kind is NoteKind.NO_ARCHITECTURE]
    assert len(skipped) == 1 and "--factory" in skipped[0]


def test_the_trace_leaves_batch_norm_statistics_as_they_were() -> None:
    model = nn.Sequential(nn.Conv2d(3, 8, 3), nn.BatchNorm2d(8), nn.ReLU())
    initaudit.audit(model)
    norm = model[1]
    assert int(norm.num_batches_tracked) == 0 and not norm.running_mean.any() and model.training
