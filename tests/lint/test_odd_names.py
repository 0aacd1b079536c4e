"""File names that are not UTF-8, and source text with terminal escapes, in every output."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from click.testing import CliRunner

from initaudit.cli import main

DEPRECATED = b"import torch.nn as nn\nnn.init.normal(w)\n"
#: A bytes name: \xff is never valid UTF-8; Python holds it as the lone surrogate \udcff.
ODD = b"bad\xff.py"


@pytest.fixture
def odd_tree(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    with open(os.path.join(os.fsencode(tmp_path), ODD), "wb") as handle:
        handle.write(DEPRECATED)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def check(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, ["check", *args])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, result.stdout, result.stderr


def test_the_default_cached_run_twice(odd_tree: Path) -> None:
    for _ in range(2):
        status, out, err = check(".", "--output-format", "concise")
        assert (status, err) == (1, "")
        assert out.startswith("bad\\xff.py:2:1: IA104")


def test_sarif_names_the_bytes_as_a_uri(odd_tree: Path) -> None:
    status, out, _ = check("--no-cache", "--output-format", "sarif", ".")
    assert status == 1
    location = json.loads(out)["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]
    assert location["uri"] == "bad%FF.py"


def test_json_reads_back_as_the_same_name(odd_tree: Path) -> None:
    status, out, _ = check("--no-cache", "--output-format", "json", ".")
    assert status == 1
    assert os.fsencode(json.loads(out)["diagnostics"][0]["path"]) == ODD


def test_a_baseline_round_trips(odd_tree: Path) -> None:
    status, _, err = check("--no-cache", "--write-baseline", "baseline.json", ".")
    assert status == 0 and err == "Wrote 1 finding to the baseline baseline.json.\n"
    (odd_tree / "baseline.json").read_text(encoding="utf-8")  # valid UTF-8
    assert check("--no-cache", "--baseline", "baseline.json", ".")[0] == 0


def test_a_fix_message_quoting_source_escapes_terminal_controls(tmp_path: Path) -> None:
    """The fix message repeats the target's source text, string keys included."""
    key = '"a\x1b]0;owned\x07"'
    source = (
        "import torch.nn as nn\n"
        "class M(nn.Module):\n"
        "    def __init__(self):\n"
        "        super().__init__()\n"
        f"        self.fc = nn.ModuleDict({{{key}: nn.Linear(3, 3)}})\n"
        f"        nn.init.xavier_uniform_(self.fc[{key}].weight)\n"
        "    def forward(self, x):\n"
        f"        return self.fc[{key}](x).relu()\n"
    )
    (tmp_path / "m.py").write_text(source)
    status, out, _ = check("--no-cache", str(tmp_path / "m.py"))
    assert status == 1
    fix_line = next(line for line in out.splitlines() if line.lstrip().startswith("= fix"))
    assert "\x1b" not in out and "\x07" not in out
    assert 'self.fc["a\\x1b]0;owned\\x07"].weight' in fix_line
