"""What the arguments of ``initaudit model`` can make it do: a checkpoint argument is never
imported, and an output never goes through a planted link or over what the audit reads."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from examples import audit_models
from initaudit.auditor.load.safetensors_io import save_safetensors
from initaudit.cli import main

#: A module whose import leaves a trace: what running its top-level code would do.
MARKING_MODULE = """
from pathlib import Path
Path(__file__).with_name("imported.marker").write_text("ran")
import torch
def v3():
    return torch.nn.Linear(4, 4)
"""


def _invoke(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, ["model", *args])
    return result.exit_code, result.stdout, result.stderr


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.parametrize("spec", ["model:v3", "pkg.model:v3"])
def test_a_missing_checkpoint_named_like_a_module_is_never_imported(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, spec: str) -> None:
    """An artifact named the way experiment trackers name versions, missing here, next to a
    module of the same name: the module's code must not run."""
    (tmp_path / "model.py").write_text(MARKING_MODULE)
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "__init__.py").write_text(MARKING_MODULE)
    (tmp_path / "pkg" / "model.py").write_text(MARKING_MODULE)
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    status, out, err = _invoke(spec)
    assert status == 2 and out == ""
    assert err == (f"initaudit: error: {spec}: no such file or directory "
                   f"(to audit the model a factory builds, pass --factory {spec})\n")
    assert not list(tmp_path.rglob("imported.marker"))


def test_a_factory_runs_only_when_asked_for_with_factory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "model.py").write_text(MARKING_MODULE)
    monkeypatch.chdir(tmp_path)
    status, out, err = _invoke("--factory", "model:v3", "--format", "json")
    assert status == 0, err
    assert json.loads(out)["summary"]["parameters"] == 2
    assert (tmp_path / "imported.marker").read_text() == "ran"


def test_nothing_to_audit_is_a_usage_error() -> None:
    status, out, err = _invoke()
    assert (status, out) == (2, "")
    assert err == "initaudit: error: give a checkpoint to audit, or --factory package.module:function\n"


def test_html_is_never_written_through_a_planted_temporary(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The old writer used the predictable name ``.report.html.tmp``: a link planted there
    made it overwrite the link's target."""
    outside = tmp_path / "outside.txt"
    outside.write_text("precious")
    work = tmp_path / "work"
    work.mkdir()
    (work / ".report.html.tmp").symlink_to(outside)
    monkeypatch.chdir(work)
    status, _, err = _invoke("--factory", "examples.audit_models:bad_mlp", "--html", "report.html")
    assert status == 1, err
    assert outside.read_text() == "precious"
    assert (work / "report.html").read_text().startswith("<!DOCTYPE html>")
    assert sorted(p.name for p in work.iterdir()) == [".report.html.tmp", "report.html"]


def test_html_never_replaces_the_checkpoint(tmp_path: Path) -> None:
    checkpoint = tmp_path / "bad.safetensors"
    save_safetensors(audit_models.bad_mlp().state_dict(), checkpoint)
    before = _digest(checkpoint)
    for html in (checkpoint, tmp_path / "." / "bad.safetensors"):
        status, out, err = _invoke(str(checkpoint), "--html", str(html))
        assert (status, out) == (2, "")
        assert "the checkpoint being audited, which is never modified" in err and err.count("\n") == 1
    link = tmp_path / "page.html"
    link.symlink_to(checkpoint)
    assert _invoke(str(checkpoint), "--html", str(link))[0] == 2
    assert _digest(checkpoint) == before


def test_html_never_replaces_a_file_of_a_checkpoint_directory(tmp_path: Path) -> None:
    directory = tmp_path / "ckpt"
    directory.mkdir()
    save_safetensors(audit_models.bad_mlp().state_dict(), directory / "model.safetensors")
    before = _digest(directory / "model.safetensors")
    status, _, err = _invoke(str(directory), "--html", str(directory / "model.safetensors"))
    assert status == 2 and "in the checkpoint being audited" in err
    assert _digest(directory / "model.safetensors") == before
    status, _, err = _invoke(str(directory), "--html", str(directory / "report.html"))
    assert status == 1, err  # a new file beside the checkpoint is fine
    assert (directory / "report.html").is_file()


def test_html_and_output_must_differ(tmp_path: Path) -> None:
    out = tmp_path / "fixed.pt"
    status, out_text, err = _invoke("--factory", "examples.audit_models:bad_mlp", "--fix", "--output", str(out),
                                    "--html", str(tmp_path / "." / "fixed.pt"))
    assert (status, out_text) == (2, "")
    assert err == "initaudit: error: --html and --output name the same file\n"
    assert not out.exists()
