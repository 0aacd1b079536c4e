"""Peak memory and time of ``initaudit model`` on a Llama-7B-sized factory.

    python benchmarks/audit_7b.py [--factory llama_7b] [--low-memory]

``model_factories:llama_7b`` is transformers' LlamaForCausalLM at LlamaConfig's defaults
(hidden 4096, 32 layers, 6.7 B parameters: 25 GiB at fp32). The audit runs in a fresh process
(JSON report kept for its notes); without --low-memory the auditor chooses the per-module path
itself, the model being larger than half the available memory. Printed: the fp32 size, peak
resident set (VmHWM), wall and CPU time, the auditor's notes, and the target (<= 4 GiB).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
GIB = 1 << 30
CHILD = """
import contextlib, io, json, os, resource, sys
os.chdir({here!r}); sys.path.insert(0, {here!r})
from initaudit.model_command import run_model
report = io.StringIO()
with contextlib.redirect_stdout(report):
    status = run_model(factory="model_factories:" + sys.argv[1], output_format="json", low_memory=sys.argv[2] == "1")
peak = next(int(line.split()[1]) * 1024 for line in open("/proc/self/status") if line.startswith("VmHWM:"))
usage = resource.getrusage(resource.RUSAGE_SELF)
document = json.loads(report.getvalue())
print(json.dumps({{"status": status, "peak": peak, "cpu": usage.ru_utime + usage.ru_stime,
                  "parameters": sum(1 for _ in document["parameters"]),
                  "elements": sum(__import__("math").prod(p["shape"]) for p in document["parameters"]),
                  "notes": document["notes"], "findings": len(document["findings"])}}))
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--factory", default="llama_7b", help="a factory in model_factories.py")
    parser.add_argument("--low-memory", action="store_true", help="force the per-module path")
    options = parser.parse_args()
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", CHILD.format(here=str(HERE)), options.factory,
                           "1" if options.low_memory else "0"], capture_output=True, text=True, check=False)
    wall = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"audit failed:\n{done.stderr[-3000:]}")
    result = json.loads(done.stdout.strip().splitlines()[-1])
    size = result["elements"] * 4
    print(f"{options.factory}: {result['elements'] / 1e9:.2f} B parameters in {result['parameters']} tensors, "
          f"{size / GIB:.1f} GiB at fp32; exit {result['status']}, {result['findings']} findings")
    print(f"peak RSS {result['peak'] / GIB:.2f} GiB (target <= 4 GiB: {'ok' if result['peak'] <= 4 * GIB else 'over'}), "
          f"{result['peak'] / size:.3f}x the fp32 model; wall {wall:.0f} s, cpu {result['cpu']:.0f} s")
    for note in result["notes"]:
        print(f"note: {note}")


if __name__ == "__main__":
    main()
