"""Building a model from a directory's config.json is offline, reads nothing outside the directory
and the installed Python, and never prints config text raw."""

from __future__ import annotations

import importlib
import json
import os
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any, Iterator

import pytest
import torch

from initaudit.auditor.load.confine import Refused, confined
from initaudit.model_command import run_model
from tests.torchvision_ops import declare_torchvision_ops

ROOT = Path(__file__).resolve().parents[2]
NETWORK = ("socket.connect", "socket.getaddrinfo", "socket.gethostbyname", "socket.gethostbyname_ex")

#: While a test records: (event, path or address, HF_HUB_OFFLINE at the time). The hook is added
#: when this module is collected, before the guard's own (added on first use), so it also sees
#: what the guard then refuses.
Events = list[tuple[str, Any, str | None]]
_recording: Events | None = None


def _record(event: str, args: tuple[Any, ...]) -> None:
    if _recording is not None and (event == "open" or event in NETWORK):
        target = os.fsdecode(args[0]) if event == "open" and not isinstance(args[0], int) else args[:2]
        _recording.append((event, target, os.environ.get("HF_HUB_OFFLINE")))


sys.addaudithook(_record)


@pytest.fixture()
def recorded() -> Iterator[Events]:
    global _recording
    _recording = []
    try:
        yield _recording
    finally:
        _recording = None


def _import(name: str) -> Any:
    declare_torchvision_ops()
    return pytest.importorskip(name)


def _report(spec: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, dict[str, Any]]:
    status = run_model(str(spec), output_format="json")
    return status, json.loads(capsys.readouterr().out)


def _edit_config(directory: Path, **changes: Any) -> None:
    config = json.loads((directory / "config.json").read_text())
    (directory / "config.json").write_text(json.dumps({**config, **changes}))


def _timm_dir(directory: Path, **model_args: Any) -> Path:
    timm = _import("timm")
    from timm.models import _hub

    _hub.save_for_hf(timm.create_model("test_resnet", pretrained=False), str(directory), model_args=model_args)
    return directory


def _bert_dir(directory: Path) -> Path:
    transformers = _import("transformers")
    config = transformers.BertConfig(hidden_size=16, num_hidden_layers=1, num_attention_heads=2,
                                     intermediate_size=32, vocab_size=50, max_position_embeddings=16)
    transformers.BertModel(config).save_pretrained(directory)
    return directory


def _network(events: Events) -> Events:
    return [event for event in events if event[0] != "open"]


# --------------------------------------------------------------------------- the guard itself


