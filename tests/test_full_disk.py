"""Writes onto a full disk: every failure is exit 2 with one line and leaves nothing behind (no
temporary, no partial output, no partial backup, the old file as it was).

The disk is a small tmpfs mounted for the test; where mounting is not permitted the tests skip."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Iterator

import pytest
from click.testing import CliRunner

from initaudit.cli import main

SOURCE = b"import torch.nn as nn\nnn.init.normal(w)\n" + b"# padding\n" * 2000
FIXED_LINE = b"nn.init.normal_(w)"


@pytest.fixture
def disk(tmp_path: Path) -> Iterator[Path]:
    """A 256 KiB file system of its own."""
    mount = tmp_path / "disk"
    mount.mkdir()
    made = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", str(mount)],
                          capture_output=True, check=False)
    if made.returncode != 0:
        pytest.skip(f"cannot mount a small file system here ({made.stderr.decode().strip()})")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def fill(disk: Path, leave: int = 0) -> None:
    """Fill ``disk`` up, then free ``leave`` bytes."""
    filler = disk / "filler"
    with open(filler, "wb", buffering=0) as handle:
        try:
            while True:
                handle.write(b"\0" * 4096)
        except OSError:
            pass
    os.truncate(filler, max(0, filler.stat().st_size - leave))


def _one_line_error(stderr: str) -> str:
    assert stderr.startswith("initaudit: error: ") and stderr.count("\n") == 1, stderr
    return stderr


def test_check_report_onto_a_full_disk(disk: Path, tmp_path: Path) -> None:
    code = tmp_path / "code.py"
    code.write_bytes(SOURCE)
    report = disk / "report.sarif"
    report.write_text("old report")
    fill(disk)
    result = CliRunner().invoke(main, ["check", "--no-cache", "--output-format", "sarif", "-o", str(report), str(code)])
    assert result.exit_code == 2
    assert "cannot write the report" in _one_line_error(result.stderr)
    assert report.read_text() == "old report"
    assert sorted(p.name for p in disk.iterdir()) == ["filler", "report.sarif"]


def test_check_fix_of_a_hard_linked_file_onto_a_full_disk(disk: Path) -> None:
    code = disk / "code.py"
    code.write_bytes(SOURCE)
    os.link(code, disk / "other.py")
    fill(disk, leave=8192)  # less than the copy of the old bytes kept while rewriting in place
    result = CliRunner().invoke(main, ["check", "--no-cache", "--fix", str(code)])
    assert result.exit_code == 2
    assert code.read_bytes() == SOURCE
    assert sorted(p.name for p in disk.iterdir()) == ["code.py", "filler", "other.py"]


@pytest.mark.parametrize("suffix", [".safetensors", ".pt"])
def test_model_fix_onto_a_full_disk(disk: Path, suffix: str) -> None:
    """The fixed checkpoint (over 1 MiB) does not fit: no SIGBUS from a mapped file, no temporary."""
    output = disk / f"fixed{suffix}"
    process = subprocess.run([sys.executable, "-m", "initaudit", "model", "--factory",
                              "examples.audit_models:bad_mlp", "--fix", "--output", str(output)],
                             capture_output=True, text=True, check=False, cwd=Path(__file__).parents[1])
    assert process.returncode == 2, process.stderr
    assert "cannot" in _one_line_error(process.stderr)
    assert list(disk.iterdir()) == []


def test_model_html_onto_a_full_disk(disk: Path) -> None:
    fill(disk)
    page = disk / "report.html"
    result = CliRunner().invoke(main, ["model", "--factory", "examples.audit_models:bad_mlp", "--html", str(page)])
    assert result.exit_code == 2
    assert "cannot write" in _one_line_error(result.stderr)
    assert sorted(p.name for p in disk.iterdir()) == ["filler"]
