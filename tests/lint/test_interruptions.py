"""A worker process that dies, and SIGINT/SIGTERM sent to a running check: the run reports what
it could not check, stops its workers, removes its temporary files and exits 130 or 143."""

from __future__ import annotations

import json
import os
import select
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from initaudit import cli
from initaudit.config import Config
from initaudit.lint.run import runner
from initaudit.lint.run.cache import ResultCache
from initaudit.pool import run_in_processes

BAD = "import torch.nn as nn\nnn.init.xavier_uniform(w)\n"


def _square_or_die(n: int) -> int:
    if n in (3, 7):
        os.kill(os.getpid(), signal.SIGKILL)  # as a crash in native code would
    return n * n


def _crash_on_doomed(task):
    if Path(task[0]).name == "doomed.py":
        os.kill(os.getpid(), signal.SIGKILL)  # as a crash in native code would
    return cli_lint_task(task)


cli_lint_task = runner._lint_task


def test_a_dying_worker_costs_only_its_own_task() -> None:
    results = list(run_in_processes(_square_or_die, range(10), 2, 2, crashed=lambda n: -n))
    assert results == [0, 1, 4, -3, 16, 25, 36, -7, 64, 81]


def test_a_file_whose_worker_dies_is_an_error_and_the_others_are_checked(tmp_path: Path, monkeypatch) -> None:
    for index in range(20):  # enough files for two workers
        (tmp_path / f"f{index:02}.py").write_text(BAD)
    (tmp_path / "doomed.py").write_text(BAD)
    monkeypatch.setattr(runner, "_lint_task", _crash_on_doomed)
    result = CliRunner().invoke(cli.main, ["check", "--no-cache", "-j", "2", "--format", "json", str(tmp_path)])
    assert result.exit_code == 2
    lines = result.output.splitlines()
    assert lines[0] == f"initaudit: error: {tmp_path / 'doomed.py'}: the process checking this file died; file not checked"
    data = json.loads("\n".join(lines[1:]))
    assert len(data["diagnostics"]) == 20 and data["summary"]["skipped"] == 1


def test_an_interrupted_cache_write_leaves_no_temporary_file(tmp_path: Path, monkeypatch) -> None:
    cache = ResultCache.open(tmp_path, Config())
    cache.put("key", [], True)

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr("initaudit.atomic.os.fsync", interrupted)  # the temporary file is written
    with pytest.raises(KeyboardInterrupt):
        cache.save()
    assert [path.name for path in tmp_path.iterdir()] == [".gitignore"]


def _as_in_a_terminal() -> None:
    """Ctrl-C's default disposition: a shell starting a job in the background (as a CI runner
    may) leaves SIGINT ignored, and Python then installs no handler for it."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _children(pid: int) -> list[int]:
    children = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        children += [int(child) for child in (task / "children").read_text().split()]
    return children


def _started_workers(process: subprocess.Popen[str]) -> list[int]:
    """The run's two workers, once both have started (a generous deadline: a safety net only)."""
    deadline = time.monotonic() + 300
    while len(workers := _children(process.pid)) < 2:
        assert process.poll() is None and time.monotonic() < deadline
        time.sleep(0.05)
    return workers


def _exit_handles(pids: list[int]) -> list[int]:
    """A pidfd per process still running: it becomes readable when the process ends, whoever
    its parent is by then (taken before the signal, so a reused pid cannot stand in for it)."""
    handles = []
    for pid in pids:
        try:
            handles.append(os.pidfd_open(pid))
        except ProcessLookupError:
            continue  # already gone
    return handles


def _all_ended(handles: list[int], timeout: float) -> bool:
    """Wait for the exit of every process behind ``handles`` (an event, not a poll); the timeout
    is a safety net: a worker leaves between two files, and a big file may take a loaded machine
    minutes."""
    deadline = time.monotonic() + timeout
    try:
        for handle in handles:
            readable, _, _ = select.select([handle], [], [], max(deadline - time.monotonic(), 0))
            if not readable:
                return False
        return True
    finally:
        for handle in handles:
            os.close(handle)


@pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="needs /proc to see the workers")
@pytest.mark.parametrize("number, status", [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_signal_stops_workers_and_exits_cleanly(tmp_path: Path, number: int, status: int) -> None:
    body = "import torch.nn as nn\n" + "".join(
        f"class M{i}(nn.Module):\n    def __init__(self):\n        super().__init__()\n"
        f"        self.fc = nn.Linear(4, 4)\n        nn.init.xavier_uniform_(self.fc.weight)\n"
        f"    def forward(self, x):\n        return self.fc(x).relu()\n" for i in range(2000))
    for index in range(16):  # each takes a worker about a second: the run is busy for a while
        (tmp_path / f"m{index}.py").write_text(body)
    cache = tmp_path / "cache"
    process = subprocess.Popen(
        [sys.executable, "-m", "initaudit", "check", "-j", "2", "--cache-dir", str(cache), str(tmp_path)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, preexec_fn=_as_in_a_terminal)
    try:
        handles = _exit_handles(_started_workers(process))
        process.send_signal(number)
        _, stderr = process.communicate(timeout=120)
    finally:
        process.kill()
    assert process.returncode == status
    assert "Traceback" not in stderr and "Aborted" not in stderr
    assert _all_ended(handles, timeout=300)
    assert not list(tmp_path.rglob("*.tmp"))


@pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="needs /proc to see the workers")
def test_workers_leave_when_their_parent_is_killed_outright(tmp_path: Path) -> None:
    body = "import torch.nn as nn\n" + "".join(
        f"class M{i}(nn.Module):\n    def __init__(self):\n        super().__init__()\n"
        f"        self.fc = nn.Linear(4, 4)\n        nn.init.xavier_uniform_(self.fc.weight)\n" for i in range(2000))
    for index in range(16):
        (tmp_path / f"m{index}.py").write_text(body)
    process = subprocess.Popen([sys.executable, "-m", "initaudit", "check", "-j", "2", "--no-cache", str(tmp_path)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        handles = _exit_handles(_started_workers(process))
    finally:
        process.kill()  # SIGKILL: no handler runs, nothing can stop the workers for it
        process.wait()
    assert _all_ended(handles, timeout=300)


def test_ctrl_c_during_a_model_audit(tmp_path: Path) -> None:
    """The same handlers serve ``model`` (one signal here: starting torch takes seconds)."""
    pytest.importorskip("torch")
    marker = tmp_path / "building"
    (tmp_path / "slow_factory.py").write_text(
        "import pathlib, time\n"
        "def build():\n"
        f"    pathlib.Path({str(marker)!r}).touch()\n"
        "    time.sleep(60)\n")
    environment = {**os.environ, "PYTHONPATH": os.pathsep.join(
        [str(tmp_path), os.environ.get("PYTHONPATH", ""), str(Path(cli.__file__).parents[1])])}
    process = subprocess.Popen([sys.executable, "-m", "initaudit", "model", "--factory", "slow_factory:build"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=environment,
                               preexec_fn=_as_in_a_terminal)
    try:
        deadline = time.monotonic() + 60
        while not marker.exists():  # the audit is building the model
            assert process.poll() is None and time.monotonic() < deadline
            time.sleep(0.05)
        process.send_signal(signal.SIGINT)
        _, stderr = process.communicate(timeout=30)
    finally:
        process.kill()
    assert process.returncode == 130
    assert "Traceback" not in stderr and "Aborted" not in stderr


@pytest.mark.parametrize("number", [signal.SIGTERM, signal.SIGINT])
def test_a_forked_child_ends_quietly_on_a_signal_even_with_the_parents_handler(number: int) -> None:
    """A worker forked before it resets its signals must not raise the parent's exceptions."""
    script = (
        "import os, signal, sys, time\n"
        "from initaudit.cli import _install_signal_handlers\n"
        "_install_signal_handlers()\n"
        "child = os.fork()\n"
        "if child == 0:\n"
        "    time.sleep(30)\n"
        "    os._exit(0)\n"
        "time.sleep(0.2)\n"
        f"os.kill(child, {int(number)})\n"
        "_, status = os.waitpid(child, 0)\n"
        f"print(os.WIFSIGNALED(status) and os.WTERMSIG(status) == {int(number)})\n")
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60,
                            preexec_fn=_as_in_a_terminal)
    assert result.stdout.strip() == "True" and "Traceback" not in result.stderr, result.stderr


_SIGNAL_WHILE_FORKING = """
import os, signal, sys
from initaudit.cli import _install_signal_handlers
from initaudit.pool import run_in_processes

_install_signal_handlers()
sent = []


def send_once() -> None:  # runs in the parent right after each fork of a worker
    if not sent:
        sent.append(True)
        os.kill(os.getpid(), signal.SIGTERM)


os.register_at_fork(after_in_parent=send_once)
try:
    list(run_in_processes(abs, list(range(-64, 0)), 2, 1, lambda task: None))
except KeyboardInterrupt as exc:
    print(type(exc).__name__)
    sys.exit(0)
print("finished")
"""


@pytest.mark.skipif(not hasattr(signal, "pthread_sigmask"), reason="signals cannot be held here")
def test_a_signal_that_arrives_while_a_worker_is_forked_still_stops_the_run() -> None:
    """Raised inside the interpreter's fork hooks, the handler's exception would be ignored and
    the signal lost; held until the workers are forked, it stops the run."""
    done = subprocess.run([sys.executable, "-c", _SIGNAL_WHILE_FORKING], capture_output=True, text=True,
                          timeout=120)
    assert (done.returncode, done.stdout.strip()) == (0, "Terminated"), done.stderr


_INTERRUPTED_WHILE_WAITING = """
import signal, threading, time
from initaudit.pool import run_in_processes


def slow(task):
    time.sleep(0.2)
    return task


def interrupt(signum, frame):
    raise KeyboardInterrupt


signal.signal(signal.SIGALRM, interrupt)
signal.setitimer(signal.ITIMER_REAL, 0.5)  # the run takes 4 s: it is waiting for a result then
try:
    list(run_in_processes(slow, list(range(40)), 2, 1, lambda task: None))
except KeyboardInterrupt:
    print("interrupted")
for thread in threading.enumerate():
    if thread is not threading.main_thread():
        thread.join(timeout=30)
"""


@pytest.mark.skipif(not hasattr(signal, "setitimer"), reason="no interval timer here")
def test_an_interrupt_while_waiting_leaves_no_error_in_the_pool_thread() -> None:
    """The futures left when the workers are stopped are marked broken by the pool's own thread:
    none may have been cancelled first, which that thread cannot mark (a traceback on stderr)."""
    done = subprocess.run([sys.executable, "-c", _INTERRUPTED_WHILE_WAITING], capture_output=True, text=True,
                          timeout=120)
    assert done.stdout.split() == ["interrupted"]
    assert "Traceback" not in done.stderr, done.stderr
