"""Time and peak memory of ``initaudit check`` on hostile inputs at growing sizes.

    python benchmarks/lint_bombs.py [--only NAME] [--timeout S] [--memory GIB] [--pythonpath DIR]

Each shape is generated into a temporary directory, at each of its sizes, and checked by a fresh
``initaudit check --no-cache --jobs 1`` process (plus the shape's flags) under a time limit and an
address-space limit. Per size: wall and CPU seconds, peak RSS (the process's own, from
``wait4``), and both as ratios to the smallest size, so that growth shows: bounded work stays
near the ratio of the sizes (or flat), exponential work leaves it far behind or does not finish.

- ``nested classes``: one file where class ``L<i>`` holds two instances of ``L<i-1>`` (size:
  classes); every class composes twice the layers of the one before.
- ``project ring``: files ``m<i>.py`` of a package whose class holds the classes of the next
  three files (the last ones the first, a cycle) and whose helper, which zero-initialises a
  weight, calls theirs (size: files).
- ``gitignore stars``: a ``.gitignore`` line ``a/**/a/**/.../b`` (size: ``**`` segments) over a
  tree of directories ``a`` 40 deep, with a checked file at the bottom.
- ``notebook cells``: a notebook whose every code cell has a finding, reported with
  ``--format github`` (size: cells).

``--pythonpath`` measures another copy of the package (an older checkout's directory holding
``initaudit/``) with the same shapes. ``benchmarks/fuzz.py`` runs these shapes too.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable


def nested_classes(size: int, folder: Path) -> Path:
    lines = ["import torch.nn as nn", "", "", "class L0(nn.Module):", "    def __init__(self):",
             "        super().__init__()", "        self.fc = nn.Linear(4, 4)",
             "        nn.init.xavier_uniform_(self.fc.weight)", "", "    def forward(self, x):",
             "        return nn.functional.relu(self.fc(x))"]
    for index in range(1, size + 1):
        lines += ["", "", f"class L{index}(nn.Module):", "    def __init__(self):", "        super().__init__()",
                  f"        self.a = L{index - 1}()", f"        self.b = L{index - 1}()", "",
                  "    def forward(self, x):", "        return self.b(self.a(x))"]
    path = folder / "nested.py"
    path.write_text("\n".join(lines) + "\n")
    return path


def project_ring(size: int, folder: Path) -> Path:
    root = folder / "ring"
    package = root / "pkg"
    package.mkdir(parents=True)
    (root / "pyproject.toml").write_text("[project]\nname = 'ring'\n")
    (package / "__init__.py").write_text("")
    for index in range(size):
        others = [(index + step) % size for step in (1, 2, 3)]
        chain = "self.fc(x)"
        for other in others:
            chain = f"self.c{other}({chain})"
        (package / f"m{index}.py").write_text("\n".join([
            "import torch.nn as nn",
            *(f"from .m{other} import C{other}, helper{other}" for other in others),
            "", "",
            f"def helper{index}(m):",
            "    nn.init.zeros_(m.weight)",
            *(f"    helper{other}(m)" for other in others),
            "", "",
            f"class C{index}(nn.Module):",
            "    def __init__(self):",
            "        super().__init__()",
            "        self.fc = nn.Linear(4, 4)",
            *(f"        self.c{other} = C{other}()" for other in others),
            f"        helper{index}(self.fc)",
            "",
            "    def forward(self, x):",
            f"        return {chain}",
            ""]))
    return root


def gitignore_stars(size: int, folder: Path, depth: int = 40) -> Path:
    root = folder / "tree"
    bottom = root.joinpath(*["a"] * depth)
    bottom.mkdir(parents=True)
    (root / ".gitignore").write_text("/".join(["a", "**"] * size) + "/b\n")
    (bottom / "m.py").write_text("import torch.nn as nn\nnn.init.normal(w)\n")
    return root


def notebook_cells(size: int, folder: Path) -> Path:
    def cell(lines: list[str]) -> dict[str, object]:
        return {"cell_type": "code", "execution_count": None, "metadata": {}, "outputs": [], "source": lines}

    cells = [cell(["import torch.nn as nn\n"])]
    cells += [cell([f"layer{index} = nn.Linear(4, 4)\n", f"nn.init.zeros_(layer{index}.weight)\n"])
              for index in range(size)]
    document = {"cells": cells, "metadata": {"language_info": {"name": "python"}}, "nbformat": 4,
                "nbformat_minor": 5}
    path = folder / "cells.ipynb"
    path.write_text(json.dumps(document, indent=1))
    return path


@dataclass(frozen=True)
class Shape:
    name: str
    unit: str
    sizes: tuple[int, ...]
    write: Callable[[int, Path], Path]  # (size, empty folder) -> the path to check
    flags: tuple[str, ...] = ()


SHAPES = (
    Shape("nested classes", "classes", (10, 12, 14, 16, 18, 20, 30, 40), nested_classes),
    Shape("project ring", "files", (10, 15, 20, 25, 30, 40, 50), project_ring),
    Shape("gitignore stars", "stars", (4, 5, 6, 7, 8, 10, 12), gitignore_stars),
    Shape("notebook cells", "cells", (625, 1250, 2500, 5000, 10_000), notebook_cells, ("--format", "github")),
)


@dataclass(frozen=True)
class Run:
    size: int
    wall: float
    cpu: float
    peak_rss: int  # bytes
    status: int | None  # None: killed at the time limit


def measure(shape: Shape, size: int, timeout: float, memory: int, pythonpath: str | None) -> Run:
    env = dict(os.environ)
    if pythonpath:
        env["PYTHONPATH"] = pythonpath

    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (memory, memory))

    with tempfile.TemporaryDirectory(prefix="initaudit-bombs-") as folder:
        target = shape.write(size, Path(folder))
        command = [sys.executable, "-m", "initaudit", "check", "--no-cache", "--jobs", "1", *shape.flags, str(target)]
        start = time.perf_counter()
        process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=folder,
                                   env=env, preexec_fn=limit)
        status: int | None = None
        while True:
            pid, wait_status, usage = os.wait4(process.pid, os.WNOHANG)
            if pid:
                status = os.waitstatus_to_exitcode(wait_status)
                break
            if time.perf_counter() - start > timeout:
                process.kill()
                _, _, usage = os.wait4(process.pid, 0)
                break
            time.sleep(0.02)
        process.returncode = status if status is not None else -9  # reaped here, not by Popen
    return Run(size, time.perf_counter() - start, usage.ru_utime + usage.ru_stime, usage.ru_maxrss * 1024, status)


def report(shape: Shape, runs: list[Run], timeout: float) -> None:
    print(f"\n== {shape.name} ({' '.join(shape.flags) or 'no flags'})")
    print(f"{shape.unit:>8} {'wall':>9} {'cpu':>9} {'peak RSS':>10} {'x wall':>8} {'x cpu':>8} {'x RSS':>7}  status")
    base = runs[0]
    for run in runs:
        if run.status is None:
            print(f"{run.size:>8} did not finish in {timeout:.0f} s (peak RSS {run.peak_rss >> 20} MiB)")
            continue
        print(f"{run.size:>8} {run.wall:8.2f}s {run.cpu:8.2f}s {run.peak_rss >> 20:>6} MiB "
              f"{run.wall / base.wall:8.1f} {run.cpu / base.cpu:8.1f} {run.peak_rss / base.peak_rss:7.1f}  "
              f"exit {run.status}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--only", help="run the shapes whose name contains this text")
    parser.add_argument("--timeout", type=float, default=60.0, help="seconds before a run is killed (default 60)")
    parser.add_argument("--memory", type=float, default=8.0, help="address-space limit of a run in GiB (default 8)")
    parser.add_argument("--pythonpath", help="measure the initaudit package found in this directory instead")
    args = parser.parse_args()
    for shape in SHAPES:
        if args.only is not None and args.only not in shape.name:
            continue
        runs = []
        for size in shape.sizes:
            runs.append(measure(shape, size, args.timeout, int(args.memory * (1 << 30)), args.pythonpath))
            if runs[-1].status is None:
                break  # larger sizes would not finish either
        report(shape, runs, args.timeout)


if __name__ == "__main__":
    main()
