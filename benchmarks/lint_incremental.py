"""What a warm ``initaudit check`` costs after one file of a large tree changed, against a warm
run where nothing changed (the baseline), on the same copy of the tree in one run.

    python benchmarks/lint_incremental.py [DIR] [--edits N]

DIR defaults to the installed transformers package, copied to a scratch directory so that its
files can be edited. The cache is filled by one cold run; then, alternately, a warm run with no
change and a warm run after appending a comment to one model file (a different file each time,
among those that define an ``nn.Module``): each in a fresh process with the default jobs.
Prints the median wall time of each, and the ratio changed / unchanged.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from lint_speed import installed_package_dir  # noqa: E402


def _timed(command: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
    return time.perf_counter() - start


def _model_files(tree: Path, count: int) -> list[Path]:
    """Files defining an nn.Module, spread over the tree (sorted, then every k-th)."""
    files = sorted(p for p in tree.rglob("modeling_*.py") if "nn.Module" in p.read_text(encoding="utf-8"))
    if not files:
        files = sorted(tree.rglob("*.py"))
    step = max(1, len(files) // count)
    return files[::step][:count]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("tree", nargs="?", type=Path, default=None)
    parser.add_argument("--edits", type=int, default=5, help="how many single-file edits to time")
    args = parser.parse_args()
    source = args.tree or installed_package_dir("transformers")
    if source is None:
        sys.exit("no tree given and transformers is not installed")
    with tempfile.TemporaryDirectory() as scratch:
        tree = Path(scratch) / source.name
        shutil.copytree(source, tree, ignore=shutil.ignore_patterns("__pycache__"))
        cache = Path(scratch) / "cache"
        check = [sys.executable, "-m", "initaudit", "check", str(tree), "--cache-dir", str(cache)]
        files = sum(1 for _ in tree.rglob("*.py"))
        cold = _timed(check)
        unchanged, changed = [], []
        for path in _model_files(tree, args.edits):
            unchanged.append(_timed(check))
            with path.open("a", encoding="utf-8") as handle:
                handle.write("\n# edited\n")
            changed.append(_timed(check))
        print(f"{source} copied: {files} files; cold run filling the cache {cold:.2f} s")
        print(f"warm, nothing changed (baseline): median {statistics.median(unchanged):.3f} s over {len(unchanged)}")
        print(f"warm, one model file changed:     median {statistics.median(changed):.3f} s over {len(changed)}"
              f"  (max {max(changed):.3f} s)")
        print(f"ratio changed / unchanged: {statistics.median(changed) / statistics.median(unchanged):.2f}x")


if __name__ == "__main__":
    main()
