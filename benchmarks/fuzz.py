"""Fuzz ``initaudit check`` and ``initaudit model`` with mutated sources, notebooks and checkpoints.

    python benchmarks/fuzz.py [--seed 0] [--budget-seconds 300] [--files 5000] [--keep DIR]

Sources are the project's examples and package and torch/nn from the installed torch, mutated at
the byte, token and structure level (deprecated init calls and noqa comments, so that --fix has
work), some wrapped into notebooks and mutated as JSON. Checkpoints are built from a small model
in every format the auditor reads, then corrupted or made hostile (pickles that run code,
TorchScript whose __setstate__ writes a file, shard indexes pointing elsewhere). Each input runs
in a fresh child process with a timeout and a 4 GiB address-space limit; the run stops starting
new inputs when the budget is spent. Failures (crash, hang, fix damage, code executed, write
outside the output, huge memory) are printed with one line of cause each and, with --keep, saved
with the commands that reproduce them. Exit status 1 when anything failed.
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.fuzz.campaign import Settings, run_campaign  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--budget-seconds", type=float, default=300.0, help="stop starting inputs after this")
    parser.add_argument("--files", type=int, default=5000, help="inputs to generate at most")
    parser.add_argument("--keep", type=Path, help="save each failing input and its cause here")
    parser.add_argument("--jobs", type=int, default=2, help="inputs run in parallel (default 2)")
    parser.add_argument("--no-checkpoints", action="store_true", help="fuzz the linter only")
    parser.add_argument("--max-source-bytes", type=int, default=200_000,
                        help="skip corpus files larger than this")
    args = parser.parse_args()
    checkpoints = not args.no_checkpoints and importlib.util.find_spec("torch") is not None
    if not checkpoints:
        print("checkpoints: not fuzzed (torch is not installed or --no-checkpoints)")
    results = run_campaign(Settings(seed=args.seed, files=args.files, budget_seconds=args.budget_seconds,
                                    jobs=args.jobs, checkpoints=checkpoints,
                                    max_source_bytes=args.max_source_bytes, keep=args.keep))
    print(results.report())
    sys.exit(1 if results.failures else 0)


if __name__ == "__main__":
    main()
