"""Checkpoints whose work or memory would not be bounded by their bytes on disk: a stride-0 tensor
of 2**34 values in 1.6 kB, thousands of names for one storage, a compressed record that inflates
a thousandfold, a safetensors header of zero-size tensors, a 600-byte config.json describing a
model of gigabytes. Each runs in a child process under a memory cap, as a safety net only."""

from __future__ import annotations

import json
import resource
import struct
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
import torch

from tests.torchvision_ops import declare_torchvision_ops

#: The address space a child may use: far below what any of these bombs would take.
MEMORY_CAP = 3 << 30


def _capped() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_CAP, MEMORY_CAP))


#: ``initaudit model`` in a child, with torchvision's operators declared for the libraries that
#: import it (see tests/torchvision_ops.py).
CHILD = ("import sys; from tests.torchvision_ops import declare_torchvision_ops; declare_torchvision_ops(); "
         "from initaudit.cli import main; sys.argv[0] = 'initaudit'; main()")
ROOT = Path(__file__).resolve().parents[2]


def _audit(spec: Path) -> tuple[int, dict, str]:
    done = subprocess.run([sys.executable, "-c", CHILD, "model", str(spec), "--format", "json"], cwd=ROOT,
                          capture_output=True, text=True, timeout=300, check=False, preexec_fn=_capped)
    return done.returncode, json.loads(done.stdout) if done.stdout else {}, done.stderr


def test_a_stride_zero_tensor_is_not_measured_value_by_value(tmp_path: Path) -> None:
    huge = torch.zeros(1).as_strided((2**17, 2**17), (0, 0))
    torch.save({"fc.weight": huge, "fc.bias": torch.zeros(4)}, tmp_path / "stride0.pt")
    assert (tmp_path / "stride0.pt").stat().st_size < 4096
    status, report, err = _audit(tmp_path / "stride0.pt")
    assert status == 1, err
    [finding] = [f for f in report["findings"] if f["code"] == "IA210"]
    assert "fc.weight (17179869184 values are views of 1 stored ones" in finding["message"]


def test_a_small_expanded_tensor_is_still_measured(tmp_path: Path) -> None:
    """Overlap within bounds keeps its structural findings: every row is the same row."""
    rows = torch.randn(1, 64).expand(64, 64)
    torch.save({"fc.weight": rows}, tmp_path / "expanded.pt")
    status, report, err = _audit(tmp_path / "expanded.pt")
    assert [f["code"] for f in report["findings"]] == ["IA203"], err


def test_names_of_one_storage_are_measured_once_and_reported_as_tied(tmp_path: Path) -> None:
    shared = torch.randn(64, 64) * 0.1
    torch.save({f"layers.{i}.weight": shared for i in range(500)}, tmp_path / "alias.pt")
    status, report, err = _audit(tmp_path / "alias.pt")
    assert status == 0, err
    assert report["summary"]["parameters"] == 500
    assert len({p["std"] for p in report["parameters"]}) == 1
    assert any(note.startswith("tied, one tensor under several names, measured once: layers.0.weight = "
                               "layers.1.weight, layers.2.weight, layers.3.weight and 496 more")
               for note in report["notes"])


@pytest.mark.parametrize("record", ["data.pkl", "data/0"])
def test_a_compressed_record_that_inflates_far_is_refused_unread(tmp_path: Path, record: str) -> None:
    torch.save({"w": torch.randn(4, 4)}, tmp_path / "small.pt")
    bomb = tmp_path / "bomb.pt"
    with zipfile.ZipFile(tmp_path / "small.pt") as source, zipfile.ZipFile(bomb, "w") as out:
        for info in source.infolist():
            if info.filename.endswith(record):
                out.writestr(info.filename, b"\0" * (256 << 20), compress_type=zipfile.ZIP_DEFLATED)
            else:
                out.writestr(info, source.read(info))
    assert bomb.stat().st_size < 1 << 20
    status, report, err = _audit(bomb)
    assert (status, report) == (2, {})
    assert "would inflate from" in err and "refusing a compressed record that large" in err
    assert err.count("\n") == 1


def test_a_safetensors_header_of_empty_tensors(tmp_path: Path) -> None:
    header = {f"t{i}": {"dtype": "F32", "shape": [0], "data_offsets": [0, 0]} for i in range(20000)}
    encoded = json.dumps(header).encode()
    encoded += b" " * (-len(encoded) % 8)
    (tmp_path / "empty.safetensors").write_bytes(struct.pack("<Q", len(encoded)) + encoded)
    status, report, err = _audit(tmp_path / "empty.safetensors")
    assert status == 1, err
    assert [f["code"] for f in report["findings"]] == ["IA210"] and report["parameters"] == []


def _transformers():  # type: ignore[no-untyped-def]
    declare_torchvision_ops()
    return pytest.importorskip("transformers")


def test_a_config_describing_far_more_than_its_checkpoint_is_not_built(tmp_path: Path) -> None:
    transformers = _transformers()
    config = transformers.BertConfig(hidden_size=16, num_hidden_layers=1, num_attention_heads=2,
                                     intermediate_size=32, vocab_size=50, max_position_embeddings=16)
    transformers.BertModel(config).save_pretrained(tmp_path)
    described = json.loads((tmp_path / "config.json").read_text())
    (tmp_path / "config.json").write_text(json.dumps({**described, "max_position_embeddings": 40_000_000}))
    status, report, err = _audit(tmp_path)
    assert status in (0, 1), err
    assert any("describes a model of" in note and "not built" in note for note in report["notes"])
    assert not report["summary"]["probed"]


def test_a_config_matching_its_checkpoint_is_built(tmp_path: Path) -> None:
    transformers = _transformers()
    config = transformers.BertConfig(hidden_size=16, num_hidden_layers=1, num_attention_heads=2,
                                     intermediate_size=32, vocab_size=50, max_position_embeddings=16)
    transformers.BertModel(config).save_pretrained(tmp_path)
    status, report, err = _audit(tmp_path)
    assert status in (0, 1), err
    assert report["summary"]["probed"] and not [n for n in report["notes"] if "not built" in n]
