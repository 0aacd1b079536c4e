"""Lint the installed sources of mature model libraries and count what ``initaudit check`` says.

    python benchmarks/lint_corpus.py [--packages transformers,timm,...] [--site DIR]
                                     [--findings FILE] [--jobs N] [--timeout S]

Packages (default: transformers, timm, torchvision, diffusers, peft, torch) are taken from this
interpreter when installed, else installed with ``pip install --no-deps --target DIR`` (only their
files are read, never imported, so torchvision's sources are lintable even where its binary does
not load beside this torch, and no dependency such as torch is pulled in). Each package directory
is checked with ``initaudit check DIR --format json`` in a subprocess of this interpreter (the
project's venv), from an empty working directory so that no project configuration applies.

Prints, per package: files, lines, wall time, peak memory of the process tree, and findings by
code split by severity; writes every warning/error finding as ``path:line:col: CODE severity
message`` to ``--findings`` (default: ``lint_corpus_findings.txt`` in the temporary directory),
for a reviewer to judge. Exit status 0 unless a check failed to run (exit 2 or timeout).
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import shutil
import sys
import tempfile
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from lint_speed import (INITAUDIT, count_lines, fmt_mib, initaudit_flags,  # noqa: E402
                        install_sources, installed_package_dir, measure, python_files, tool_version)

DEFAULT_PACKAGES = ("transformers", "timm", "torchvision", "diffusers", "peft", "torch")
SEVERITIES = ("error", "warning", "info")


@dataclass
class PackageResult:
    name: str
    root: Path
    version: str
    source: str  # "environment" or "pip --target"
    files: int = 0
    lines: int = 0
    wall: float = 0.0
    peak_rss: int = 0
    status: str = "ok"
    summary: dict = field(default_factory=dict)
    diagnostics: list[dict] = field(default_factory=list)

    def counts(self) -> collections.Counter[tuple[str, str]]:
        return collections.Counter((d["code"], d["severity"]) for d in self.diagnostics)


def version_of(name: str, root: Path) -> str:
    """The distribution version: from a ``*.dist-info`` beside ``root`` (``--target`` installs),
    else from this interpreter's metadata."""
    for info in sorted(root.parent.glob(f"{name}-*.dist-info")):
        return info.name[len(name) + 1:-len(".dist-info")]
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "?"


def locate(packages: list[str], site: Path) -> list[PackageResult]:
    found: list[PackageResult] = []
    missing: list[str] = []
    for name in packages:
        root = installed_package_dir(name)
        if root is not None:
            found.append(PackageResult(name, root, version_of(name, root), "environment"))
        else:
            missing.append(name)
    installed = install_sources(missing, site) if missing else {}
    for name in missing:
        if name in installed:
            found.append(PackageResult(name, installed[name], version_of(name, installed[name]),
                                       "pip --target"))
        else:
            print(f"{name}: not installable here; left out", flush=True)
    order = {name: index for index, name in enumerate(packages)}
    return sorted(found, key=lambda result: order[result.name])


def check(result: PackageResult, jobs: int | None, timeout: float, workdir: Path, no_cache: bool) -> None:
    files = python_files(result.root)
    result.files, result.lines = len(files), count_lines(files)
    command = INITAUDIT + ["check", str(result.root), "--format", "json"]
    if no_cache:
        command.append("--no-cache")
    if jobs:
        command += ["--jobs", str(jobs)]
    print(f"  {result.name} {result.version} ({result.files} files, {result.lines:,} lines) ...",
          flush=True)
    run = measure(command, timeout, cwd=workdir)
    result.wall, result.peak_rss = run.wall, run.peak_rss
    if run.timed_out:
        result.status = f"did not finish in {timeout:.0f} s"
        return
    if run.returncode not in (0, 1):
        result.status = f"exit {run.returncode}: {run.stderr.strip()[-300:]}"
    try:
        report = json.loads(run.stdout)
    except ValueError:
        result.status = f"exit {run.returncode}, no JSON on stdout: {run.stderr.strip()[-300:]}"
        return
    result.summary = report.get("summary", {})
    result.diagnostics = report.get("diagnostics", [])
    print(f"    {run.wall:.1f} s, {len(result.diagnostics)} findings", flush=True)


