"""Time ``initaudit model`` on a large checkpoint against two baselines, with peak RssAnon.

    python benchmarks/audit_speed.py [--gb 2] [--dir DIR] [--repeat 3]

Writes N x (4096 x 4096) float32 matrices (+ biases) as a torch.save zip and as .safetensors,
then runs, each in a fresh process: ``cat FILE > /dev/null``; ``torch.load(mmap=True)`` +
per-tensor mean/std; and ``initaudit model FILE --format json``. The methods take turns for
``--repeat`` rounds after one warm-up round (page cache filled), and each reports its median
wall time, median CPU time (user + system, less sensitive to other load on the machine) and
peak anonymous memory, sampled from /proc/<pid>/status (RssAnon; max-RSS counts the page cache
of mmap'd files).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from pathlib import Path

from process_measure import measure

SIDE = 4096
BASELINE = """
import sys, warnings
warnings.filterwarnings("ignore")
import torch
state = torch.load(sys.argv[1], mmap=True, weights_only=True)
for tensor in state.values():
    tensor.mean().item(); tensor.std().item()
"""
AUDIT = "import sys; from initaudit.model_command import run_model; sys.exit(run_model(sys.argv[1], output_format='json'))"


def make_checkpoints(directory: Path, gigabytes: float) -> tuple[Path, Path, int]:
    import torch

    from initaudit.auditor.load.safetensors_io import save_safetensors

    count = max(1, round(gigabytes * 1e9 / (SIDE * SIDE * 4)))
    generator = torch.Generator().manual_seed(0)
    state = {}
    for index in range(count):
        state[f"layers.{index}.weight"] = torch.empty(SIDE, SIDE).uniform_(-0.02, 0.02, generator=generator)
        state[f"layers.{index}.bias"] = torch.zeros(SIDE)
    pt, st = directory / "big.pt", directory / "big.safetensors"
    torch.save(state, pt)
    save_safetensors(state, st)
    return pt, st, SIDE * SIDE * 4


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gb", type=float, default=2.0, help="checkpoint size in GB (default 2)")
    parser.add_argument("--dir", type=Path, default=None, help="where to write the checkpoints")
    parser.add_argument("--repeat", type=int, default=3, help="timed rounds (default 3)")
    options = parser.parse_args()
    with tempfile.TemporaryDirectory(dir=options.dir) as scratch:
        pt, st, largest = make_checkpoints(Path(scratch), options.gb)
        mib = 1024 * 1024
        print(f"checkpoint: {pt.stat().st_size / 1e9:.2f} GB, largest tensor {largest / mib:.0f} MiB, "
              f"median of {options.repeat} rounds")
        methods = {
            "cat .pt": ["sh", "-c", f"cat {pt} > /dev/null"],
            "torch.load(mmap)+mean/std .pt": [sys.executable, "-c", BASELINE, str(pt)],
            "initaudit model .pt": [sys.executable, "-c", AUDIT, str(pt)],
            "initaudit model .safetensors": [sys.executable, "-c", AUDIT, str(st)],
        }
        for command in methods.values():
            measure(command)  # warm the page cache so every method reads from memory
        runs: dict[str, list[tuple[float, float, int]]] = {label: [] for label in methods}
        for _ in range(options.repeat):
            for label, command in methods.items():
                runs[label].append(measure(command))
        rows = []
        for label, results in runs.items():
            wall = statistics.median(r[0] for r in results)
            cpu = statistics.median(r[1] for r in results)
            peak = max(r[2] for r in results)
            rows.append((label, wall, cpu, peak))
            print(f"{label:32} wall {wall:6.2f} s   cpu {cpu:6.2f} s   peak RssAnon {peak / mib:7.0f} MiB")
        baseline, baseline_cpu = rows[1][1], rows[1][2]
        for label, wall, cpu, peak in rows[2:]:
            budget = largest + 300 * mib
            print(f"{label:32} {wall / baseline:.2f}x torch.load+stats wall (target <= 1.5x), "
                  f"{cpu / baseline_cpu:.2f}x cpu; RssAnon {peak / mib:.0f} MiB vs budget "
                  f"{budget / mib:.0f} MiB ({'ok' if peak <= budget else 'over'})")


if __name__ == "__main__":
    main()
