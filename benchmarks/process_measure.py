"""Wall time, CPU time and peak anonymous memory of a command run in a fresh process (with its
worker processes), for the auditor's benchmarks."""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path


def tree_anon(pid: int) -> int:
    """RssAnon of ``pid`` and all its descendants, in bytes."""
    total, pending = 0, [pid]
    while pending:
        current = pending.pop()
        try:
            for line in Path(f"/proc/{current}/status").read_text().splitlines():
                if line.startswith("RssAnon:"):
                    total += int(line.split()[1]) * 1024
            for task in Path(f"/proc/{current}/task").iterdir():
                pending.extend(int(child) for child in (task / "children").read_text().split())
        except (FileNotFoundError, ProcessLookupError, ValueError):
            continue
    return total


def measure(command: list[str]) -> tuple[float, float, int]:
    """(wall seconds, CPU seconds, peak RssAnon of the process tree) of one fresh process; the
    CPU time includes the workers it waited for."""
    start = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    peak = 0
    while True:
        pid, status, usage = os.wait4(process.pid, os.WNOHANG)
        if pid:
            break
        peak = max(peak, tree_anon(process.pid))
        time.sleep(0.01)
    wall = time.perf_counter() - start
    process.returncode = os.waitstatus_to_exitcode(status)  # reaped here, not by Popen
    if process.returncode not in (0, 1):
        raise SystemExit(f"{command} failed with {process.returncode}")
    return wall, usage.ru_utime + usage.ru_stime, peak
