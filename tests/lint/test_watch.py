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
from typing import Any, Callable, Iterator

import pytest

from tests.lint.test_check_options import _one_error_line, invoke
from tests.lint.test_cli import BAD, write
from tests.lint.test_interruptions import _as_in_a_terminal

#: Generous: only a broken watcher takes this long, and the test then fails rather than hangs.
TIMEOUT = 60
SUMMARY = ("All checks passed", "Found ")


class _Watcher:
    """``initaudit check --watch`` in a subprocess, its standard output (the reports) read line
    by line on a thread; standard error (the "watching" line, anything the file watcher itself
    says) is kept apart, so that a report is compared as the report alone."""

    def __init__(self, *args: str) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "initaudit", "check", "--watch", "--no-cache", "--output-format", "concise", *args],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env={**os.environ, "NO_COLOR": "1"},
            preexec_fn=_as_in_a_terminal)
        self._lines: queue.Queue[str | None] = queue.Queue()
        self._errors: list[str] = []
        threading.Thread(target=self._read, args=(self.process.stdout, self._lines.put), daemon=True).start()
        self._stderr = threading.Thread(target=self._read, args=(self.process.stderr, self._errors.append),
                                        daemon=True)
        self._stderr.start()

    @staticmethod
    def _read(stream: Any, keep: Callable[[str | None], None]) -> None:
        for line in stream:
            keep(line.rstrip("\n"))
        keep(None)

    def report(self) -> list[str]:
        """The lines of the next report, up to its summary line."""
        lines: list[str] = []
        while True:
            try:
                line = self._lines.get(timeout=TIMEOUT)
            except queue.Empty:
                raise AssertionError(f"no report in {TIMEOUT} s: {lines} {self._errors}") from None
            assert line is not None, f"the watcher ended: {lines} {self._errors}"
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
        """What it printed after the last report read, on either stream, once it has ended."""
        lines = []
        while (line := self._lines.get(timeout=TIMEOUT)) is not None:
            lines.append(line)
        self._stderr.join(timeout=TIMEOUT)
        return lines + [line for line in self._errors if line is not None]

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
    rest = watching.rest()
    assert "initaudit: watching for changes (Ctrl-C stops)" in rest  # on standard error, after each report
    assert not [line for line in rest if "Traceback" in line or "Aborted" in line]


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


def test_without_file_events_the_watcher_polls_and_says_so(monkeypatch: pytest.MonkeyPatch,
                                                           capsys: pytest.CaptureFixture[str]) -> None:
    """A user's inotify instances can all be taken (editors, language servers, other runs):
    watchfiles then cannot make its watcher, and the run polls instead of ending in a traceback."""
    pytest.importorskip("watchfiles")
    from initaudit import watch as watch_module

    asked: list[bool | None] = []

    def watch(*paths: object, force_polling: bool | None = None, **options: object) -> Iterator[set]:
        asked.append(force_polling)
        if not force_polling:
            raise RuntimeError("Error creating recommended watcher: Too many open files (os error 24)")
        yield set()

    monkeypatch.setattr(watch_module, "watch", watch)
    checks: list[int] = []
    watch_module.watch_and_check([Path(".")], [], (), lambda: checks.append(1))
    assert asked == [None, True] and checks == [1]
    assert capsys.readouterr().err.splitlines()[0] == (
        "initaudit: note: no file-system events (Error creating recommended watcher: Too many open files "
        "(os error 24)); polling for changes instead")