def test_the_guard_refuses_what_the_build_may_not_do(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    inside, elsewhere = tmp_path / "checkpoint", tmp_path / "elsewhere"
    inside.mkdir(), elsewhere.mkdir()
    (inside / "config.json").write_text("{}")
    (elsewhere / "secret").write_text("secret")
    (inside / "link").symlink_to(elsewhere / "secret")
    monkeypatch.setenv("HF_HUB_OFFLINE", "0")
    monkeypatch.delenv("TRANSFORMERS_OFFLINE", raising=False)
    with confined(inside) as guard:
        assert (inside / "config.json").read_text() == "{}"
        assert os.environ["HF_HUB_OFFLINE"] == os.environ["TRANSFORMERS_OFFLINE"] == "1"
        print("\x1b[2Jfrom a library")
        for attempt in (lambda: (elsewhere / "secret").read_text(), lambda: (inside / "link").read_bytes(),
                        lambda: socket.getaddrinfo("localhost", 443),
                        lambda: subprocess.run(["true"], check=False)):
            with pytest.raises(Refused):
                attempt()
    assert guard.refused == [f"refused to read {elsewhere / 'secret'}: outside the checkpoint directory"] * 2 + [
        "refused to connect to localhost:443: the build is offline", "refused to start a process: the build runs none"]
    assert os.environ["HF_HUB_OFFLINE"] == "0" and "TRANSFORMERS_OFFLINE" not in os.environ
    assert (elsewhere / "secret").read_text() == "secret"  # inert once the build is over
    assert capsys.readouterr() == ("", "")


def test_a_module_imported_during_the_build_runs_its_own_top_level_code(tmp_path: Path,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """What a module does as it is imported is the installed code's own; what it does when the
    build calls it is judged; an audit run while something is being imported admits nothing."""
    outside, checkpoint, modules = tmp_path / "outside.txt", tmp_path / "checkpoint", tmp_path / "modules"
    outside.write_text("data")
    checkpoint.mkdir(), modules.mkdir()
    (modules / "reads_when_imported.py").write_text(
        f"from pathlib import Path\nDATA = Path({str(outside)!r}).read_text()\n\n"
        f"def read():\n    return Path({str(outside)!r}).read_text()\n")
    (modules / "audits_when_imported.py").write_text(
        "from pathlib import Path\nfrom initaudit.auditor.load.confine import Refused, confined\n\n"
        f"with confined(Path({str(checkpoint)!r})) as guard:\n    try:\n"
        f"        Path({str(outside)!r}).read_text()\n    except Refused:\n        pass\n")
    monkeypatch.syspath_prepend(str(modules))
    try:
        with confined(checkpoint) as guard:
            module = importlib.import_module("reads_when_imported")
            with pytest.raises(Refused):
                module.read()
        assert module.DATA == "data" and len(guard.refused) == 1
        assert len(importlib.import_module("audits_when_imported").guard.refused) == 1
    finally:
        sys.modules.pop("reads_when_imported", None), sys.modules.pop("audits_when_imported", None)


def test_the_guard_stops_timm_loading_a_file_it_was_not_told_to_refuse(tmp_path: Path) -> None:
    timm = _import("timm")
    outside = tmp_path / "weights.pt"
    torch.save(timm.create_model("test_resnet").state_dict(), outside)
    (tmp_path / "checkpoint").mkdir()
    with confined(tmp_path / "checkpoint") as guard, pytest.raises(Refused):
        timm.create_model("test_resnet", checkpoint_path=str(outside))
    assert guard.refused == [f"refused to read {outside}: outside the checkpoint directory"]


# --------------------------------------------------------------------------- timm


def test_timm_checkpoint_path_outside_is_never_opened(tmp_path: Path, recorded: Events,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    outside = tmp_path / "elsewhere.pt"
    torch.save({"fc.weight": torch.zeros(2, 2)}, outside)
    directory = _timm_dir(tmp_path / "checkpoint", checkpoint_path=str(outside),
                          pretrained_cfg_overlay={"file": str(outside), "input_size": [3, 32, 32]})
    status, report = _report(directory, capsys)
    assert status in (0, 1) and report["summary"]["probed"]
    assert ("config.json: ignored model_args checkpoint_path, pretrained_cfg_overlay.file (the model is built, "
            "never loaded from other weights)") in report["notes"]
    assert not [event for event in recorded if event[1] == str(outside)]


def test_timm_model_args_asking_for_pretrained_weights_still_build(tmp_path: Path,
                                                                   capsys: pytest.CaptureFixture[str]) -> None:
    status, report = _report(_timm_dir(tmp_path, pretrained=True), capsys)
    assert status in (0, 1) and report["summary"]["probed"]
    assert any(p["activation"] == "relu" for p in report["parameters"])
    assert report["notes"][0] == ("config.json: ignored model_args pretrained (the model is built, never loaded "
                                  "from other weights)")


# --------------------------------------------------------------------------- transformers


def test_a_hub_backbone_is_refused_without_a_connection(tmp_path: Path, recorded: Events,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    directory = _bert_dir(tmp_path)
    _edit_config(directory, model_type="timm_backbone", architectures=["TimmBackbone"],
                 backbone="hf-hub:timm/resnet18.a1_in1k", use_pretrained_backbone=True)
    status, report = _report(directory, capsys)
    assert status in (0, 1) and not report["summary"]["probed"]
    assert report["notes"][0] == ("config.json names the backbone hf-hub:timm/resnet18.a1_in1k by hub repository "
                                  "or path; the model is built offline from the directory alone, so no model was "
                                  "built")
    assert _network(recorded) == []


def test_a_backbone_the_library_would_fetch_is_stopped_by_the_guard(tmp_path: Path,
                                                                    recorded: Events,
                                                                    capsys: pytest.CaptureFixture[str]) -> None:
    """A plain name that transformers looks up on the hub: no rule names it, the guard stops it
    (the hook refuses reading the hub's token or connecting; with a token in the environment,
    huggingface_hub's own offline switch answers first)."""
    directory = _bert_dir(tmp_path)
    _edit_config(directory, model_type="detr", architectures=["DetrModel"], backbone="resnet18",
                 use_timm_backbone=False, use_pretrained_backbone=True)
    status, report = _report(directory, capsys)
    assert status in (0, 1) and not report["summary"]["probed"]
    note = report["notes"][0]
    assert note.startswith("config.json: building the model failed (") and ("refused to" in note or "offline" in note)
    assert not [event for event in _network(recorded) if event[0] == "socket.connect"]


def test_a_small_transformers_directory_builds_offline(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                       recorded: Events, capsys: pytest.CaptureFixture[str]) -> None:
    directory = _bert_dir(tmp_path)
    monkeypatch.setenv("HF_HUB_OFFLINE", "0")
    recorded.clear()
    status, report = _report(directory, capsys)
    assert status in (0, 1) and report["summary"]["probed"]
    assert not [note for note in report["notes"] if "config.json" in note]
    # the last to read the config is transformers, building the model: offline then, not after
    offline = [offline for event, path, offline in recorded if path == str(directory / "config.json")]
    assert offline[-1] == "1"
    assert os.environ["HF_HUB_OFFLINE"] == "0"


def test_a_config_json_linked_from_elsewhere_is_not_read(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    directory = _bert_dir(tmp_path / "checkpoint")
    (directory / "config.json").rename(tmp_path / "elsewhere.json")
    (directory / "config.json").symlink_to(tmp_path / "elsewhere.json")
    status, report = _report(directory, capsys)
    assert status in (0, 1) and not report["summary"]["probed"]
    assert report["notes"][0] == (f"config.json unreadable (refused to read {tmp_path / 'elsewhere.json'}: outside "
                                  "the checkpoint directory); no model built from it")


# --------------------------------------------------------------------------- the terminal


def test_config_text_never_reaches_the_terminal_raw(tmp_path: Path) -> None:
    """In a fresh process, so that the libraries' log handlers write to the real streams."""
    _import("transformers")
    logged = _bert_dir(tmp_path / "logged")  # transformers logs num_labels as the config spells it
    _edit_config(logged, id2label={"0": "a"}, num_labels="\x1b]0;title\x07\x1b[2J")
    named = _bert_dir(tmp_path / "named")  # the refusal quotes the backbone's name
    _edit_config(named, model_type="timm_backbone", architectures=["TimmBackbone"], backbone="hf-hub:x/\x1b[31mred")
    script = ("import sys\nfrom tests.torchvision_ops import declare_torchvision_ops\ndeclare_torchvision_ops()\n"
              "from initaudit.model_command import run_model\nfor spec in sys.argv[1:]:\n    run_model(spec)\n")
    result = subprocess.run([sys.executable, "-c", script, str(logged), str(named)], cwd=ROOT,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert "\x1b" not in result.stdout + result.stderr and "\x07" not in result.stdout + result.stderr
    assert "hf-hub:x/\\x1b[31mred" in result.stdout
