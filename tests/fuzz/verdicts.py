"""What counts as a failure, read from one command's outcome or from the files around it."""

from __future__ import annotations

import hashlib
import json
import re
import signal
from dataclasses import dataclass
from pathlib import Path

from tests.fuzz.runner import Outcome
from tests.fuzz.sources import SENTINEL

CRASH = "crashes"
HANG = "hangs"
FIX_DAMAGE = "fix damage"
CODE_EXECUTED = "code executed"
WRITES_OUTSIDE = "writes outside output"
READS_OUTSIDE = "reads outside the tree"
MEMORY = "huge memory"
CATEGORIES = (CRASH, HANG, FIX_DAMAGE, CODE_EXECUTED, WRITES_OUTSIDE, READS_OUTSIDE, MEMORY)

MEMORY_MARKERS = ("MemoryError", "can't allocate memory", "Cannot allocate memory", "bad_alloc",
                  "out of memory")


@dataclass(frozen=True)
class Verdict:
    category: str
    cause: str  # one line


def judge_process(outcome: Outcome, *, json_stdout: bool, cpu: float) -> list[Verdict]:
    """Crash, hang or memory verdicts for one command (``json_stdout``: stdout must be one object)."""
    if outcome.timed_out:
        return [Verdict(HANG, f"no exit within {outcome.seconds:.0f} s (wall clock)")]
    if outcome.status == -signal.SIGXCPU or outcome.status == -signal.SIGKILL and outcome.cpu_seconds >= cpu:
        return [Verdict(HANG, f"no exit within {cpu:g} s of CPU time")]
    streams = outcome.stderr + outcome.stdout
    marker = next((m for m in MEMORY_MARKERS if m in streams), None)
    if marker is not None:
        return [Verdict(MEMORY, f"{marker} (peak RSS {outcome.max_rss >> 20} MiB): {_last_line(outcome.stderr)}")]
    if outcome.status == -signal.SIGKILL:
        return [Verdict(MEMORY, f"killed (peak RSS {outcome.max_rss >> 20} MiB)")]
    if "Traceback (most recent call last)" in outcome.stderr:
        return [Verdict(CRASH, f"traceback: {traceback_cause(outcome.stderr)}")]
    internal = re.search(r"^.*internal error.*$", streams, re.MULTILINE)
    if internal:
        return [Verdict(CRASH, internal.group().strip()[:240])]
    if outcome.status not in (0, 1, 2):
        name = f"signal {signal.Signals(-outcome.status).name}" if outcome.status < 0 else f"exit {outcome.status}"
        return [Verdict(CRASH, f"{name}: {_last_line(outcome.stderr)}")]
    if json_stdout and (outcome.status != 2 or outcome.stdout.strip()):
        problem = json_problem(outcome.stdout)
        if problem:
            return [Verdict(CRASH, f"--format json: {problem}")]
    return []


def json_problem(text: str) -> str | None:
    try:
        value = json.loads(text)
    except ValueError as error:
        return f"stdout is not JSON ({error}): {text[:80]!r}"
    if not isinstance(value, dict) or value.get("version") != 1:
        return f"stdout is not a version 1 object: {text[:80]!r}"
    return None


def traceback_cause(stderr: str) -> str:
    """The exception line and the innermost frame: 'ValueError: x (at file.py:12 in f)'."""
    frames = re.findall(r'File "([^"]+)", line (\d+), in (\S+)', stderr)
    lines = stderr.strip().splitlines()
    last_frame = max((i for i, line in enumerate(lines) if line.startswith('  File "')), default=-1)
    # The first unindented line after the last frame (a message may go on over several lines).
    exception = next((line for line in lines[last_frame + 1:] if line and not line.startswith(" ")), "?")[:200]
    if not frames:
        return exception
    own = [frame for frame in frames if "/initaudit/" in frame[0]]
    file, line, function = (own or frames)[-1]  # the innermost frame of initaudit's own code
    return f"{exception} (at {Path(file).name}:{line} in {function})"


def _last_line(text: str) -> str:
    lines = text.strip().splitlines()
    return lines[-1][:200] if lines else ""


# ----------------------------------------------------------------------------- files around it

Snapshot = dict[str, tuple[str, str]]


def snapshot(root: Path) -> Snapshot:
    """relative path -> (kind and mode, content digest or link target) for everything under root."""
    state: Snapshot = {}
    for path in sorted(root.rglob("*")):
        relative = str(path.relative_to(root))
        info = path.lstat()
        if path.is_symlink():
            state[relative] = ("link", str(path.readlink()))
        elif path.is_dir():
            state[relative] = (f"dir {info.st_mode:o}", "")
        else:
            digest = hashlib.sha1(path.read_bytes()).hexdigest() if path.is_file() else "special"
            state[relative] = (f"file {info.st_mode:o}", digest)
    return state


def changed_paths(before: Snapshot, after: Snapshot) -> list[str]:
    return sorted(path for path in before.keys() | after.keys() if before.get(path) != after.get(path))


def executed(root: Path) -> list[str]:
    return sorted(str(path.relative_to(root)) for path in root.rglob(SENTINEL))
