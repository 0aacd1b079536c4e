"""Time ``initaudit check`` against TorchFix, ruff and a bare libcst parse on real corpora.

    python benchmarks/lint_speed.py [--quick] [--reps N] [--timeout S] [--site DIR] [--tools-venv DIR]
                                    [--corpora torch,...] [--no-scaling] [--only NAME,...]

Corpora that need no download: the installed torch package's ``torch/nn`` and all of ``torch``;
transformers and timm sources are added when pip can install them (``pip install --no-deps
--target``: only their files are read, nothing is imported). ``--quick`` uses ``torch/nn`` only,
with fewer repetitions.

Per corpus, each in a fresh process and repeated (median wall, peak memory of the whole process
tree sampled from /proc): ``initaudit check`` cold with ``--jobs 1`` and with the default jobs,
warm (cache populated) when the CLI has ``--cache-dir``, TorchFix and ``ruff check --select ALL``
(cold and with its cache) from a throw-away venv that the script creates (or a ``--tools-venv``
holding either; e.g. a directory whose ``bin/ruff`` links to the project venv's), and a bare
``libcst.parse_module`` of every file (timed inside its process). Every tool gets the same files:
initaudit walks the directory, the others get the file list that walk yields. A run over its time
limit is killed and reported as "did not finish in N s"; ``--only`` keeps the tools whose name
contains one of the given parts (``--only "default jobs (cold),ruff --select ALL (no cache)"``
for the ratio to ruff alone). Then a doubling series: the same files
copied 1, 2, 4, ... times (time per file must stay flat) and one real model file concatenated into
ever longer files up to ``--max-lines`` (time per line must stay flat).

initaudit's bytecode is written first, as an installed package has it, so that no run pays for
compiling its modules. Must run with the interpreter that has initaudit installed (the project's
venv).
"""

from __future__ import annotations

import argparse
import importlib.util
import io
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import tokenize
from dataclasses import dataclass, field
from pathlib import Path

INITAUDIT = [sys.executable, "-m", "initaudit"]

# Run in a child process: parses every file named in the list file argv[1] with libcst and
# prints the in-process parse time, so interpreter and libcst start-up are left out.
BARE_PARSE = r"""
import json, sys, time
import libcst
paths = open(sys.argv[1], encoding="utf-8").read().splitlines()
failures = 0
start = time.perf_counter()
for path in paths:
    with open(path, "rb") as handle:
        data = handle.read()
    try:
        libcst.parse_module(data)
    except Exception:
        failures += 1
elapsed = time.perf_counter() - start
print(json.dumps({"files": len(paths), "failures": failures, "parse_s": elapsed}))
"""


# --------------------------------------------------------------------------------------------
# Measuring one process tree
# --------------------------------------------------------------------------------------------

@dataclass
class Run:
    """One finished (or killed) child process."""
    wall: float
    peak_rss: int  # bytes: the largest sampled sum of high-water RSS over the child and its descendants
    returncode: int | None  # None when it was killed at the time limit
    stdout: str
    stderr: str

    @property
    def timed_out(self) -> bool:
        return self.returncode is None


def _children_map() -> dict[int, list[int]]:
    children: dict[int, list[int]] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat", "rb") as handle:
                stat = handle.read()
        except OSError:
            continue
        # The command name may hold spaces and parentheses: fields resume after the last ')'.
        fields = stat[stat.rfind(b")") + 2:].split()
        children.setdefault(int(fields[1]), []).append(int(entry.name))
    return children


def tree_rss(root: int) -> int:
    """Peak resident memory so far, in bytes, of ``root`` and all its descendants: the sum of
    their high-water marks (VmHWM, shared pages counted in each process, as ``ps`` does). The
    waited child's ``ru_maxrss`` is not used: Linux carries the forking parent's peak into it."""
    children = _children_map()
    total, stack = 0, [root]
    while stack:
        pid = stack.pop()
        stack.extend(children.get(pid, ()))
        try:
            with open(f"/proc/{pid}/status", "rb") as handle:
                for line in handle:
                    if line.startswith(b"VmHWM:"):
                        total += int(line.split()[1]) * 1024
                        break
        except (OSError, IndexError, ValueError):
            pass
    return total


