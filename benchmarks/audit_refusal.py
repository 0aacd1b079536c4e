"""How fast ``initaudit model`` refuses a checkpoint it cannot read, against the command line's
own start-up and the torch import the refusal avoids.

    python benchmarks/audit_refusal.py [--repeat 20]

Runs each command in a fresh process, taking turns, and prints the median and fastest wall time
and the median CPU time (user + system, less sensitive to other load on the machine):
``initaudit --version`` (the floor: Python, click and rich), ``initaudit model /nonexistent.pt``
and ``python -c "import torch"``.
"""

from __future__ import annotations

import argparse
import resource
import shutil
import statistics
import subprocess
import sys
import time


def run(command: list[str]) -> tuple[float, float]:
    """(wall seconds, CPU seconds) of one fresh process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=20, help="runs of each command (default 20)")
    options = parser.parse_args()
    initaudit = shutil.which("initaudit") or sys.exit("initaudit is not installed in this environment")
    commands = {
        "initaudit --version": [initaudit, "--version"],
        "initaudit model /nonexistent.pt": [initaudit, "model", "/nonexistent.pt"],
        "python -c 'import torch'": [sys.executable, "-c", "import torch"],
    }
    for command in commands.values():
        run(command)  # warm the file cache
    runs: dict[str, list[tuple[float, float]]] = {label: [] for label in commands}
    for _ in range(options.repeat):
        for label, command in commands.items():
            runs[label].append(run(command))
    for label, results in runs.items():
        walls = [wall for wall, _ in results]
        print(f"{label:34} wall median {statistics.median(walls) * 1000:6.0f} ms, fastest {min(walls) * 1000:6.0f} ms, "
              f"CPU median {statistics.median(cpu for _, cpu in results) * 1000:6.0f} ms")


if __name__ == "__main__":
    main()
