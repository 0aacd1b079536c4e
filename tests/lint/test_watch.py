"""``check --watch``: a report, then a new one after each change to a source or settings file,
until Ctrl-C (exit 130). The command runs in a subprocess; the test waits on its output."""

from __future__ import annotations

import os
import queue
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from tests.lint.test_check_options import _one_error_line, invoke
from tests.lint.test_cli import BAD, write

#: Generous: only a broken watcher takes this long, and the test then fails rather than hangs.
TIMEOUT = 60
SUMMARY = ("All checks passed", "Found ")
#: The line on standard error after each report.
WATCHING = "initaudit: watching for changes (Ctrl-C stops)"


class _Watcher:
    """``initaudit check --watch`` in a subprocess, its output read line by line on a thread."""

    def __init__(self, *args: str) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "initaudit", "check", "--watch", "--no-cache", "--output-format", "concise", *args],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env={**os.environ, "NO_COLOR": "1"})
        self._lines: queue.Queue[str | None] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self._lines.put(line.rstrip("\n"))
        self._lines.put(None)

    def report(self) -> list[str]:
        """The lines of the next report, up to its summary line."""
        lines: list[str] = []
        while True:
            line = self._lines.get(timeout=TIMEOUT)
            assert line is not None, f"the watcher ended: {lines}"
            if line != WATCHING:
                lines.append(line)
            if line.startswith(SUMMARY):
                return lines

    def report_with(self, text: str) -> list[str]:
        """The first report that holds ``text`` (a save can reach the watcher in several events)."""
        while True:
            lines = self.report()
            if any(text in line for line in lines):
                return lines

    def rest(self) -> list[str]:
        """What it printed after the last report read, once it has ended."""
        lines = []
        while (line := self._lines.get(timeout=TIMEOUT)) is not None:
            lines.append(line)
        return lines

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait(timeout=TIMEOUT)


@pytest.fixture(params=["project", "package"])
def watching(request: pytest.FixtureRequest, tmp_path: Path):
    """Watching the project, or only its package: the settings file above it is watched too."""
    pytest.importorskip("watchfiles")
    write(tmp_path, {"pyproject.toml": "[tool.initaudit]\n", "pkg/a.py": "import torch\n"})
    watcher = _Watcher(str(tmp_path if request.param == "project" else tmp_path / "pkg"))
    yield watcher
    watcher.close()


def test_a_change_is_reported_until_ctrl_c(watching: _Watcher, tmp_path: Path) -> None:
    assert watching.report() == ["All checks passed (1 file checked)."]
    (tmp_path / "pkg" / "a.py").write_text(BAD)
    second = watching.report_with("IA104")
    assert second[-1].startswith("Found 1 problem")
    assert second[0].startswith(f"{tmp_path / 'pkg' / 'a.py'}:2:1: IA104")
    (tmp_path / "pkg" / "b.py").write_text(BAD)  # a new file is picked up too
    assert watching.report_with("2 files")[-1].startswith("Found 2 problems")
    watching.process.send_signal(signal.SIGINT)
    assert watching.process.wait(timeout=TIMEOUT) == 130
    assert not [line for line in watching.rest() if "Traceback" in line or "Aborted" in line]


def test_a_settings_change_is_read_again(watching: _Watcher, tmp_path: Path) -> None:
    watching.report()
    (tmp_path / "pkg" / "a.py").write_text(BAD)
    watching.report_with("IA104")
    (tmp_path / "pyproject.toml").write_text('[tool.initaudit]\nignore = ["IA104"]\n')
    assert watching.report_with("All checks passed") == ["All checks passed (1 file checked)."]


def test_watch_without_watchfiles_is_a_one_line_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "watchfiles", None)  # what an interpreter without it raises
    monkeypatch.delitem(sys.modules, "initaudit.watch", raising=False)
    write(tmp_path, {"a.py": BAD})
    result = invoke("check", "--watch", str(tmp_path))
    assert result.exit_code == 2
    assert "--watch needs watchfiles: pip install 'initaudit[watch]'" in _one_error_line(result.output)


@pytest.mark.parametrize(("args", "message"), [
    (["--fix"], "--fix and --watch cannot be used together"),
    (["-"], "work on files, not on standard input"),
    (["missing"], "missing: no such file or directory"),
])
def test_watch_refuses(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, args: list[str], message: str) -> None:
    pytest.importorskip("watchfiles")
    monkeypatch.chdir(tmp_path)
    result = invoke("check", "--watch", *args)
    assert result.exit_code == 2
    assert message in _one_error_line(result.output)
