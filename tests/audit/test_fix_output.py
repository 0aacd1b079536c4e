"""``model --fix --output``: only the output is written, in the format its suffix names."""

from __future__ import annotations

import hashlib
import json
import os
import stat
from pathlib import Path
from typing import Callable

import pytest
import torch

from examples import audit_models
from initaudit import atomic
from initaudit.auditor.load.safetensors_io import save_safetensors
from initaudit.model_command import run_model

FACTORY = "examples.audit_models:bad_mlp"


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _one_line_error(capsys: pytest.CaptureFixture[str]) -> str:
    err = capsys.readouterr().err
    assert err.startswith("initaudit: error: ") and err.count("\n") == 1, err
    return err


def _bad_sharded(directory: Path, suffix: str = ".safetensors") -> dict[str, str]:
    """A sharded checkpoint of the bad MLP, two shards, with a config file."""
    directory.mkdir()
    state = audit_models.bad_mlp().state_dict()
    names = list(state)
    halves = {f"model-1{suffix}": names[: len(names) // 2], f"model-2{suffix}": names[len(names) // 2:]}
    weight_map = {}
    for file_name, part in halves.items():
        if suffix == ".safetensors":
            save_safetensors({n: state[n] for n in part}, directory / file_name)
        else:
            torch.save({n: state[n] for n in part}, directory / file_name)
        weight_map.update({n: file_name for n in part})
    (directory / "config.json").write_text("{}")
    return weight_map


def _write_index(directory: Path, weight_map: object, name: str = "model.safetensors.index.json") -> None:
    (directory / name).write_text(json.dumps({"weight_map": weight_map}))


def _tree(directory: Path) -> dict[str, str]:
    return {str(p.relative_to(directory)): _digest(p) for p in sorted(directory.rglob("*")) if p.is_file()}


@pytest.mark.parametrize("suffix", [".safetensors", ".bin"])
def test_sharded_fix_rewrites_only_the_output(tmp_path: Path, capsys: pytest.CaptureFixture[str], suffix: str) -> None:
    weight_map = _bad_sharded(tmp_path / "ckpt", suffix)
    index = "model.safetensors.index.json" if suffix == ".safetensors" else "pytorch_model.bin.index.json"
    _write_index(tmp_path / "ckpt", weight_map, index)
    before = _tree(tmp_path)
    assert run_model(str(tmp_path / "ckpt"), fix=True, output=str(tmp_path / "fixed"), factory=FACTORY) == 0
    assert "fix written to" in capsys.readouterr().out
    assert _tree(tmp_path / "ckpt") == {k.removeprefix("ckpt/"): v for k, v in before.items()}
    assert set(_tree(tmp_path / "fixed")) == {"config.json", f"model-1{suffix}", f"model-2{suffix}", index}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ckpt", "fixed"]


@pytest.mark.parametrize("escape", ["absolute", "parent", "symlink"])
def test_shard_names_cannot_leave_the_directory(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                escape: str) -> None:
    weight_map = _bad_sharded(tmp_path / "ckpt")
    outside = tmp_path / "outside.safetensors"
    os.replace(tmp_path / "ckpt" / "model-2.safetensors", outside)
    if escape == "absolute":
        name = str(outside)
    elif escape == "parent":
        name = "../outside.safetensors"
    else:
        name = "link.safetensors"
        (tmp_path / "ckpt" / name).symlink_to(outside)
    _write_index(tmp_path / "ckpt", {k: name if v == "model-2.safetensors" else v for k, v in weight_map.items()})
    before = _digest(outside)
    assert run_model(str(tmp_path / "ckpt"), fix=True, output=str(tmp_path / "fixed"), factory=FACTORY) == 2
    assert "the checkpoint directory" in _one_line_error(capsys)
    assert _digest(outside) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ckpt", "outside.safetensors"]


def test_copy_skips_links_out_of_the_directory(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    weight_map = _bad_sharded(tmp_path / "ckpt")
    _write_index(tmp_path / "ckpt", weight_map)
    (tmp_path / "secret.txt").write_text("not part of the checkpoint")
    (tmp_path / "ckpt" / "notes.txt").symlink_to(tmp_path / "secret.txt")
    assert run_model(str(tmp_path / "ckpt"), fix=True, output=str(tmp_path / "fixed"), factory=FACTORY) == 0
    assert "not copied: notes.txt" in capsys.readouterr().out
    assert not (tmp_path / "fixed" / "notes.txt").exists()


@pytest.mark.parametrize("weight_map", [["a"], "model-1.safetensors", None, {"x": 3},
                                        {"0.weight": "model.safetensors.index.json"},
                                        {"0.weight": "other.index.json"}, {"0.weight": "."}])
def test_malformed_weight_maps(tmp_path: Path, capsys: pytest.CaptureFixture[str], weight_map: object) -> None:
    _bad_sharded(tmp_path / "ckpt")
    (tmp_path / "ckpt" / "other.index.json").write_text(json.dumps({"weight_map": {"0.weight": "other.index.json"}}))
    _write_index(tmp_path / "ckpt", weight_map)
    assert run_model(str(tmp_path / "ckpt")) == 2
    _one_line_error(capsys)


def test_deeply_nested_index_and_a_shard_in_the_wrong_format(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    directory = tmp_path / "ckpt"
    weight_map = _bad_sharded(directory)
    (directory / "model.safetensors.index.json").write_text('{"weight_map": ' + "[" * 100_000 + "]" * 100_000 + "}")
    assert run_model(str(directory)) == 2
    _one_line_error(capsys)
    torch.save({"unrelated": torch.zeros(3)}, directory / "model-1.bin")
    _write_index(directory, {k: "model-1.bin" if v == "model-1.safetensors" else v for k, v in weight_map.items()})
    assert run_model(str(directory)) == 2
    assert "has no tensor" in _one_line_error(capsys)


def _bad_checkpoint(tmp_path: Path, suffix: str) -> Path:
    source = tmp_path / f"bad{suffix}"
    state = audit_models.bad_mlp().state_dict()
    if suffix == ".safetensors":
        save_safetensors(state, source)
    else:
        torch.save({"model": state, "epoch": 1}, source)
    return source


@pytest.mark.parametrize(("source_suffix", "output_suffix"), [(".pt", ".safetensors"), (".safetensors", ".pt"),
                                                              (".pt", ".ckpt")])
def test_output_suffix_picks_the_format(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                        source_suffix: str, output_suffix: str) -> None:
    source = _bad_checkpoint(tmp_path, source_suffix)
    out = tmp_path / f"fixed{output_suffix}"
    assert run_model(str(source), fix=True, output=str(out), factory=FACTORY) == 0
    capsys.readouterr()
    head = out.read_bytes()[:4]
    assert (head == b"PK\x03\x04") == (output_suffix != ".safetensors")
    assert run_model(str(out), factory=FACTORY) == 0
    mode = stat.S_IMODE(out.stat().st_mode)
    umask = os.umask(0)
    os.umask(umask)
    assert mode == 0o666 & ~umask
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([source.name, out.name])


def test_unknown_suffix_is_refused_before_any_work(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    source = _bad_checkpoint(tmp_path, ".pt")
    monkeypatch.setattr("initaudit.auditor.load.sources.open_source", lambda *a, **k: pytest.fail("loaded"))
    assert run_model(str(source), fix=True, output=str(tmp_path / "fixed.weird")) == 2
    assert "unknown suffix" in _one_line_error(capsys) and capsys.readouterr().out == ""


def test_only_regular_files_are_replaced(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source = _bad_checkpoint(tmp_path, ".pt")
    device = tmp_path / "full.pt"
    device.symlink_to("/dev/null")
    assert run_model(str(source), fix=True, output=str(device), factory=FACTORY) == 2
    assert "not a regular file" in _one_line_error(capsys)
    assert device.is_symlink() and Path("/dev/null").is_char_device()
    assert run_model(str(source), fix=True, output="/dev/full", factory=FACTORY) == 2
    _one_line_error(capsys)
    assert Path("/dev/full").is_char_device()
    assert run_model(str(source), fix=True, output=str(source), factory=FACTORY) == 2
    assert "the checkpoint being audited" in _one_line_error(capsys)


def test_unwritable_output_directory(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                     monkeypatch: pytest.MonkeyPatch) -> None:
    source = _bad_checkpoint(tmp_path, ".pt")
    locked = tmp_path / "locked"
    locked.mkdir()
    real_open = os.open

    def refuse(path: object, *args: object, **kwargs: object) -> int:
        if str(path).startswith(str(locked)):
            raise PermissionError(13, "Permission denied", str(path))
        return real_open(path, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(atomic.os, "open", refuse)  # as a read-only directory does, even for root
    assert run_model(str(source), fix=True, output=str(locked / "fixed.pt"), factory=FACTORY) == 2
    assert "Permission denied" in _one_line_error(capsys)
    assert list(locked.iterdir()) == []


def _wrap_reinits(monkeypatch: pytest.MonkeyPatch, wrap: Callable[[Callable], Callable]) -> None:
    """Route every re-initialiser the fix plans through ``wrap``."""
    from initaudit.auditor.fix import fixer

    original = fixer.reinitialiser

    def reinitialiser(plan: fixer.FixPlan, seed: int) -> Callable[[torch.Tensor], torch.Tensor]:
        return wrap(original(plan, seed))

    monkeypatch.setattr(fixer, "reinitialiser", reinitialiser)


@pytest.mark.parametrize("failure", [OSError(28, "No space left on device"), KeyboardInterrupt(), SystemExit(143),
                                     UnicodeDecodeError("utf-8", b"\xff", 0, 1, "invalid start byte")])
@pytest.mark.parametrize("suffix", [".pt", ".safetensors"])
def test_a_failed_write_leaves_nothing(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                       monkeypatch: pytest.MonkeyPatch, failure: BaseException, suffix: str) -> None:
    source = _bad_checkpoint(tmp_path, ".pt")
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    calls = []

    def wrap(reinit: Callable) -> Callable:
        def failing(tensor: torch.Tensor) -> torch.Tensor:
            calls.append(sorted(p.name for p in out_dir.iterdir()))
            if len(calls) == 2:
                raise failure
            return reinit(tensor)
        return failing

    _wrap_reinits(monkeypatch, wrap)
    if isinstance(failure, (OSError, UnicodeError)):  # a serialiser's failure is a one-line error too
        assert run_model(str(source), fix=True, output=str(out_dir / f"f{suffix}"), factory=FACTORY) == 2
        assert ("No space left" if isinstance(failure, OSError) else "cannot serialise") in _one_line_error(capsys)
    else:
        with pytest.raises(type(failure)):
            run_model(str(source), fix=True, output=str(out_dir / f"f{suffix}"), factory=FACTORY)
    assert len(calls) == 2 and calls[1]  # the write had begun: a temporary file existed
    assert list(out_dir.iterdir()) == []


@pytest.mark.parametrize("suffix", [".pt", ".safetensors"])
def test_fix_holds_one_fresh_tensor_at_a_time(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                             monkeypatch: pytest.MonkeyPatch, suffix: str) -> None:
    import weakref

    torch.save({f"{i}.weight": torch.full((256, 256), 0.5) for i in range(6)}, tmp_path / "flat.pt")
    alive: list[int] = [0]
    peak: list[int] = [0]

    def wrap(reinit: Callable) -> Callable:
        def counted(tensor: torch.Tensor) -> torch.Tensor:
            fresh = reinit(tensor)
            alive[0] += 1
            peak[0] = max(peak[0], alive[0])
            weakref.finalize(fresh, lambda: alive.__setitem__(0, alive[0] - 1))
            return fresh
        return counted

    _wrap_reinits(monkeypatch, wrap)
    assert run_model(str(tmp_path / "flat.pt"), fix=True, output=str(tmp_path / f"fixed{suffix}")) in (0, 1)
    assert "fix written to" in capsys.readouterr().out
    assert peak[0] == 1
