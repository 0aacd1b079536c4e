"""Fixes: fixture pairs, idempotence, and the file-safety guarantees of --fix."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
from click.testing import CliRunner

from initaudit.cli import main

FIXTURES = Path(__file__).parents[1] / "fixtures"
PAIRS = [(p, p.with_name(p.name.replace(".in.py", ".out.py")), p.parent.name == "fix_unsafe")
         for p in sorted(FIXTURES.glob("fix_*/*.in.py"))]


def run(*args: str):
    return CliRunner().invoke(main, ["check", *args])


@pytest.mark.parametrize("source,expected,unsafe", PAIRS, ids=lambda v: getattr(v, "stem", ""))
def test_fixture_pair(tmp_path: Path, source: Path, expected: Path, unsafe: bool) -> None:
    target = tmp_path / "code.py"
    target.write_bytes(source.read_bytes())
    flags = ["--fix", "--unsafe-fixes"] if unsafe else ["--fix"]
    run(str(target), *flags)
    assert target.read_text() == expected.read_text()
    # A second run changes nothing.
    before = target.read_bytes()
    run(str(target), *flags)
    assert target.read_bytes() == before


def test_safe_fix_leaves_unsafe_ones_alone(tmp_path: Path) -> None:
    source = FIXTURES / "fix_unsafe" / "mnist.in.py"
    target = tmp_path / "code.py"
    target.write_bytes(source.read_bytes())
    result = run(str(target), "--fix")
    text = target.read_text()
    assert "init.xavier_normal_(self.fc2.weight)" in text  # IA104 is safe
    assert "nn.init.xavier_uniform_(self.fc1.weight)" in text  # IA103 needs --unsafe-fixes
    assert result.exit_code == 1 and "IA103" in result.output


def test_diff_prints_and_writes_nothing(tmp_path: Path) -> None:
    target = tmp_path / "code.py"
    original = b"import torch.nn as nn\nnn.init.normal(w)\n"
    target.write_bytes(original)
    result = run(str(target), "--diff")
    assert result.exit_code == 1
    assert "-nn.init.normal(w)" in result.output and "+nn.init.normal_(w)" in result.output
    assert target.read_bytes() == original
    clean = tmp_path / "clean.py"
    clean.write_text("x = 1\n")
    assert run(str(clean), "--diff").exit_code == 0


def test_crlf_encoding_and_mode_are_kept(tmp_path: Path) -> None:
    target = tmp_path / "legacy.py"
    source = "# -*- coding: latin-1 -*-\r\nimport torch.nn as nn\r\n# café\r\nnn.init.xavier_uniform(w)\r\n"
    target.write_bytes(source.encode("latin-1"))
    os.chmod(target, 0o754)
    assert run(str(target), "--fix").exit_code == 0
    expected = source.replace("xavier_uniform(", "xavier_uniform_(").encode("latin-1")
    assert target.read_bytes() == expected
    assert stat.S_IMODE(target.stat().st_mode) == 0o754
    assert not [p for p in tmp_path.iterdir() if p.name != "legacy.py"]  # no temp file left


def test_bom_is_kept(tmp_path: Path) -> None:
    target = tmp_path / "bom.py"
    target.write_bytes(b"\xef\xbb\xbfimport torch.nn as nn\nnn.init.eye(w)\n")
    run(str(target), "--fix")
    assert target.read_bytes() == b"\xef\xbb\xbfimport torch.nn as nn\nnn.init.eye_(w)\n"


def test_file_that_does_not_parse_is_never_modified(tmp_path: Path) -> None:
    target = tmp_path / "broken.py"
    original = b"import torch.nn as nn\nnn.init.normal(w)\ndef f(:\n"
    target.write_bytes(original)
    result = run(str(target), "--fix", "--unsafe-fixes")
    assert target.read_bytes() == original
    assert "IA000" in result.output and result.exit_code == 1


def test_failed_write_keeps_the_original_and_no_temp_file(tmp_path: Path, monkeypatch) -> None:
    target = tmp_path / "code.py"
    original = b"import torch.nn as nn\nnn.init.normal(w)\n"
    target.write_bytes(original)

    def refuse(src: str, dst: str) -> None:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(os, "replace", refuse)
    result = run(str(target), "--fix")
    assert result.exit_code == 2
    assert "cannot write fixes" in result.output
    assert target.read_bytes() == original
    assert [p.name for p in tmp_path.iterdir()] == ["code.py"]


def test_fix_that_breaks_compilation_leaves_the_file_unchanged(tmp_path: Path, monkeypatch) -> None:
    import initaudit.lint.run.engine as engine

    target = tmp_path / "code.py"
    original = b"import torch.nn as nn\nnn.init.normal(w)\n"
    target.write_bytes(original)
    # Parses, but the compiler rejects it: a fix that broke a scope rule.
    broken = "import torch.nn as nn\ndef f():\n    x = 1\n    global x\n"
    monkeypatch.setattr(engine, "apply_fixes", lambda text, diagnostics, unsafe: (broken, 1))
    result = run(str(target), "--fix", "--no-cache")
    assert result.exit_code == 2 and "does not compile; file left unchanged" in result.output
    assert target.read_bytes() == original
