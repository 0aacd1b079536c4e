"""Time ``initaudit check`` on generated worst-case shapes against the parse they cannot beat.

    python benchmarks/lint_pathological.py [--only NAME] [--scale F] [--timeout S]

Each row of ``ROWS`` is a shape: a generator writes its source into a temporary directory, then
``initaudit check --no-cache --jobs 1`` (plus the row's flags, on a fresh copy) runs in a fresh
process. The baselines are measured in the same run, on the same file, in a child process that
times only the work itself: ``compile(source, path, "exec")`` (the interpreter's parser and
compiler) and ``libcst.parse_module`` (the parse every checked file needs). Times are CPU seconds
(user + system; for ``initaudit``, of its whole process, start-up included), so that the ratios
hold on a busy machine; the wall time of each run is shown too. The table gives the time per
unit of the shape (a line, or a term of an expression) and the ratio to each baseline;
a shape whose time per unit grows with its size is a super-linear path to fix. A run over the
time limit is killed and reported as such.

To add a shape, add a ``Row``: a name, a generator ``size -> (source, units)``, the unit's name
and the size.
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

INITAUDIT = [sys.executable, "-m", "initaudit", "check", "--no-cache", "--jobs", "1"]

# Run in a child process: prints the CPU time of compile() (to its verdict: a deep shape is
# rejected) and then of a bare libcst parse, which may fail, overflow the stack or not finish.
BASELINES = r"""
import json, sys, time
import libcst
path = sys.argv[1]
source = open(path, encoding="utf-8").read()
start = time.process_time()
try:
    compile(source, path, "exec", dont_inherit=True)
except (SyntaxError, RecursionError, MemoryError):
    pass
print(json.dumps({"compile_s": time.process_time() - start}), flush=True)
start = time.process_time()
try:
    libcst.parse_module(source)
except libcst.ParserSyntaxError:
    pass
