"""Hostile files around the sources: symbolic link loops, FIFOs, unreadable directories, cache
and configuration files of the wrong shape, control characters in names and messages."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from click.testing import CliRunner

from initaudit.cli import main
from initaudit.config import Config
from initaudit.lint.files import discover as discover_module
from initaudit.lint.run.cache import ResultCache

BAD = "import torch.nn as nn\nnn.init.xavier_uniform(w)\n"


def check(*args: str, cwd: Path | None = None):
    runner = CliRunner()
    if cwd is None:
        return runner.invoke(main, ["check", "--no-cache", "--jobs", "1", *args])
    previous = Path.cwd()
    os.chdir(cwd)
    try:
        return runner.invoke(main, ["check", "--no-cache", "--jobs", "1", *args])
    finally:
        os.chdir(previous)


def error_lines(output: str) -> list[str]:
    return [line for line in output.splitlines() if line.startswith("initaudit: error:")]


def stored_entries(cache: Path) -> dict:
    return ResultCache.open(cache, Config()).entries


def store_signed(cache: Path, entries: object) -> None:
    """Store ``entries`` signed as initaudit signs its own, so that only their shape is judged."""
    stored = ResultCache.open(cache, Config())
    stored.entries, stored.dirty = entries, True
    stored.save()


def test_symbolic_link_loop_and_fifo_inside_a_walked_directory(tmp_path: Path) -> None:
    (tmp_path / "good.py").write_text("x = 1\n")
    (tmp_path / "loop_a.py").symlink_to("loop_b.py")
    (tmp_path / "loop_b.py").symlink_to("loop_a.py")
    os.mkfifo(tmp_path / "pipe.py")  # opening it would wait for a writer forever
    result = check(str(tmp_path))
    assert result.exit_code == 2
    assert "Traceback" not in result.output
    assert [line.rsplit(": ", 1)[1] for line in error_lines(result.output)] == [
        "symbolic link loop", "symbolic link loop", "not a regular file"]
    assert "All checks passed" not in result.output
    assert "No problems found in 1 file. 3 files could not be checked." in result.output


@pytest.mark.parametrize("kind", ["fifo", "loop"])
def test_explicitly_named_fifo_or_link_loop(tmp_path: Path, kind: str) -> None:
    target = tmp_path / "x.py"
    if kind == "fifo":
        os.mkfifo(target)
    else:
        target.symlink_to("y.py")
        (tmp_path / "y.py").symlink_to("x.py")
    (tmp_path / "ok.py").write_text(BAD)
    result = check(str(target), str(tmp_path / "ok.py"))
    assert result.exit_code == 2
    reason = "not a regular file" if kind == "fifo" else "symbolic link loop"
    assert error_lines(result.output) == [f"initaudit: error: {target}: {reason}"]
    assert result.output.endswith(" 1 file could not be checked.\n")


def test_unreadable_subdirectory_is_reported(tmp_path: Path, monkeypatch) -> None:
    (tmp_path / "locked").mkdir()
    (tmp_path / "locked" / "hidden.py").write_text(BAD)
    (tmp_path / "seen.py").write_text("x = 1\n")
    real_scandir = os.scandir

    def scandir(path):  # as without read permission (the tests may run as root)
        if Path(path).name == "locked":
            raise PermissionError(13, "Permission denied", str(path))
        return real_scandir(path)

    monkeypatch.setattr(discover_module.os, "scandir", scandir)
    result = check(str(tmp_path))
    assert result.exit_code == 2
    assert error_lines(result.output) == [f"initaudit: error: {tmp_path / 'locked'}: permission denied"]
    assert "All checks passed" not in result.output


@pytest.mark.parametrize("content", ["[]", "null", "3", '{"k": 1}', '{"k": {"parsed": true}}',
                                     '{"k": {"parsed": "yes", "diagnostics": []}}'])
def test_cache_of_the_wrong_shape_is_ignored(tmp_path: Path, content: str) -> None:
    (tmp_path / "a.py").write_text(BAD)
    cache = tmp_path / "cache"
    runner = CliRunner()
    args = ["check", "--jobs", "1", "--cache-dir", str(cache), "--format", "json", str(tmp_path / "a.py")]
    runner.invoke(main, args)
    store_signed(cache, json.loads(content.replace('"k"', json.dumps(next(iter(stored_entries(cache)))))))
    for _ in range(2):  # the second run reads what the first wrote back
        result = runner.invoke(main, args)
        assert result.exit_code == 1, result.output
        assert [d["code"] for d in json.loads(result.output)["diagnostics"]] == ["IA104"]


def test_cache_entry_with_wrong_types_is_a_miss(tmp_path: Path) -> None:
    (tmp_path / "a.py").write_text(BAD)
    cache = tmp_path / "cache"
    runner = CliRunner()
    args = ["check", "--jobs", "1", "--cache-dir", str(cache), "--format", "json", str(tmp_path / "a.py")]
    runner.invoke(main, args)
    entries = stored_entries(cache)
    for entry in entries.values():
        entry["diagnostics"][0]["line"] = "two"
    store_signed(cache, entries)
    result = runner.invoke(main, args)
    assert [d["line"] for d in json.loads(result.output)["diagnostics"]] == [2]


@pytest.mark.parametrize("body, message", [
    ("[tool]\ninitaudit = 3\n", "[tool.initaudit] must be a table"),
    ("[tool.initaudit]\nselect = 3\n", "'select' must be a list of strings"),
    ("[tool.initaudit]\nper-file-ignores = 3\n", "'per-file-ignores' must be a table"),
    ("[tool.initaudit.per-file-ignores]\n'a.py' = 3\n", "'per-file-ignores.a.py' must be a list"),
])
def test_malformed_initaudit_section_is_a_config_error(tmp_path: Path, body: str, message: str) -> None:
    (tmp_path / "pyproject.toml").write_text(body)
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "a.py").write_text("x = 1\n")
    result = check("a.py", cwd=tmp_path / "pkg")
    assert result.exit_code == 2
    [line] = result.output.splitlines()
    assert line.startswith("initaudit: error:") and message in line


def test_another_tools_malformed_settings_are_not_ours_to_judge(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text("tool = 3\n")
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "a.py").write_text("x = 1\n")
    result = check("a.py", cwd=tmp_path / "pkg")
    assert result.exit_code == 0 and "All checks passed" in result.output


def test_config_that_is_a_fifo_is_refused(tmp_path: Path) -> None:
    (tmp_path / "a.py").write_text("x = 1\n")
    os.mkfifo(tmp_path / "settings.toml")
    result = check("--config", str(tmp_path / "settings.toml"), str(tmp_path / "a.py"))
    assert result.exit_code == 2
    assert result.output == f"initaudit: error: {tmp_path / 'settings.toml'}: not a regular file\n"


def test_control_characters_in_paths_and_messages_are_escaped(tmp_path: Path) -> None:
    name = "evil\x1b[2J\u202e.py"
    (tmp_path / name).write_text("import torch.nn as nn\nnn.init.xavier_uniform(w)  # \x1b[31m\x07\n")
    (tmp_path / "bad\x1b]0;x\x07.py").write_text("x = (\n")
    for output_format in ("text", "github"):
        result = check("--format", output_format, str(tmp_path))
        assert result.exit_code == 1
        assert not any(c in result.output for c in "\x1b\x07\u202e"), result.output
        assert "evil\\x1b[2J\\u202e.py" in result.output
    text = check(str(tmp_path)).output
    assert "nn.init.xavier_uniform(w)  # \\x1b[31m\\x07" in text
    assert "^^^^^^^^^^^^^^^^^^^^^^" in text  # the caret still marks the call


def test_a_link_loop_beside_an_imported_module(tmp_path: Path) -> None:
    """Looking a module up lists its directory: an entry whose links loop is neither a file nor
    a directory there, not an error of the file that imports."""
    (tmp_path / "x.py").symlink_to("y.py")
    (tmp_path / "y.py").symlink_to("x.py")
    (tmp_path / "blocks.py").write_text("import torch.nn as nn\ndef reset(m):\n    nn.init.zeros_(m.weight)\n")
    (tmp_path / "ok.py").write_text("import blocks\nimport torch.nn as nn\nblocks.reset(nn.Linear(2, 2))\n")
    result = check(str(tmp_path / "ok.py"))
    assert (result.exit_code, result.output) == (0, "All checks passed (1 file checked).\n")
