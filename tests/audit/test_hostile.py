"""Hostile and broken inputs: each gives exit 2 with one line or a correct audit, nothing else."""

from __future__ import annotations

import json
import os
import pickle
import random
import resource
import signal
import struct
import sys
import zipfile
from pathlib import Path
from typing import Callable, Iterator

import pytest
import torch
from torch import nn

from initaudit.auditor.load.safetensors_io import save_safetensors
from initaudit.model_command import run_model

#: Seconds one hostile input may take before the test calls it a hang.
HANG_LIMIT = 30


class _Payload:
    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):  # type: ignore[no-untyped-def]
        return (os.system, (f"touch {self.marker}",))


def _state() -> dict[str, torch.Tensor]:
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(16, 32), nn.ReLU(), nn.Linear(32, 4)).state_dict()


def _audit(capsys: pytest.CaptureFixture[str], spec: str | None = None, **options: object) -> tuple[int, str, str]:
    """Run the audit under a hang alarm; check the outcome keeps the contract."""
    def hang(*_: object) -> None:
        raise TimeoutError(f"{spec or options.get('factory')} took over {HANG_LIMIT} s")

    previous = signal.signal(signal.SIGALRM, hang)
    signal.alarm(HANG_LIMIT)
    try:
        status = run_model(spec, **options)  # type: ignore[arg-type]
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
    out, err = capsys.readouterr()
    if status == 2:
        assert err.startswith("initaudit: error: ") and err.count("\n") == 1, err
        assert "Traceback" not in err and "internal error" not in err, err
    else:
        assert status in (0, 1) and err == "", err
        if options.get("output_format") == "json":
            json.loads(out)
    return status, out, err


# --------------------------------------------------------------------------- what is not a file


def test_fifo_and_device_are_not_opened(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    fifo = tmp_path / "model.pt"
    os.mkfifo(fifo)
    assert "not a regular file" in _audit(capsys, str(fifo))[2]
    assert "not a regular file" in _audit(capsys, "/dev/zero")[2]
    shards = tmp_path / "sharded"
    shards.mkdir()
    os.mkfifo(shards / "model-1.safetensors")
    (shards / "model.safetensors.index.json").write_text(json.dumps({"weight_map": {"w": "model-1.safetensors"}}))
    assert _audit(capsys, str(shards))[0] == 2


# --------------------------------------------------------------------------- pickles


@pytest.mark.parametrize("protocol", range(6))
def test_raw_pickles_of_any_protocol_are_refused_in_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                            protocol: int) -> None:
    marker = tmp_path / "PWNED"
    path = tmp_path / "evil.pkl"
    path.write_bytes(pickle.dumps({"w": torch.zeros(2, 2), "x": _Payload(marker)}, protocol=protocol))
    status, _, err = _audit(capsys, str(path))
    assert status == 2 and not marker.exists()
    if protocol >= 2:  # protocols 0 and 1 are not torch files at all
        assert "posix.system" in err and "--trust-pickle" in err


@pytest.mark.parametrize("protocol", [2, 4, 5])
def test_legacy_torch_save_protocols(tmp_path: Path, capsys: pytest.CaptureFixture[str], protocol: int) -> None:
    marker = tmp_path / "PWNED"
    torch.save({"w": torch.zeros(2, 2), "x": _Payload(marker)}, tmp_path / "evil.pt",
               _use_new_zipfile_serialization=False, pickle_protocol=protocol)
    status, _, err = _audit(capsys, str(tmp_path / "evil.pt"))
    assert status == 2 and "posix.system" in err and not marker.exists()
    torch.save(_state(), tmp_path / "plain.pt", _use_new_zipfile_serialization=False, pickle_protocol=protocol)
    status, _, err = _audit(capsys, str(tmp_path / "plain.pt"))
    assert status == 0 if protocol == 2 else (status == 2 and "--trust-pickle" in err)
    if protocol != 2:
        assert _audit(capsys, str(tmp_path / "plain.pt"), trust_pickle=True)[0] == 0


def _rewrite_member(path: Path, suffix: str, content: bytes) -> None:
    with zipfile.ZipFile(path) as archive:
        members = {info.filename: archive.read(info) for info in archive.infolist()}
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, content if name.endswith(suffix) else data)


