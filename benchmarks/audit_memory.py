"""Peak memory of ``initaudit model pkg.mod:factory`` against the model's own size.

    python benchmarks/audit_memory.py [--models bert_base,vgg11]

For each stock architecture (``benchmarks/model_factories.py``: BERT-base from transformers'
default BertConfig, torchvision's VGG-11), two fresh processes run: the baseline, which only
builds the model, and the audit of the same factory (``run_model``, JSON report discarded).
Each reports its peak resident set (VmHWM from /proc/self/status). The target is
peak <= 1.5 x the fp32 model + 300 MiB.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
MIB = 1024 * 1024
CHILD = """
import contextlib, io, json, os, sys
sys.path.insert(0, {here!r})
mode, name = sys.argv[1], sys.argv[2]
if mode == "build":
    import model_factories
    model = getattr(model_factories, name)()
    size = sum(p.numel() for p in model.parameters()) * 4
    del model
else:
    from initaudit.model_command import run_model
    os.chdir({here!r})
    with contextlib.redirect_stdout(io.StringIO()):
        status = run_model(factory="model_factories:" + name, output_format="json")
    assert status in (0, 1), status
    size = None
peak = next(int(line.split()[1]) * 1024 for line in open("/proc/self/status") if line.startswith("VmHWM:"))
print(json.dumps({{"peak": peak, "size": size}}))
"""


def run(mode: str, name: str) -> dict[str, int | None]:
    child = CHILD.format(here=str(HERE))
    done = subprocess.run([sys.executable, "-c", child, mode, name], capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"{mode} {name} failed:\n{done.stderr[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", default="bert_base,vgg11", help="factories in model_factories.py")
    options = parser.parse_args()
    for name in options.models.split(","):
        built = run("build", name)
        audited = run("audit", name)
        size = int(built["size"] or 0)
        bound = 1.5 * size + 300 * MIB
        peak = int(audited["peak"] or 0)
        print(f"{name:10} fp32 model {size / MIB:7.0f} MiB   build only {int(built['peak'] or 0) / MIB:7.0f} MiB   "
              f"audit {peak / MIB:7.0f} MiB   audit/model {peak / size:.2f}x   "
              f"bound 1.5x+300 MiB = {bound / MIB:.0f} MiB ({'ok' if peak <= bound else 'over'})")


if __name__ == "__main__":
    main()
