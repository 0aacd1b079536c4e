"""``initaudit model`` on a sharded safetensors checkpoint next to ``cat`` of the same files.

    python benchmarks/audit_sharded.py [--gb 10] [--shards 10] [--jobs 2] [--repeat 2] [--dir DIR]

Writes a simulated checkpoint (``--shards`` files of 4096 x 4096 float32 matrices and vectors,
``--gb`` in all, plus model.safetensors.index.json) in a temporary directory, removed
afterwards; refuses when the disk lacks room for it plus 10 % (scale down with --gb). Then,
each in a fresh process, page cache warm (one untimed round first), median of --repeat rounds:
``cat`` of the shard files; the full audit with --jobs N; the audit with --sample --jobs N. It
prints the times and their ratios to cat (targets: full <= 4x, --sample <= 0.5x) and the peak
anonymous memory (RssAnon, summed over the process and its workers, sampled every 10 ms) of
the full audit of the whole checkpoint and of an index naming its first quarter (memory flat in
checkpoint size). Resident file pages are the page cache's, not the auditor's, hence RssAnon.
A fresh process that only imports what the audit imports gives the fixed start-up cost, and
each ratio is also printed without it. A last line gives the floor of any full pass on the
machine: a numpy process (no torch to import) reading every shard through a memory map on
--jobs threads, with only the five reductions of a block that the audit's pass needs (sum,
sum of squares, minimum, maximum, zeros).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

from process_measure import measure

SIDE = 4096
MATRIX = SIDE * SIDE * 4
MIB = 1 << 20
STARTUP = "import torch, safetensors, initaudit.auditor.pipeline, initaudit.report.audit_json"
AUDIT = ("import sys; from initaudit.model_command import run_model; "
         "sys.exit(run_model(sys.argv[1], output_format='json', jobs=int(sys.argv[2]), sample=sys.argv[3] == '1'))")


FLOOR = """
import json, mmap, struct, sys
from concurrent.futures import ThreadPoolExecutor
import numpy