@pytest.mark.parametrize("script", [False, True])
def test_archive_with_a_hostile_data_pkl(tmp_path: Path, capsys: pytest.CaptureFixture[str], script: bool) -> None:
    marker = tmp_path / "PWNED"
    path = tmp_path / "m.pt"
    if script:
        torch.jit.save(torch.jit.script(nn.Sequential(nn.Linear(4, 4))), path)
    else:
        torch.save(_state(), path)
    _rewrite_member(path, "/data.pkl", pickle.dumps(_Payload(marker), protocol=2))
    status, _, err = _audit(capsys, str(path))
    assert status == 2 and "posix.system" in err and not marker.exists()
    _rewrite_member(path, "/data.pkl", b"\x80\x02garbage")
    assert _audit(capsys, str(path))[0] == 2
    _rewrite_member(path, "/data.pkl", b"\x80\x02c__torch__\nX\n)\x81.")  # an object never given state
    assert _audit(capsys, str(path))[0] in (1, 2)  # no tensor read: never a pass


def test_state_dict_keys_must_be_strings(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    torch.save({1: torch.zeros(2, 2), "a": torch.ones(3, 3)}, tmp_path / "mixed.pt")
    assert "not a string tensor name" in _audit(capsys, str(tmp_path / "mixed.pt"))[2]
    torch.save({(1, 2): torch.zeros(2, 2)}, tmp_path / "tuple.pt")
    assert _audit(capsys, str(tmp_path / "tuple.pt"))[0] == 2


@pytest.mark.parametrize("odd", ["sparse", "meta"])
def test_sparse_and_meta_tensors_are_noted(tmp_path: Path, capsys: pytest.CaptureFixture[str], odd: str) -> None:
    state = _state()
    state["0.weight"] = state["0.weight"].to_sparse() if odd == "sparse" else torch.empty(32, 16, device="meta")
    torch.save(state, tmp_path / "m.pt")
    status, out, _ = _audit(capsys, str(tmp_path / "m.pt"))
    assert status == 1 and "IA210" in out and "0.weight" in out
    assert ("meta, no values" if odd == "meta" else "sparse_coo, no dense values") in " ".join(out.split())
    assert _audit(capsys, str(tmp_path / "m.pt"), fix=True, output=str(tmp_path / "f.safetensors"))[0] in (0, 1, 2)


# --------------------------------------------------------------------------- factories


def test_factory_that_exits_is_an_error(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "exiting.py").write_text(
        "import sys\n"
        "def build():\n    sys.exit(0)\n"
        "def interrupt():\n    raise KeyboardInterrupt\n")
    (tmp_path / "exits_on_import.py").write_text("raise SystemExit(3)\n")
    monkeypatch.chdir(tmp_path)
    for module in ("exiting", "exits_on_import"):
        monkeypatch.delitem(sys.modules, module, raising=False)
    assert "sys.exit(0)" in _audit(capsys, factory="exiting:build")[2]
    assert "sys.exit(3)" in _audit(capsys, factory="exits_on_import:build")[2]
    with pytest.raises(KeyboardInterrupt):
        run_model(factory="exiting:interrupt")


# --------------------------------------------------------------------------- control characters


def test_control_characters_are_escaped_in_text_and_exact_in_json(tmp_path: Path,
                                                                  capsys: pytest.CaptureFixture[str]) -> None:
    name = "evil\x1b[2J\r\u202eweight"
    state = {f"0.{name}": torch.zeros(8, 8), "1.weight": torch.randn(8, 8)}
    path = tmp_path / "bad\x1bname.safetensors"
    save_safetensors(state, path)
    status, out, _ = _audit(capsys, str(path))
    assert status == 1 and "\x1b" not in out and "\r" not in out and "\u202e" not in out
    assert "evil\\x1b[2J\\r\\u202eweight" in out and "bad\\x1bname" in out
    status, out, _ = _audit(capsys, str(path), output_format="json")
    assert f"0.{name}" in [p["name"] for p in json.loads(out)["parameters"]]
    status, out, _ = _audit(capsys, str(path), fix=True, output=str(tmp_path / "fixed\x07.safetensors"))
    assert "\x1b" not in out and "\x07" not in out and "fixed\\x07" in out
    status, _, err = _audit(capsys, str(tmp_path / "missing\x1b[31m.pt"))
    assert status == 2 and "\x1b" not in err


# --------------------------------------------------------------------------- generated hostile files


def _safetensors_bytes(header: dict[str, object], data: bytes) -> bytes:
    encoded = json.dumps(header).encode()
    return struct.pack("<Q", len(encoded)) + encoded + data


def _hostile_safetensors(tmp_path: Path) -> Iterator[tuple[str, bytes]]:
    good = tmp_path / "good.safetensors"
    save_safetensors(_state(), good)
    raw = good.read_bytes()
    header_size = struct.unpack("<Q", raw[:8])[0]
    yield "truncated", raw[: len(raw) // 2]
    yield "header only", raw[: 8 + header_size]
    rng = random.Random(0)
    for index in range(6):
        flipped = bytearray(raw)
        position = rng.randrange(8, 8 + header_size)
        flipped[position] ^= 1 << rng.randrange(8)
        yield f"header bit flip {index}", bytes(flipped)
    yield "huge header length", struct.pack("<Q", 2 ** 62) + raw[8:]
    data = bytes(64)
    f32 = {"dtype": "F32", "shape": [4, 4], "data_offsets": [0, 64]}
    yield "huge declared shape", _safetensors_bytes({"w": {**f32, "shape": [2 ** 40, 2 ** 40]}}, data)
    yield "huge offsets", _safetensors_bytes({"w": {**f32, "data_offsets": [0, 2 ** 60]}}, data)
    yield "overlapping offsets", _safetensors_bytes(
        {"w": f32, "v": {**f32, "data_offsets": [32, 96]}}, bytes(96))
    yield "wrong dtype", _safetensors_bytes({"w": {**f32, "dtype": "F33"}}, data)
    yield "negative shape", _safetensors_bytes({"w": {**f32, "shape": [-4, -4]}}, data)
    yield "shape not a list", _safetensors_bytes({"w": {**f32, "shape": "4x4"}}, data)
    yield "header not an object", _safetensors_bytes([1, 2, 3], data)  # type: ignore[arg-type]
    yield "deep header", struct.pack("<Q", 200_002) + b"{" + b"[" * 100_000 + b"]" * 100_000 + b"}"


def _hostile_torch_files(tmp_path: Path) -> Iterator[tuple[str, bytes]]:
    good = tmp_path / "good.pt"
    torch.save(_state(), good)
    raw = good.read_bytes()
    rng = random.Random(1)
    for cut in (30, 200, len(raw) // 2, len(raw) - 30):
        yield f"zip truncated at {cut}", raw[:cut]
    for index in range(6):
        flipped = bytearray(raw)
        flipped[rng.randrange(len(raw))] ^= 0xFF
        yield f"zip byte flip {index}", bytes(flipped)
    torch.jit.save(torch.jit.script(nn.Sequential(nn.Linear(4, 4))), tmp_path / "script.pt")
    script = (tmp_path / "script.pt").read_bytes()
    for cut in (100, len(script) // 2):
        yield f"TorchScript truncated at {cut}", script[:cut]
    for index in range(6):
        flipped = bytearray(script)
        flipped[rng.randrange(len(script))] ^= 0xFF
        yield f"TorchScript byte flip {index}", bytes(flipped)
    torch.save(_state(), good, _use_new_zipfile_serialization=False)
    legacy = good.read_bytes()
    for cut in (10, len(legacy) // 2):
        yield f"legacy truncated at {cut}", legacy[:cut]


@pytest.mark.parametrize("family", ["safetensors", "torch"])
def test_generated_hostile_checkpoints(tmp_path: Path, capsys: pytest.CaptureFixture[str], family: str) -> None:
    generate: Callable[[Path], Iterator[tuple[str, bytes]]] = (
        _hostile_safetensors if family == "safetensors" else _hostile_torch_files)
    baseline = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    outcomes = {}
    for label, content in generate(tmp_path):
        path = tmp_path / f"hostile.{'safetensors' if family == 'safetensors' else 'pt'}"
        path.write_bytes(content)
        outcomes[label] = _audit(capsys, str(path), output_format="json")[0]
    grown_mib = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - baseline) / 1024
    assert grown_mib < 500, grown_mib
    assert all(status == 2 for label, status in outcomes.items()
               if "truncated" in label or label in ("huge declared shape", "huge offsets", "wrong dtype",
                                                     "negative shape", "overlapping offsets")), outcomes


def test_nested_and_self_referring_indexes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    outer = tmp_path / "outer"
    inner = outer / "inner"
    inner.mkdir(parents=True)
    save_safetensors(_state(), inner / "model-1.safetensors")
    (inner / "model.safetensors.index.json").write_text(
        json.dumps({"weight_map": {k: "model-1.safetensors" for k in _state()}}))
    (outer / "loop").symlink_to(outer)
    for shard in ("inner", "inner/model.safetensors.index.json", "loop", "loop/inner"):
        (outer / "model.safetensors.index.json").write_text(json.dumps({"weight_map": {"0.weight": shard}}))
        assert _audit(capsys, str(outer))[0] == 2
    (outer / "model.safetensors.index.json").write_text(
        json.dumps({"weight_map": {k: "inner/model-1.safetensors" for k in _state()}}))
    assert _audit(capsys, str(outer))[0] == 0  # a shard in a subdirectory is fine


@pytest.mark.parametrize("odd", ["sparse", "meta"])
def test_sparse_and_meta_tensors_with_a_factory(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                monkeypatch: pytest.MonkeyPatch, odd: str) -> None:
    (tmp_path / "small.py").write_text(
        "from torch import nn\n"
        "def build():\n    return nn.Sequential(nn.Linear(16, 32), nn.ReLU(), nn.Linear(32, 4))\n")
    monkeypatch.chdir(tmp_path)
    monkeypatch.delitem(sys.modules, "small", raising=False)
    state = _state()
    state["0.weight"] = state["0.weight"].to_sparse() if odd == "sparse" else torch.empty(32, 16, device="meta")
    torch.save(state, tmp_path / "m.pt")
    status, _, err = _audit(capsys, str(tmp_path / "m.pt"), factory="small:build")
    assert status == 0 if odd == "sparse" else (status == 2 and "meta tensor" in err)


def test_deeply_nested_training_checkpoint(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    nested: dict[str, object] = {}
    for _ in range(20_000):
        nested = {"state_dict": nested}
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(100_000)
    try:
        deep = pickle.dumps(nested, protocol=2)  # torch.save itself cannot nest this deep
    finally:
        sys.setrecursionlimit(limit)
    torch.save(_state(), tmp_path / "deep.pt")
    _rewrite_member(tmp_path / "deep.pt", "/data.pkl", deep)
    assert "no tensors found" in _audit(capsys, str(tmp_path / "deep.pt"))[2]


def _zip_with_undecodable_name(path: Path) -> None:
    """A torch.save zip whose member names claim UTF-8 (flag bit 11) but are not."""
    torch.save(_state(), path)
    data = bytearray(path.read_bytes())
    name = zipfile.ZipFile(path).namelist()[0].encode()
    broken = name[:-2] + b"\xff\xfe"
    data = bytearray(bytes(data).replace(name, broken))
    central = data.find(b"PK\x01\x02")
    flags = struct.unpack_from("<H", data, central + 8)[0]
    struct.pack_into("<H", data, central + 8, flags | 0x800)
    path.write_bytes(bytes(data))


def _zip_spanning_disks(path: Path) -> None:
    """A zip64 end-of-directory locator that says the archive spans two disks."""
    torch.save(_state(), path)
    data = path.read_bytes()
    end = data.rfind(b"PK\x05\x06")
    locator = struct.pack("<4sLQL", b"PK\x06\x07", 0, 0, 2)
    path.write_bytes(data[:end] + locator + data[end:])


@pytest.mark.parametrize("damage", [_zip_with_undecodable_name, _zip_spanning_disks])
def test_damaged_zip_directories_are_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                              damage: Callable[[Path], None]) -> None:
    path = tmp_path / "model.pt"
    damage(path)
    status, _, err = _audit(capsys, str(path))
    assert status == 2 and "corrupt archive" in err


def test_subnormal_weights_are_audited(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    weight = torch.zeros(4, 4)
    weight[0, 0] = 1e-39
    save_safetensors({"fc.weight": weight}, tmp_path / "tiny.safetensors")
    status, out, _ = _audit(capsys, str(tmp_path / "tiny.safetensors"))
    assert status in (0, 1) and "fc.weight" in out
