"""A broken model never passes as clean because of where its fault sits: a complex or quantized
tensor, a buffer, a second state dict in the file, a frozen TorchScript archive, the probe's
signal, or no weight read at all."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import pytest
import torch
from torch import nn

from initaudit.auditor.load.sources import open_source
from initaudit.auditor.notes import Note, NoteKind
from initaudit.auditor.pipeline import analyse, audit_module
from initaudit.model_command import run_model

NAN = float("nan")


def _notes(spec: str, kind: NoteKind) -> list[Note]:
    return [note for note in analyse(open_source(spec)).report.notes if note.kind is kind]


def _json(capsys: pytest.CaptureFixture[str], spec: str, **options: object) -> tuple[int, dict]:
    status = run_model(spec, output_format="json", **options)  # type: ignore[arg-type]
    out = capsys.readouterr().out
    return status, json.loads(out) if out else {}


def _errors(report: dict) -> dict[str | None, str]:
    return {f["parameter"]: f["code"] for f in report["findings"] if f["severity"] == "error"}


def _mlp_with_norm() -> nn.Sequential:
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(8, 8), nn.BatchNorm1d(8), nn.ReLU(), nn.Linear(8, 2))


def test_nan_in_the_imaginary_part_of_a_complex_weight(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    weight = torch.randn(8, 8, dtype=torch.cfloat)
    weight[1, 2] = complex(1.0, NAN)
    torch.save({"spectral.weight": weight, "spectral.bias": torch.zeros(8)}, tmp_path / "c.pt")
    status, report = _json(capsys, str(tmp_path / "c.pt"))
    assert status == 1
    assert report["summary"]["parameters"] == 2
    assert _errors(report) == {"spectral.weight": "IA205"}


def test_nan_scale_of_a_quantized_weight(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # quantized tensors are deprecated, still saved by old models
        weight = torch.quantize_per_tensor(torch.randn(8, 8), NAN, 0, torch.qint8)
    torch.save({"fc.weight": weight, "fc.bias": torch.zeros(8)}, tmp_path / "q.pt")
    status, report = _json(capsys, str(tmp_path / "q.pt"))
    assert status == 1 and _errors(report) == {"fc.weight": "IA205"}


def test_a_finite_quantized_weight_is_measured_as_the_values_it_stands_for(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        weight = torch.quantize_per_tensor(torch.randn(64, 64) * 0.1, 0.01, 0, torch.qint8)
    torch.save({"fc.weight": weight}, tmp_path / "q.pt")
    _, report = _json(capsys, str(tmp_path / "q.pt"))
    assert report["parameters"][0]["std"] == pytest.approx(0.1, rel=0.1)


@pytest.mark.parametrize("how", ["state dict", "factory"])
def test_nan_in_a_batchnorm_running_variance(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                             monkeypatch: pytest.MonkeyPatch, how: str) -> None:
    model = _mlp_with_norm()
    with torch.no_grad():
        model[1].running_var[3] = NAN
    assert model.eval()(torch.randn(4, 8)).isnan().all(dim=0).any()  # the model's eval output is NaN
    if how == "state dict":
        torch.save(model.state_dict(), tmp_path / "m.pt")
        status, report = _json(capsys, str(tmp_path / "m.pt"))
    else:
        monkeypatch.syspath_prepend(str(tmp_path))
        (tmp_path / "nan_buffer.py").write_text(
            "import torch\nfrom torch import nn\n"
            "def build():\n"
            "    torch.manual_seed(0)\n"
            "    model = nn.Sequential(nn.Linear(8, 8), nn.BatchNorm1d(8), nn.ReLU(), nn.Linear(8, 2))\n"
            "    with torch.no_grad():\n"
            "        model[1].running_var[3] = float('nan')\n"
            "    return model\n")
        status, report = _json(capsys, None, factory="nan_buffer:build")
    assert status == 1
    assert _errors(report) == {"1.running_var": "IA205"}
    message = next(f["message"] for f in report["findings"] if f["parameter"] == "1.running_var")
    assert message.startswith("1 of 8 values are NaN or infinite")


def test_nan_in_the_second_state_dict_of_a_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    clean = _mlp_with_norm().state_dict()
    broken = {name: tensor.clone() for name, tensor in clean.items()}
    broken["0.weight"][0, 0] = NAN
    torch.save({"state_dict": clean, "model": broken, "epoch": 3}, tmp_path / "two.pt")
    status, report = _json(capsys, str(tmp_path / "two.pt"))
    assert status == 1
    assert _errors(report) == {"model.0.weight": "IA205"}
    outside = _notes(str(tmp_path / "two.pt"), NoteKind.OUTSIDE_STATE_DICT)
    assert len(outside) == 1 and "outside the audited state dict state_dict," in outside[0]


def test_a_clean_training_checkpoint_with_optimizer_state_passes(tmp_path: Path,
                                                                  capsys: pytest.CaptureFixture[str]) -> None:
    model = nn.Sequential(nn.Linear(8, 8), nn.ReLU(), nn.Linear(8, 2))
    optimizer = torch.optim.Adam(model.parameters())
    model(torch.randn(4, 8)).sum().backward()
    optimizer.step()
    torch.save({"model": model.state_dict(), "optimizer": optimizer.state_dict()}, tmp_path / "ckpt.pt")
    status, report = _json(capsys, str(tmp_path / "ckpt.pt"))
    assert _errors(report) == {} and report["summary"]["parameters"] == 4


@pytest.mark.parametrize("trust", [False, True], ids=["weights only", "--trust-pickle"])
def test_a_frozen_torchscript_archive_is_audited_from_its_constants(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], trust: bool) -> None:
    scripted = torch.jit.script(nn.Sequential(nn.Linear(4, 4), nn.ReLU(), nn.Linear(4, 2)).eval())
    with torch.no_grad():
        scripted[0].weight[0, 0] = NAN
    torch.jit.freeze(scripted).save(str(tmp_path / "frozen.pt"))
    status, report = _json(capsys, str(tmp_path / "frozen.pt"), trust_pickle=trust)
    assert status == 1
    assert report["summary"]["parameters"] == 4
    assert list(_errors(report).values()) == ["IA205"]


def test_nan_in_the_probe_with_finite_parameters() -> None:
    class Log(nn.Module):
        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return torch.log(x)  # NaN for every negative input

    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(16, 16), Log(), nn.Linear(16, 16), nn.ReLU(), nn.Linear(16, 4))
    report = audit_module(model, input_shape=(8, 16))
    errors = [f for f in report.findings if f.severity.fails and f.code == "IA205"]
    assert [f.parameter for f in errors] == ["2.weight"]
    assert "the forward probe's signal is NaN or infinite from 2 on" in errors[0].message


def test_no_weight_read_is_an_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    model = nn.Linear(8, 8, device="meta")
    torch.save(model.state_dict(), tmp_path / "meta.pt")
    status, report = _json(capsys, str(tmp_path / "meta.pt"))
    assert status == 1
    assert _errors(report) == {None: "IA210"}
    assert audit_module(nn.ReLU()).exit_code == 1


def test_an_infinite_attention_mask_buffer_is_no_fault() -> None:
    """A causal mask of -inf above the diagonal, registered as a buffer, as Whisper does."""
    class Masked(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.fc = nn.Linear(8, 8)
            self.register_buffer("mask", torch.full((8, 8), float("-inf")).triu_(1))

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return torch.softmax(self.fc(x) + self.mask[0], dim=-1)

    report = audit_module(Masked(), input_shape=(4, 8))
    assert not [f for f in report.findings if f.code == "IA205"]


def _save_sharded(directory: Path, state: dict[str, torch.Tensor], stem: str, suffix: str) -> None:
    from initaudit.auditor.load.safetensors_io import save_safetensors

    names = list(state)
    weight_map = {}
    for number, part in enumerate((names[: len(names) // 2], names[len(names) // 2:]), start=1):
        file_name = f"{stem}-0000{number}-of-00002{suffix}"
        shard = {name: state[name].contiguous() for name in part}
        if suffix == ".safetensors":
            save_safetensors(shard, directory / file_name)
        else:
            torch.save(shard, directory / file_name)
        weight_map.update(dict.fromkeys(part, file_name))
    (directory / f"{stem}{suffix}.index.json").write_text(json.dumps({"weight_map": weight_map}))


@pytest.mark.parametrize("layout", ["index beside a single file", "bin shards beside a single file",
                                    "diffusers index beside a single file"])
def test_a_directory_is_audited_as_its_library_loads_it(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                        layout: str) -> None:
    """transformers loads model.safetensors before a sharded index (diffusers: the index first),
    so the NaN sits in the file the library would not load and initaudit must not report it."""
    from initaudit.auditor.load.safetensors_io import save_safetensors

    loaded = nn.Sequential(nn.Linear(8, 8), nn.ReLU(), nn.Linear(8, 2)).state_dict()
    stray = {name: tensor.clone() for name, tensor in loaded.items()}
    stray["0.weight"][0, 0] = NAN
    directory = tmp_path / "ckpt"
    directory.mkdir()
    if layout.startswith("diffusers"):
        _save_sharded(directory, loaded, "diffusion_pytorch_model", ".safetensors")
        save_safetensors(stray, directory / "diffusion_pytorch_model.safetensors")
        expected = "audited diffusion_pytorch_model.safetensors.index.json, which diffusers loads first"
    else:
        save_safetensors(loaded, directory / "model.safetensors")
        if layout.startswith("index"):
            _save_sharded(directory, stray, "model", ".safetensors")
        else:
            _save_sharded(directory, stray, "pytorch_model", ".bin")
        expected = "audited model.safetensors, which transformers loads first"
    status, report = _json(capsys, str(directory))
    assert status == 0 and _errors(report) == {}
    [note] = _notes(str(directory), NoteKind.FILES_NOT_AUDITED)
    ignored = {"index beside a single file": "model-00001-of-00002.safetensors, model-00002-of-00002.safetensors, "
                                             "model.safetensors.index.json",
               "bin shards beside a single file": "pytorch_model-00001-of-00002.bin, "
                                                  "pytorch_model-00002-of-00002.bin, pytorch_model.bin.index.json",
               "diffusers index beside a single file": "diffusion_pytorch_model.safetensors"}[layout]
    assert note == f"{expected}; not audited, as it would not load them: {ignored}"



def test_a_torchscript_module_saving_its_own_state_is_named(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A module with its own __getstate__ keeps only what that returns: the Linear's weights
    are not in the archive at all, which the report says instead of passing on fewer tensors."""
    source = ("import torch\nfrom typing import Tuple\n"
              "class Kept(torch.nn.Module):\n"
              "    def __init__(self):\n"
              "        super().__init__()\n"
              "        self.fc = torch.nn.Linear(4, 4)\n"
              "        self.scale = torch.ones(1)\n"
              "    @torch.jit.export\n"
              "    def __getstate__(self) -> Tuple[torch.Tensor, bool]:\n"
              "        return (self.scale, self.training)\n"
              "    @torch.jit.export\n"
              "    def __setstate__(self, state: Tuple[torch.Tensor, bool]) -> None:\n"
              "        self.scale = state[0]\n"
              "        self.training = state[1]\n"
              "    def forward(self, x):\n"
              "        return self.fc(x) * self.scale\n")
    (tmp_path / "kept_state.py").write_text(source)
    namespace: dict = {}
    exec(compile(source, str(tmp_path / "kept_state.py"), "exec"), namespace)  # noqa: S102 - our own code
    torch.jit.save(torch.jit.script(namespace["Kept"]()), str(tmp_path / "kept.pt"))
    status, report = _json(capsys, str(tmp_path / "kept.pt"))
    assert status == 1
    [finding] = [f for f in report["findings"] if f["code"] == "IA210"]
    assert finding["message"] == ("not audited (1): (root) (Kept): saves its own state (__getstate__), and "
                                  "the tensors it leaves out are not in the archive")