def reduce_shard(path):
    with open(path, "rb") as handle:
        size = struct.unpack("<Q", handle.read(8))[0]
        header = json.loads(handle.read(size))
        mapped = mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ)
    for name, entry in header.items():
        if name == "__metadata__":
            continue
        start, end = entry["data_offsets"]
        values = numpy.frombuffer(mapped, numpy.float32, (end - start) // 4, 8 + size + start)
        for at in range(0, values.size, 1 << 18):
            block = values[at:at + (1 << 18)]
            block.sum(), numpy.dot(block, block), block.min(), block.max(), numpy.count_nonzero(block)

with ThreadPoolExecutor(int(sys.argv[1])) as pool:
    list(pool.map(reduce_shard, sys.argv[2:]))
"""


def make_checkpoint(directory: Path, gigabytes: float, shards: int) -> list[Path]:
    import torch

    from initaudit.auditor.load.safetensors_io import save_safetensors

    per_shard = max(1, round(gigabytes * 1e9 / shards / MATRIX))
    generator = torch.Generator().manual_seed(0)
    weight_map: dict[str, str] = {}
    files = []
    for shard in range(shards):
        tensors = {}
        for index in range(per_shard):
            layer = shard * per_shard + index
            tensors[f"layers.{layer}.weight"] = torch.empty(SIDE, SIDE).normal_(0, 0.02, generator=generator)
            tensors[f"layers.{layer}.norm.weight"] = torch.ones(SIDE)
        name = f"model-{shard + 1:05d}-of-{shards:05d}.safetensors"
        save_safetensors(tensors, directory / name)
        weight_map.update({tensor: name for tensor in tensors})
        files.append(directory / name)
        del tensors
    (directory / "model.safetensors.index.json").write_text(json.dumps({"weight_map": weight_map}))
    quarter = directory / "quarter"
    quarter.mkdir()
    kept = {name for name in {f.name for f in files[:max(1, shards // 4)]}}
    for name in kept:
        os.link(directory / name, quarter / name)
    (quarter / "model.safetensors.index.json").write_text(
        json.dumps({"weight_map": {t: f for t, f in weight_map.items() if f in kept}}))
    return files


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gb", type=float, default=10.0, help="checkpoint size in GB (default 10)")
    parser.add_argument("--shards", type=int, default=10, help="number of shard files (default 10)")
    parser.add_argument("--jobs", type=int, default=2, help="--jobs of the audits (default 2)")
    parser.add_argument("--repeat", type=int, default=2, help="timed rounds (default 2)")
    parser.add_argument("--dir", type=Path, default=None, help="where to write the checkpoint")
    options = parser.parse_args()
    free = shutil.disk_usage(options.dir or tempfile.gettempdir()).free
    if free < options.gb * 1e9 * 1.1:
        raise SystemExit(f"only {free / 1e9:.1f} GB free: pass a smaller --gb or another --dir")
    with tempfile.TemporaryDirectory(dir=options.dir) as scratch:
        directory = Path(scratch)
        started = time.perf_counter()
        files = make_checkpoint(directory, options.gb, options.shards)
        size = sum(f.stat().st_size for f in files)
        print(f"checkpoint: {len(files)} shards, {size / 1e9:.2f} GB, written in {time.perf_counter() - started:.0f} s; "
              f"{os.cpu_count()} CPUs; median of {options.repeat} warm rounds")
        jobs = str(options.jobs)
        methods = {
            "cat": ["sh", "-c", "cat " + " ".join(str(f) for f in files) + " > /dev/null"],
            "startup (imports only)": [sys.executable, "-c", STARTUP],
            f"audit --jobs {jobs}": [sys.executable, "-c", AUDIT, str(directory), jobs, "0"],
            f"audit --sample --jobs {jobs}": [sys.executable, "-c", AUDIT, str(directory), jobs, "1"],
            f"floor: numpy, {jobs} threads": [sys.executable, "-c", FLOOR, jobs, *map(str, files)],
        }
        for command in methods.values():
            measure(command)  # fills the page cache
        runs: dict[str, list[tuple[float, float, int]]] = {label: [] for label in methods}
        for _ in range(options.repeat):
            for label, command in methods.items():
                runs[label].append(measure(command))
        cat = statistics.median(r[0] for r in runs["cat"])
        startup = statistics.median(r[0] for r in runs["startup (imports only)"])
        targets = {f"audit --jobs {jobs}": 4.0, f"audit --sample --jobs {jobs}": 0.5}
        for label, results in runs.items():
            wall = statistics.median(r[0] for r in results)
            cpu = statistics.median(r[1] for r in results)
            peak = max(r[2] for r in results)
            line = f"{label:26} wall {wall:7.2f} s   cpu {cpu:7.2f} s   peak RssAnon {peak / MIB:6.0f} MiB"
            if label in targets or label.startswith("floor"):
                ratio, net = wall / cat, (wall - startup) / cat
                line += f"   {ratio:5.2f}x cat"
                if label in targets:
                    line += (f", {net:5.2f}x without startup "
                             f"(target <= {targets[label]}x: {'ok' if ratio <= targets[label] else 'over'})")
            print(line)
        quarter_size = sum(f.stat().st_size for f in (directory / "quarter").iterdir() if f.suffix == ".safetensors")
        _, _, small = measure([sys.executable, "-c", AUDIT, str(directory / "quarter"), jobs, "0"])
        big = max(r[2] for r in runs[f"audit --jobs {jobs}"])
        print(f"memory vs size: {quarter_size / 1e9:.2f} GB -> peak RssAnon {small / MIB:.0f} MiB; "
              f"{size / 1e9:.2f} GB -> {big / MIB:.0f} MiB ({big / small:.2f}x for {size / quarter_size:.1f}x the data)")


if __name__ == "__main__":
    main()
