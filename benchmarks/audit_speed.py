"""Time ``initaudit model`` on a large checkpoint against two baselines, with peak RssAnon.

    python benchmarks/audit_speed.py [--gb 2] [--dir DIR]

Writes N x (4096 x 4096) float32 matrices (+ biases) as a torch.save zip and as .safetensors,
then runs, each in a fresh process: ``cat FILE > /dev/null``; ``torch.load(mmap=True)`` +
per-tensor mean/std; and ``initaudit model FILE --format json``. Peak anonymous memory is
sampled from /proc/<pid>/status (RssAnon; max-RSS counts the page cache of mmap'd files).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SIDE = 4096
BASELINE = """
import sys, warnings
warnings.filterwarnings("ignore")
import torch
state = torch.load(sys.argv[1], mmap=True, weights_only=True)
for tensor in state.values():
    tensor.mean().item(); tensor.std().item()
"""
AUDIT = "import sys; from initaudit.audit import run_audit; sys.exit(run_audit(sys.argv[1], output_format='json'))"


def make_checkpoints(directory: Path, gigabytes: float) -> tuple[Path, Path, int]:
    import torch

    from initaudit.audit.safetensors_io import save_safetensors

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


def measure(command: list[str], stdout: int | None = subprocess.DEVNULL) -> tuple[float, int]:
    """(wall seconds, peak RssAnon bytes) of one fresh process."""
    start = time.perf_counter()
    process = subprocess.Popen(command, stdout=stdout, stderr=subprocess.DEVNULL)
    peak = 0
    status = Path(f"/proc/{process.pid}/status")
    while process.poll() is None:
        try:
            for line in status.read_text().splitlines():
                if line.startswith("RssAnon:"):
                    peak = max(peak, int(line.split()[1]) * 1024)
        except (FileNotFoundError, ProcessLookupError):
            pass
        time.sleep(0.005)
    wall = time.perf_counter() - start
    if process.returncode not in (0, 1):
        raise SystemExit(f"{command} failed with {process.returncode}")
    return wall, peak


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gb", type=float, default=2.0, help="checkpoint size in GB (default 2)")
    parser.add_argument("--dir", type=Path, default=None, help="where to write the checkpoints")
    options = parser.parse_args()
    with tempfile.TemporaryDirectory(dir=options.dir) as scratch:
        pt, st, largest = make_checkpoints(Path(scratch), options.gb)
        mib = 1024 * 1024
        print(f"checkpoint: {pt.stat().st_size / 1e9:.2f} GB, largest tensor {largest / mib:.0f} MiB")
        rows = []
        for label, command in (
            ("cat .pt", ["sh", "-c", f"cat {pt} > /dev/null"]),
            ("torch.load(mmap)+mean/std .pt", [sys.executable, "-c", BASELINE, str(pt)]),
            ("initaudit model .pt", [sys.executable, "-c", AUDIT, str(pt)]),
            ("initaudit model .safetensors", [sys.executable, "-c", AUDIT, str(st)]),
        ):
            measure(command)  # warm the page cache so every method reads from memory
            wall, peak = measure(command)
            rows.append((label, wall, peak))
            print(f"{label:32} wall {wall:6.2f} s   peak RssAnon {peak / mib:7.0f} MiB")
        baseline = rows[1][1]
        for label, wall, peak in rows[2:]:
            budget = largest + 300 * mib
            print(f"{label:32} {wall / baseline:.2f}x torch.load+stats (target <= 1.5x); "
                  f"RssAnon {peak / mib:.0f} MiB vs budget {budget / mib:.0f} MiB "
                  f"({'ok' if peak <= budget else 'over'})")


if __name__ == "__main__":
    main()
