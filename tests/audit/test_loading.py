from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from torch import nn

from initaudit.auditor.load.safetensors_io import save_safetensors
from initaudit.model_command import run_model


def _model() -> nn.Sequential:
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(16, 32), nn.ReLU(), nn.Linear(32, 4))


def _json(capsys: pytest.CaptureFixture[str], spec: str | None = None, **options: object) -> tuple[int, dict]:
    status = run_model(spec, output_format="json", **options)
    out = capsys.readouterr().out
    return status, json.loads(out) if out else {}


def _names(report: dict) -> list[str]:
    return [p["name"] for p in report["parameters"]]


EXPECTED = ["0.weight", "0.bias", "2.weight", "2.bias"]


def test_zip_state_dict(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    torch.save(_model().state_dict(), tmp_path / "m.pt")
    status, report = _json(capsys, str(tmp_path / "m.pt"))
    assert status == 0 and _names(report) == EXPECTED
    assert report["parameters"][0]["scheme"]["name"] == "pytorch_default"


def test_training_checkpoint_with_module_prefix(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    state = {f"module.{k}": v for k, v in _model().state_dict().items()}
    torch.save({"epoch": 3, "optimizer": {"lr": 0.1}, "state_dict": state}, tmp_path / "c.pth")
    status, report = _json(capsys, str(tmp_path / "c.pth"))
    assert status == 0 and _names(report) == EXPECTED


def test_legacy_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    torch.save(_model().state_dict(), tmp_path / "l.pt", _use_new_zipfile_serialization=False)
    assert _names(_json(capsys, str(tmp_path / "l.pt"))[1]) == EXPECTED


def test_safetensors_and_sharded_directory(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    state = _model().state_dict()
    save_safetensors(state, tmp_path / "m.safetensors")
    assert sorted(_names(_json(capsys, str(tmp_path / "m.safetensors"))[1])) == sorted(EXPECTED)
    shard_dir = tmp_path / "sharded"
    shard_dir.mkdir()
    save_safetensors({k: state[k] for k in EXPECTED[:2]}, shard_dir / "model-00001-of-00002.safetensors")
    save_safetensors({k: state[k] for k in EXPECTED[2:]}, shard_dir / "model-00002-of-00002.safetensors")
    weight_map = {k: f"model-0000{1 + i // 2}-of-00002.safetensors" for i, k in enumerate(EXPECTED)}
    (shard_dir / "model.safetensors.index.json").write_text(json.dumps({"weight_map": weight_map}))
    assert sorted(_names(_json(capsys, str(shard_dir))[1])) == sorted(EXPECTED)


def test_sharded_bin_directory(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    state = _model().state_dict()
    torch.save({k: state[k] for k in EXPECTED[:2]}, tmp_path / "pytorch_model-1.bin")
    torch.save({k: state[k] for k in EXPECTED[2:]}, tmp_path / "pytorch_model-2.bin")
    weight_map = {k: f"pytorch_model-{1 + i // 2}.bin" for i, k in enumerate(EXPECTED)}
    (tmp_path / "pytorch_model.bin.index.json").write_text(json.dumps({"weight_map": weight_map}))
    assert sorted(_names(_json(capsys, str(tmp_path))[1])) == sorted(EXPECTED)


def test_torchscript(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    torch.jit.save(torch.jit.script(_model()), tmp_path / "s.pt")
    assert _names(_json(capsys, str(tmp_path / "s.pt"))[1]) == EXPECTED


def test_full_module_refused_then_trusted(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    torch.save(_model(), tmp_path / "full.pt")
    assert run_model(str(tmp_path / "full.pt")) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "torch.nn.modules.linear.Linear" in err and "--trust-pickle" in err
    status, report = _json(capsys, str(tmp_path / "full.pt"), trust_pickle=True)
    assert status == 0 and report["parameters"][0]["activation"] == "relu"


class _Payload:
    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):  # type: ignore[no-untyped-def]
        return (os.system, (f"touch {self.marker}",))


@pytest.mark.parametrize("legacy", [False, True])
def test_malicious_pickle_never_runs(tmp_path: Path, capsys: pytest.CaptureFixture[str], legacy: bool) -> None:
    marker = tmp_path / "PWNED"
    torch.save({"w": torch.zeros(2, 2), "x": _Payload(marker)}, tmp_path / "evil.pt",
               _use_new_zipfile_serialization=not legacy)
    assert run_model(str(tmp_path / "evil.pt")) == 2
    assert "refusing to unpickle" in capsys.readouterr().err
    assert not marker.exists()


@pytest.mark.parametrize("content", [b"", b"junk" * 40, None])
def test_unreadable_files_exit_2_with_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                              content: bytes | None) -> None:
    path = tmp_path / "bad.pt"
    if content is None:
        torch.save(_model().state_dict(), path)
        path.write_bytes(path.read_bytes()[:200])  # truncated
    else:
        path.write_bytes(content)
    assert run_model(str(path)) == 2
    err = capsys.readouterr().err
    assert err.startswith("initaudit: error: ") and err.count("\n") == 1


def test_missing_file_and_fix_without_output(capsys: pytest.CaptureFixture[str]) -> None:
    assert run_model("no/such/file.pt") == 2
    assert run_model("no/such/file.pt", fix=True) == 2
    assert "--output" in capsys.readouterr().err


def test_factory_spec_and_factory_pairing(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "mymodels.py").write_text(
        "from torch import nn\n"
        "def build():\n"
        "    return nn.Sequential(nn.Linear(16, 32), nn.Tanh(), nn.Linear(32, 4))\n")
    monkeypatch.chdir(tmp_path)
    monkeypatch.delitem(sys.modules, "mymodels", raising=False)
    status, report = _json(capsys, factory="mymodels:build")
    assert status == 0 and report["parameters"][0]["activation"] == "tanh"
    torch.save(_model().state_dict(), tmp_path / "sd.pt")
    status, report = _json(capsys, str(tmp_path / "sd.pt"), factory="mymodels:build")
    assert report["parameters"][0]["activation"] == "tanh"
    assert run_model(factory="mymodels:nothing") == 2
    assert run_model(factory="nomodule_xyz:build") == 2


def test_cli_import_does_not_load_torch() -> None:
    code = "import sys, initaudit.auditor, initaudit.model_command; print('torch' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "False"