def measure(command: list[str], timeout: float, cwd: Path | None = None) -> Run:
    """Run ``command`` in a new session; sample its process tree's RSS until it exits (every
    10 ms for the first second, every 50 ms to 10 s, then every 200 ms). Killed, with its
    whole process group, at ``timeout``."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        process = subprocess.Popen(command, stdout=out, stderr=err, cwd=cwd, start_new_session=True)
        peak, returncode = 0, None
        while True:
            pid, status = os.waitpid(process.pid, os.WNOHANG)
            if pid:
                wall = time.perf_counter() - start
                returncode = os.waitstatus_to_exitcode(status)
                process.returncode = returncode
                break
            elapsed = time.perf_counter() - start
            if elapsed > timeout:
                try:
                    os.killpg(process.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                process.wait()
                wall = time.perf_counter() - start
                break
            peak = max(peak, tree_rss(process.pid))
            time.sleep(0.01 if elapsed < 1 else 0.05 if elapsed < 10 else 0.2)
        out.seek(0)
        err.seek(0)
        return Run(wall, peak, returncode,
                   out.read().decode("utf-8", "replace"), err.read().decode("utf-8", "replace"))


# --------------------------------------------------------------------------------------------
# Corpora
# --------------------------------------------------------------------------------------------

def installed_package_dir(name: str) -> Path | None:
    """Where a top-level package is installed in this interpreter, without importing it."""
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(list(spec.submodule_search_locations)[0])


def install_sources(packages: list[str], target: Path) -> dict[str, Path]:
    """``pip install --no-deps --target`` each package not already under ``target``; returns the
    package directories that exist afterwards. Failures are reported, not fatal."""
    target.mkdir(parents=True, exist_ok=True)
    missing = [name for name in packages if not (target / name).is_dir()]
    if missing:
        print(f"pip install --no-deps --target {target} {' '.join(missing)}", flush=True)
        command = [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--target", str(target)]
        if subprocess.run(command + missing).returncode != 0:  # try them one at a time
            for name in missing:
                if subprocess.run(command + [name]).returncode != 0:
                    print(f"  {name}: could not be installed; left out", flush=True)
    return {name: target / name for name in packages if (target / name).is_dir()}


def default_excludes() -> frozenset[str]:
    try:
        from initaudit.config import DEFAULT_EXCLUDES
        return frozenset(DEFAULT_EXCLUDES)
    except ImportError:  # pragma: no cover - older initaudit
        return frozenset({".git", ".venv", "venv", "build", "dist", "__pycache__", "site-packages",
                          "node_modules"})


def python_files(root: Path, excludes: frozenset[str] | None = None) -> list[Path]:
    """The ``*.py`` files that ``initaudit check ROOT`` walks: sorted, default excludes pruned."""
    excludes = default_excludes() if excludes is None else excludes
    found: list[Path] = []

    def walk(directory: Path) -> None:
        try:
            entries = sorted(os.scandir(directory), key=lambda entry: entry.name)
        except OSError:
            return
        for entry in entries:
            if entry.name in excludes:
                continue
            if entry.is_dir(follow_symlinks=False):
                walk(Path(entry.path))
            elif entry.is_file() and entry.name.endswith(".py"):
                found.append(Path(entry.path))

    walk(root)
    return found


def count_lines(files: list[Path]) -> int:
    total = 0
    for path in files:
        with open(path, "rb") as handle:
            total += handle.read().count(b"\n")
    return total


@dataclass
class Corpus:
    name: str
    root: Path
    files: list[Path] = field(default_factory=list)
    lines: int = 0
    list_file: Path | None = None

    def prepare(self, scratch: Path) -> None:
        self.files = python_files(self.root)
        self.lines = count_lines(self.files)
        self.list_file = scratch / f"{self.name.replace('/', '_')}.files"
        self.list_file.write_text("\n".join(str(p) for p in self.files) + "\n", encoding="utf-8")


# --------------------------------------------------------------------------------------------
# Tools
# --------------------------------------------------------------------------------------------

def initaudit_flags() -> set[str]:
    """The long options ``initaudit check --help`` lists."""
    text = subprocess.run(INITAUDIT + ["check", "--help"], capture_output=True, text=True).stdout
    return {word.rstrip(",=") for word in text.split() if word.startswith("--")}


def make_tools_venv(directory: Path) -> Path | None:
    """A throw-away venv with TorchFix and ruff; returns its bin directory, None on failure. A
    directory that has either already is used as it is (the other tool is left out)."""
    bin_dir = directory / "bin"
    if (bin_dir / "torchfix").exists() or (bin_dir / "ruff").exists():
        return bin_dir
    print(f"creating {directory} with torchfix and ruff ...", flush=True)
    if subprocess.run([sys.executable, "-m", "venv", "--clear", str(directory)]).returncode != 0:
        return None
    done = subprocess.run([str(bin_dir / "python"), "-m", "pip", "install", "--quiet", "torchfix", "ruff"])
    return bin_dir if done.returncode == 0 else None


def tool_version(command: list[str]) -> str:
    try:
        result = subprocess.run(command, capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired):
        return "?"
    return (result.stdout or result.stderr).strip().splitlines()[0] if (result.stdout or result.stderr) else "?"


@dataclass
class Tool:
    name: str
    command: list[str]
    setup: list[str] | None = None  # run once, untimed, before the repetitions (cache fill)
    parse_output: bool = False  # bare parse: the in-process time is in stdout


@dataclass
class Result:
    tool: str
    runs: list[Run]
    note: str = ""
    timeout: float = 0.0
    inner: list[float] = field(default_factory=list)  # bare parse: in-process seconds

    @property
    def finished(self) -> list[Run]:
        return [run for run in self.runs if not run.timed_out]

    @property
    def wall(self) -> float | None:
        done = self.finished
        return statistics.median(run.wall for run in done) if done and len(done) == len(self.runs) else None

    @property
    def time(self) -> float | None:
        """The number the ratios use: in-process time for the bare parse, else the wall."""
        if self.inner:
            return statistics.median(self.inner)
        return self.wall

    @property
    def peak(self) -> int:
        return max((run.peak_rss for run in self.runs), default=0)


def tools_for(corpus: Corpus, scratch: Path, tools_bin: Path | None, flags: set[str],
              only: list[str] | None = None) -> tuple[list[Tool], list[str]]:
    notes: list[str] = []
    assert corpus.list_file is not None
    files = [str(p) for p in corpus.files]
    check = INITAUDIT + ["check", str(corpus.root), "--format", "json"]
    cold = ["--no-cache"] if "--no-cache" in flags else []
    tools = [Tool("initaudit --jobs 1 (cold)", check + ["--jobs", "1"] + cold),
             Tool("initaudit default jobs (cold)", check + cold)]
    if "--cache-dir" in flags:
        cache = scratch / f"initaudit-cache-{corpus.name.replace('/', '_')}"
        shutil.rmtree(cache, ignore_errors=True)
        warm = check + ["--cache-dir", str(cache)]
        tools.append(Tool("initaudit default jobs (warm)", warm, setup=warm))
    else:
        notes.append("initaudit warm: skipped, `initaudit check` has no --cache-dir option yet")
    if "--no-cache" not in flags:
        notes.append("initaudit cold: `initaudit check` has no --no-cache option; every run is cold")
    if tools_bin is not None and (tools_bin / "torchfix").exists():
        tools.append(Tool("torchfix", [str(tools_bin / "torchfix")] + files))
    if tools_bin is not None and (tools_bin / "ruff").exists():
        ruff = [str(tools_bin / "ruff"), "check", "--isolated", "--select", "ALL", "--exit-zero",
                "--output-format", "concise"]
        tools.append(Tool("ruff --select ALL (no cache)", ruff + ["--no-cache"] + files))
        ruff_cache = scratch / f"ruff-cache-{corpus.name.replace('/', '_')}"
        shutil.rmtree(ruff_cache, ignore_errors=True)
        warm_ruff = ruff + ["--cache-dir", str(ruff_cache)] + files
        tools.append(Tool("ruff --select ALL (warm cache)", warm_ruff, setup=warm_ruff))
    else:
        notes.append("torchfix/ruff: left out (--no-tools, or their venv could not be created)")
    tools.append(Tool("bare libcst parse", [sys.executable, "-c", BARE_PARSE, str(corpus.list_file)],
                      parse_output=True))
    if only:
        left_out = [tool.name for tool in tools if not any(part in tool.name for part in only)]
        tools = [tool for tool in tools if tool.name not in left_out]
        notes.append(f"left out (--only): {', '.join(left_out)}")
    return tools, notes


def run_tool(tool: Tool, reps: int, timeout: float, skip: str = "") -> Result:
    result = Result(tool.name, [], timeout=timeout)
    if skip:
        result.note = skip
        return result
    if tool.setup is not None:
        fill = measure(tool.setup, timeout)
        if fill.timed_out:
            result.runs.append(fill)
            result.note = f"cache fill did not finish in {timeout:.0f} s"
            return result
    for _ in range(reps):
        run = measure(tool.command, timeout)
        result.runs.append(run)
        if run.timed_out:
            result.note = f"did not finish in {timeout:.0f} s"
            break
        if run.returncode not in (0, 1):
            result.note = f"exit {run.returncode}: {run.stderr.strip().splitlines()[-1:] or ''}"
        if tool.parse_output:
            try:
                result.inner.append(json.loads(run.stdout.strip().splitlines()[-1])["parse_s"])
            except (ValueError, IndexError, KeyError):
                result.note = "bare parse printed no timing"
    return result


def initaudit_summary(run: Run) -> dict:
    try:
        return json.loads(run.stdout).get("summary", {})
    except ValueError:
        return {}


# --------------------------------------------------------------------------------------------
# Output
# --------------------------------------------------------------------------------------------

def fmt_s(value: float | None, result: Result | None = None) -> str:
    if value is None:
        if result is not None and result.runs and result.runs[-1].timed_out:
            return f"DNF>{result.timeout:.0f}s"
        return "-"
    return f"{value:.2f}s" if value < 100 else f"{value:.0f}s"


def fmt_mib(value: int) -> str:
    return f"{value / 2**20:.0f} MiB" if value else "-"


def ratio(numerator: Result | None, denominator: Result | None) -> str:
    if numerator is None or denominator is None:
        return "n/a"
    a, b = numerator.time, denominator.time
    if a is None and b is None:
        return "n/a (neither finished)"
    if a is None:
        return f"> {numerator.timeout / b:.2f} ({numerator.tool} did not finish in {numerator.timeout:.0f} s)"
    if b is None:
        return f"< {a / denominator.timeout:.3f} ({denominator.tool} did not finish in {denominator.timeout:.0f} s)"
    return f"{a / b:.2f}"


def report_corpus(corpus: Corpus, results: list[Result], notes: list[str]) -> None:
    print(f"\n== {corpus.name}: {len(corpus.files)} files, {corpus.lines:,} lines ({corpus.root})")
    width = max(len(r.tool) for r in results) + 2
    print(f"  {'tool':<{width}}{'median':>10}{'min':>10}{'max':>10}{'reps':>6}{'peak RSS':>11}  note")
    for result in results:
        done = result.finished
        walls = [run.wall for run in done]
        median = fmt_s(result.wall, result)
        extra = ""
        if result.inner:
            extra = f"in-process parse {statistics.median(result.inner):.2f}s (ratios use this)"
        print(f"  {result.tool:<{width}}{median:>10}{fmt_s(min(walls) if walls else None):>10}"
              f"{fmt_s(max(walls) if walls else None):>10}{len(result.runs):>6}{fmt_mib(result.peak):>11}"
              f"  {'; '.join(x for x in (result.note, extra) if x)}")
    first = next((r for r in results if r.tool.startswith("initaudit --jobs 1") and r.finished), None)
    if first is not None:
        summary = initaudit_summary(first.finished[0])
        if summary:
            print(f"  initaudit summary: {summary}")
            if summary.get("files") not in (None, len(corpus.files)):
                print(f"  WARNING: initaudit checked {summary['files']} files, the walk found {len(corpus.files)}")
    for note in notes:
        print(f"  note: {note}")
    by_name = {r.tool: r for r in results}
    jobs1 = by_name.get("initaudit --jobs 1 (cold)")
    jobsn = by_name.get("initaudit default jobs (cold)")
    warm = by_name.get("initaudit default jobs (warm)")
    print("  ratios (lower is better for initaudit; time = median wall, bare parse = in-process):")
    print(f"    initaudit default jobs cold / torchfix        = {ratio(jobsn, by_name.get('torchfix'))}")
    ruff_cold = by_name.get("ruff --select ALL (no cache)")
    ruff_warm = by_name.get("ruff --select ALL (warm cache)")
    print(f"    initaudit default jobs cold / ruff (no cache) = {ratio(jobsn, ruff_cold)}")
    if warm is not None:
        print(f"    initaudit warm / ruff (warm cache)            = {ratio(warm, ruff_warm)}")
    print(f"    initaudit --jobs 1 cold / bare libcst parse   = {ratio(jobs1, by_name.get('bare libcst parse'))}")
    print(f"    default jobs ({os.cpu_count()}) / --jobs 1, cold       = {ratio(jobsn, jobs1)}"
          f"  (speed-up {ratio(jobs1, jobsn)}x)")


# --------------------------------------------------------------------------------------------
# Scaling series
# --------------------------------------------------------------------------------------------

def top_level_names(source: str) -> set[str]:
    import ast
    names: set[str] = set()
    for node in ast.parse(source).body:
        if isinstance(node, (ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            names.add(node.name)
    return names


def renamed_copy(source: str, names: set[str], suffix: str) -> str:
    """``source`` with every bare reference to one of its top-level classes/functions renamed
    (``Foo`` -> ``Foo_c3``; attribute accesses such as ``nn.Foo`` left alone), so concatenated
    copies define distinct classes instead of redefining one, and with ``from __future__`` lines
    dropped (they are only legal at the top of a file)."""
    edits: list[tuple[int, int, int]] = []  # (row, col, length)
    previous = None
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        if token.type == tokenize.NAME and token.string in names and not (
                previous is not None and previous.type == tokenize.OP and previous.string == "."):
            edits.append((token.start[0], token.start[1], len(token.string)))
        if token.type not in (tokenize.NL, tokenize.NEWLINE, tokenize.COMMENT, tokenize.INDENT,
                              tokenize.DEDENT):
            previous = token
    lines = source.splitlines(keepends=True)
    for row, col, length in reversed(edits):
        line = lines[row - 1]
        lines[row - 1] = line[:col + length] + suffix + line[col + length:]
    return "".join(line for line in lines if not line.startswith("from __future__ import"))


def build_file_series(files: list[Path], directory: Path, copies: list[int]) -> list[tuple[int, Path]]:
    """Directories holding ``files`` copied 1, 2, 4, ... times (same content each copy)."""
    series = []
    for count in copies:
        root = directory / f"files_x{count}"
        shutil.rmtree(root, ignore_errors=True)
        for index in range(count):
            sub = root / f"copy{index}"
            sub.mkdir(parents=True)
            for number, path in enumerate(files):
                shutil.copyfile(path, sub / f"{number:03d}_{path.name}")
        series.append((count, root))
    return series


def build_size_series(model_file: Path, directory: Path, max_lines: int) -> list[tuple[int, Path]]:
    """One file made of 1, 2, 4, ... renamed copies of ``model_file``, up to ``max_lines``."""
    source = model_file.read_text(encoding="utf-8")
    names = top_level_names(source)
    base_lines = source.count("\n")
    series, count = [], 1
    while True:
        parts = [source] + [renamed_copy(source, names, f"_c{i}") for i in range(1, count)]
        text = "\n".join(parts)
        compile(text, str(model_file), "exec", dont_inherit=True, flags=0x400)  # PyCF_ONLY_AST
        path = directory / f"size_x{count}" / model_file.name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        series.append((count, path))
        if base_lines * count * 2 > max_lines * 1.2:
            break
        count *= 2
    return series


def scaling(label: str, series: list[tuple[int, Path]], unit: str, reps: int, timeout: float,
            flags: set[str]) -> None:
    print(f"\n== scaling with {label} (initaudit check --jobs 1, median of {reps})")
    print(f"  {'copies':>6}{'files':>7}{'lines':>9}{'wall':>10}{'ms/' + unit:>12}{'x prev':>9}{'peak RSS':>11}")
    previous = None
    for count, path in series:
        files = python_files(path) if path.is_dir() else [path]
        lines = count_lines(files)
        command = INITAUDIT + ["check", str(path), "--format", "json", "--jobs", "1"]
        command += ["--no-cache"] if "--no-cache" in flags else []
        runs = []
        for _ in range(reps):
            runs.append(measure(command, timeout))
            if runs[-1].timed_out:
                break
        if runs[-1].timed_out:
            print(f"  {count:>6}{len(files):>7}{lines:>9}  did not finish in {timeout:.0f} s; series stopped")
            return
        wall = statistics.median(run.wall for run in runs)
        per = wall * 1000 / (len(files) if unit == "file" else lines / 1000)
        growth = f"{wall / previous:.2f}" if previous else "-"
        print(f"  {count:>6}{len(files):>7}{lines:>9}{fmt_s(wall):>10}{per:>12.2f}{growth:>9}"
              f"{fmt_mib(max(r.peak_rss for r in runs)):>11}")
        previous = wall
    print(f"  (linear: 'x prev' ~ 2.0 as the input doubles, so ms/{unit} stays flat; start-up"
          " makes the first rows cheaper per unit)")


# --------------------------------------------------------------------------------------------

def compile_initaudit() -> None:
    """Write initaudit's bytecode, as an installed package has it. An editable install under
    PYTHONDONTWRITEBYTECODE would otherwise compile every module again at each start (about
    0.2 s), which the installed libcst that the bare parse imports never does."""
    package = importlib.util.find_spec("initaudit")
    if package is not None and package.submodule_search_locations:
        import compileall

        for location in package.submodule_search_locations:
            compileall.compile_dir(location, quiet=1)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true",
                        help="torch/nn only, 2 repetitions, a short scaling series")
    parser.add_argument("--reps", type=int, default=None,
                        help="repetitions on torch/nn (default 3; 2 with --quick)")
    parser.add_argument("--other-reps", type=int, default=1,
                        help="repetitions on the larger corpora: torch, transformers, timm (default 1)")
    parser.add_argument("--timeout", type=float, default=120.0,
                        help="time limit of one tool run on torch/nn in seconds (default 120)")
    parser.add_argument("--other-timeout", type=float, default=300.0,
                        help="time limit of one tool run on the larger corpora (default 300)")
    parser.add_argument("--corpora", default=None,
                        help="comma list from torch/nn,torch,transformers,timm "
                             "(default: all; torch/nn with --quick)")
    parser.add_argument("--site", type=Path, default=None,
                        help="target dir for `pip install --no-deps --target` of transformers/timm "
                             "(default: a temporary dir, removed afterwards)")
    parser.add_argument("--tools-venv", type=Path, default=None,
                        help="venv for torchfix and ruff (created if missing; default: temporary)")
    parser.add_argument("--no-tools", action="store_true", help="leave out TorchFix and ruff")
    parser.add_argument("--no-scaling", action="store_true", help="leave out the doubling series")
    parser.add_argument("--only", default=None,
                        help="comma list: run only the tools whose name contains one of these "
                             "(e.g. 'default jobs (cold),ruff --select ALL (no cache)')")
    parser.add_argument("--series-files", type=int, default=8,
                        help="files of torch/nn/modules in one copy of the file-count series (default 8)")
    parser.add_argument("--max-lines", type=int, default=50_000,
                        help="the file-size series stops at about this many lines (default 50000)")
    args = parser.parse_args(argv)
    reps = args.reps or (2 if args.quick else 3)
    wanted = (args.corpora or ("torch/nn" if args.quick else "torch/nn,torch,transformers,timm")).split(",")

    torch_dir = installed_package_dir("torch")
    if torch_dir is None:
        parser.error("torch is not installed in this interpreter; its sources are the base corpus")

    compile_initaudit()
    scratch = Path(tempfile.mkdtemp(prefix="initaudit-lint-speed-"))
    site = args.site.resolve() if args.site else scratch / "site"
    tools_venv = args.tools_venv.resolve() if args.tools_venv else scratch / "tools-venv"
    here = Path.cwd()
    os.chdir(scratch)  # no project configuration or default cache directory applies to the runs
    try:
        print(f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs, load average "
              f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}")
        flags = initaudit_flags()
        print(f"initaudit: {tool_version(INITAUDIT + ['--version'])}; check options: "
              f"--no-cache {'yes' if '--no-cache' in flags else 'no'}, "
              f"--cache-dir {'yes' if '--cache-dir' in flags else 'no'}")
        tools_bin = None
        if not args.no_tools:
            tools_bin = make_tools_venv(tools_venv)
            if tools_bin is not None:
                print("; ".join(f"{name}: {tool_version([str(tools_bin / name), '--version'])}"
                                for name in ("torchfix", "ruff") if (tools_bin / name).exists()))
        corpora: list[Corpus] = []
        for name in wanted:
            if name == "torch/nn":
                corpora.append(Corpus(name, torch_dir / "nn"))
            elif name == "torch":
                corpora.append(Corpus(name, torch_dir))
            else:
                found = installed_package_dir(name)
                if found is None:
                    found = install_sources([name], site).get(name)
                if found is None:
                    print(f"{name}: not installable here; left out")
                    continue
                corpora.append(Corpus(name, found))
        for corpus in corpora:
            corpus.prepare(scratch)
            tools, notes = tools_for(corpus, scratch, tools_bin, flags, args.only.split(",") if args.only else None)
            count = reps if corpus.name == "torch/nn" else args.other_reps
            limit = args.timeout if corpus.name == "torch/nn" else args.other_timeout
            results: list[Result] = []
            for tool in tools:
                skip = ""
                cold = next((r for r in results if r.tool == "initaudit default jobs (cold)"), None)
                if tool.setup is not None and tool.name.startswith("initaudit") and cold is not None \
                        and cold.wall is None:
                    skip = f"skipped: the cold run did not finish in {limit:.0f} s, nor would the cache fill"
                print(f"  [{corpus.name}] {tool.name} x{count} ...", flush=True)
                results.append(run_tool(tool, count, limit, skip))
            report_corpus(corpus, results, notes)

        if not args.no_scaling:
            modules = sorted(python_files(torch_dir / "nn" / "modules"))[:args.series_files]
            copies = [1, 2, 4] if args.quick else [1, 2, 4, 8]
            scaling(f"file count (the first {len(modules)} files of torch/nn/modules, copied N times)",
                    build_file_series(modules, scratch / "scaling", copies), "file",
                    1, args.timeout * 2, flags)
            model = torch_dir / "nn" / "modules" / "transformer.py"
            scaling(f"file size ({model.relative_to(torch_dir.parent)} concatenated N times, renamed)",
                    build_size_series(model, scratch / "scaling", args.max_lines // (4 if args.quick else 1)),
                    "kline", 1, args.timeout * 2, flags)
    finally:
        os.chdir(here)
        shutil.rmtree(scratch, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