print(json.dumps({"parse_s": time.process_time() - start}), flush=True)
"""

MODEL_CLASS = '''

class Block{i}(nn.Module):
    def __init__(self, dim=64):
        super().__init__()
        self.fc1 = nn.Linear(dim, dim)
        self.fc2 = nn.Linear(dim, dim)
        nn.init.xavier_uniform(self.fc1.weight)
        nn.init.zeros_(self.fc2.bias)

    def forward(self, x):
        return self.fc2(torch.relu(self.fc1(x)))
'''


def model_file(lines: int) -> tuple[str, int]:
    """Many small models, each with two Linear layers and an IA104 and an IA103 finding."""
    parts = ["import torch\nimport torch.nn as nn\n"]
    count = parts[0].count("\n")
    per_class = MODEL_CLASS.count("\n")
    for index in range(max(lines - count, per_class) // per_class):
        parts.append(MODEL_CLASS.format(i=index))
        count += per_class
    return "".join(parts), count


def expression(text: Callable[[int], str]) -> Callable[[int], tuple[str, int]]:
    """A generator for one statement ``x = <text(size)>`` in a file that is analysed in full."""
    return lambda size: (f"import torch.nn.init as init\nx = {text(size)}\n", size)


@dataclass(frozen=True)
class Row:
    name: str
    generate: Callable[[int], tuple[str, int]]  # size -> (source, units)
    unit: str
    size: int
    flags: tuple[str, ...] = ()


ROWS = [
    Row("model file, 7.75k lines", model_file, "line", 7_750),
    Row("model file, 62k lines", model_file, "line", 62_000),
    Row("model file, 62k lines, --fix", model_file, "line", 62_000, ("--fix",)),
    Row("1+1+...", expression(lambda n: "+".join(["1"] * n)), "term", 50_000),
    Row("a()()...", expression(lambda n: "a" + "()" * n), "term", 20_000),
    Row("a[0][0]...", expression(lambda n: "a" + "[0]" * n), "term", 20_000),
    Row("a.b.b...", expression(lambda n: "a" + ".b" * n), "term", 20_000),
    Row("------1", expression(lambda n: "-" * n + "1"), "term", 50_000),
    Row("((((1))))", expression(lambda n: "(" * n + "1" + ")" * n), "term", 2_000),
    Row("x or x or ...", expression(lambda n: " or ".join(["x"] * n)), "term", 50_000),
    Row("x < x < ...", expression(lambda n: " < ".join(["x"] * n)), "term", 50_000),
    Row("'a' 'a' ...", expression(lambda n: " ".join(["'a'"] * n)), "term", 10_000),
    Row("a()()..., 190 deep", expression(lambda n: "a" + "()" * n), "term", 190),
]


@dataclass
class Timing:
    row: Row
    units: int
    initaudit_s: float | None  # CPU seconds; None: killed at the time limit
    wall_s: float
    compile_s: float
    parse_s: float | None  # None: libcst crashed or did not finish
    signal: int = 0  # that killed initaudit (a crash), if any


def measure(row: Row, scale: float, folder: Path, timeout: float) -> Timing:
    source, units = row.generate(max(int(row.size * scale), 1))
    original = folder / "shape.py"
    original.write_text(source, encoding="utf-8")
    try:
        output = subprocess.run([sys.executable, "-c", BASELINES, str(original)], capture_output=True,
                                text=True, timeout=timeout).stdout
    except subprocess.TimeoutExpired as exc:
        output = exc.stdout.decode() if isinstance(exc.stdout, bytes) else exc.stdout or ""
    baselines = {"parse_s": None}
    for line in output.splitlines():
        baselines.update(json.loads(line))
    target = folder / "checked.py"
    shutil.copyfile(original, target)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    killed_by = 0
    try:
        run = subprocess.run([*INITAUDIT, *row.flags, str(target)], capture_output=True, timeout=timeout)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu: float | None = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
        killed_by = max(-run.returncode, 0)
    except subprocess.TimeoutExpired:
        cpu = None
    return Timing(row, units, cpu, time.perf_counter() - start, baselines["compile_s"], baselines["parse_s"],
                  killed_by)


def report(timings: list[Timing], timeout: float) -> None:
    header = (f"{'shape':34} {'units':>12} {'initaudit':>10} {'per unit':>10} {'compile':>9} "
              f"{'libcst':>9} {'x compile':>10} {'x libcst':>9} {'wall':>9}")
    print(header)
    print("-" * len(header))
    for t in timings:
        units = f"{t.units} {t.row.unit}s"
        parse = "crashed" if t.parse_s is None else f"{t.parse_s:.2f}s"
        baselines = f"{t.compile_s:8.2f}s {parse:>9}"
        if t.initaudit_s is None:
            print(f"{t.row.name:34} {units:>12} did not finish in {timeout:.0f} s; {baselines}")
            continue
        if t.signal:
            print(f"{t.row.name:34} {units:>12} crashed (signal {t.signal}); {baselines}")
            continue
        per_unit = f"{t.initaudit_s / t.units * 1e6:7.0f} us"
        versus_parse = "-" if t.parse_s is None else f"{t.initaudit_s / t.parse_s:.2f}"
        print(f"{t.row.name:34} {units:>12} {t.initaudit_s:9.2f}s {per_unit:>10} {baselines} "
              f"{t.initaudit_s / t.compile_s:10.1f} {versus_parse:>9} {t.wall_s:8.1f}s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--only", help="run the rows whose name contains this text")
    parser.add_argument("--scale", type=float, default=1.0, help="multiply every row's size (e.g. 0.1)")
    parser.add_argument("--timeout", type=float, default=600.0, help="seconds before a run is killed")
    args = parser.parse_args()
    rows = [row for row in ROWS if args.only is None or args.only in row.name]
    with tempfile.TemporaryDirectory(prefix="initaudit-pathological-") as folder:
        timings = [measure(row, args.scale, Path(folder), args.timeout) for row in rows]
    report(timings, args.timeout)


if __name__ == "__main__":
    main()
