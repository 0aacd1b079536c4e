"""What reading a file's project costs: ``initaudit check`` with project-wide analysis against
every file checked alone, on the same files in the same run.

    python benchmarks/lint_project.py [DIR ...] [--jobs N] [--reps N]

DIRs default to the installed transformers and timm packages. Each mode runs ``run_lint`` in a
fresh process of this interpreter (``--jobs 1`` by default, so CPU time is the work done), from
an empty working directory, without cache, not skipping what git ignores. Prints per directory and mode: median wall time, CPU
time of the process and its workers, peak resident memory of the largest process, and the number
of findings; then the ratio project / alone (the baseline).
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from lint_speed import installed_package_dir  # noqa: E402

RUN = r"""
import json, resource, sys, time
from initaudit.config import load_config
from initaudit.lint.run.runner import run_lint

start = time.perf_counter()
# An installed package may lie in a directory git ignores (a virtual environment): check it anyway.
config = load_config().with_options(respect_gitignore=False)
run = run_lint([sys.argv[1]], config, jobs=int(sys.argv[2]), project=sys.argv[3] == "project")
wall = time.perf_counter() - start
own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
print(json.dumps({"wall": wall,
                  "cpu": own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime,
                  "peak_kib": max(own.ru_maxrss, children.ru_maxrss),
                  "findings": sum(len(r.diagnostics) for r in run), "files": len(run)}))
"""


def measure(directory: Path, mode: str, jobs: int, reps: int, scratch: Path) -> dict:
    runs = []
    for _ in range(reps):
        done = subprocess.run([sys.executable, "-c", RUN, str(directory), str(jobs), mode],
                              capture_output=True, text=True, cwd=scratch, check=True)
        runs.append(json.loads(done.stdout))
    return {key: statistics.median(run[key] for run in runs) for key in runs[0]}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("dirs", nargs="*", type=Path)
    parser.add_argument("--jobs", type=int, default=1)
    parser.add_argument("--reps", type=int, default=1)
    args = parser.parse_args(argv)
    dirs = args.dirs or [d for d in map(installed_package_dir, ("transformers", "timm")) if d is not None]
    if not dirs:
        parser.error("no directory given and neither transformers nor timm is installed")
    print(f"--jobs {args.jobs}, median of {args.reps}; baseline: every file alone")
    print(f"{'corpus':<16}{'mode':<9}{'files':>7}{'wall s':>9}{'cpu s':>9}{'peak MiB':>10}{'findings':>10}")
    with tempfile.TemporaryDirectory() as scratch:
        for directory in dirs:
            results = {mode: measure(directory.resolve(), mode, args.jobs, args.reps, Path(scratch))
                       for mode in ("alone", "project")}
            for mode, r in results.items():
                print(f"{directory.name:<16}{mode:<9}{r['files']:>7}{r['wall']:>9.1f}{r['cpu']:>9.1f}"
                      f"{r['peak_kib'] / 1024:>10.0f}{r['findings']:>10}")
            alone, project = results["alone"], results["project"]
            print(f"{directory.name:<16}{'ratio':<9}{'':>7}{project['wall'] / alone['wall']:>9.2f}"
                  f"{project['cpu'] / alone['cpu']:>9.2f}{project['peak_kib'] / alone['peak_kib']:>10.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