def print_table(results: list[PackageResult]) -> None:
    codes = sorted({code for r in results for code, _ in r.counts()})
    print("\n== per package (findings as error/warning/info)")
    head = f"{'package':<14}{'version':<10}{'files':>7}{'lines':>11}{'time':>9}{'peak RSS':>10}"
    print(head + "".join(f"{code:>13}" for code in codes) + "  status")
    totals = collections.Counter()
    for r in results:
        counts = r.counts()
        totals.update(counts)
        cells = "".join(f"{'/'.join(str(counts[(code, s)]) for s in SEVERITIES):>13}" for code in codes)
        time = f"{r.wall:.1f}s" if r.status == "ok" or r.diagnostics else "-"
        print(f"{r.name:<14}{r.version:<10}{r.files:>7}{r.lines:>11,}{time:>9}{fmt_mib(r.peak_rss):>10}"
              f"{cells}  {r.status}")
    cells = "".join(f"{'/'.join(str(totals[(code, s)]) for s in SEVERITIES):>13}" for code in codes)
    print(f"{'total':<24}{sum(r.files for r in results):>7}{sum(r.lines for r in results):>11,}"
          f"{sum(r.wall for r in results):>8.1f}s{'':>10}{cells}")
    if not codes:
        print("(no findings at all)")
    for r in results:
        parsed = r.summary.get("parsed")
        if r.summary and (r.summary.get("files") != r.files or r.summary.get("errors")):
            print(f"note: {r.name}: initaudit summary {r.summary} (the walk found {r.files} files)")
        elif parsed is not None:
            print(f"{r.name}: {r.summary.get('files')} files checked, {parsed} parsed, "
                  f"{r.summary.get('skipped')} not analysed (internal error) ({r.source}: {r.root})")


def write_findings(results: list[PackageResult], path: Path) -> int:
    lines: list[str] = []
    for r in results:
        base = r.root.parent
        for d in r.diagnostics:
            if d["severity"] == "info":
                continue
            try:
                shown = Path(d["path"]).resolve().relative_to(base.resolve())
            except ValueError:
                shown = Path(d["path"])
            lines.append(f"{shown}:{d['line']}:{d['column']}: {d['code']} {d['severity']} {d['message']}")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    return len(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--packages", default=",".join(DEFAULT_PACKAGES),
                        help=f"comma list (default: {','.join(DEFAULT_PACKAGES)})")
    parser.add_argument("--site", type=Path, default=None,
                        help="target dir for `pip install --no-deps --target` (reused when it already "
                             "holds a package; default: a temporary dir, removed afterwards)")
    parser.add_argument("--findings", type=Path, default=None,
                        help="where to write warning/error findings (default: "
                             f"{Path(tempfile.gettempdir()) / 'lint_corpus_findings.txt'})")
    parser.add_argument("--json", type=Path, default=None,
                        help="also write all results (every finding, info included) as JSON here")
    parser.add_argument("--jobs", type=int, default=None, help="--jobs for initaudit (default: its own)")
    parser.add_argument("--timeout", type=float, default=3600.0,
                        help="time limit per package in seconds (default 3600)")
    args = parser.parse_args(argv)
    packages = [name.strip() for name in args.packages.split(",") if name.strip()]
    default_findings = Path(tempfile.gettempdir()) / "lint_corpus_findings.txt"
    findings_path = args.findings.resolve() if args.findings else default_findings

    scratch = Path(tempfile.mkdtemp(prefix="initaudit-lint-corpus-"))
    try:
        print(f"{tool_version(INITAUDIT + ['--version'])}, python {sys.version.split()[0]}, "
              f"{os.cpu_count()} CPUs")
        no_cache = "--no-cache" in initaudit_flags()  # every package is checked cold
        results = locate(packages, args.site.resolve() if args.site else scratch / "site")
        workdir = scratch / "cwd"
        workdir.mkdir()
        for index, result in enumerate(results):
            check(result, args.jobs, args.timeout, workdir, no_cache)
            write_findings(results[:index + 1], findings_path)  # usable while later ones run
        print_table(results)
        written = write_findings(results, findings_path)
        print(f"\n{written} warning/error findings written to {findings_path}")
        if args.json:
            args.json.write_text(json.dumps([{
                "package": r.name, "version": r.version, "root": str(r.root), "files": r.files,
                "lines": r.lines, "wall_s": r.wall, "peak_rss": r.peak_rss, "status": r.status,
                "summary": r.summary, "diagnostics": r.diagnostics} for r in results], indent=1),
                encoding="utf-8")
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return 0 if all(r.status == "ok" for r in results) else 2


if __name__ == "__main__":
    sys.exit(main())
