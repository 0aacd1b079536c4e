"""The ``initaudit`` command: check, model, rule, rules."""

from __future__ import annotations

import contextlib
import difflib
import os
import signal
import sys
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Iterable

import click

from initaudit import __version__
from initaudit.config import Config, ConfigError, load_config, parse_code_list
from initaudit.report.printable import printable

if TYPE_CHECKING:
    from initaudit.lint.cache import ResultCache

EXIT_CLEAN, EXIT_FINDINGS, EXIT_ERROR = 0, 1, 2
#: ``--output-format`` values; ``text`` is accepted as the former name of ``full``.
FORMATS = ("full", "concise", "json", "json-lines", "sarif", "github", "gitlab", "junit")


def _error(message: str) -> None:
    click.echo(f"initaudit: error: {printable(message)}", err=True)


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised like Ctrl-C's KeyboardInterrupt so that it unwinds the same way: every
    ``finally`` runs (temporary files removed, worker processes stopped) and code that lets a
    KeyboardInterrupt through lets this through too."""


class _Commands(click.Group):
    """Exits 130 on SIGINT and 143 on SIGTERM, without a traceback; click alone would print
    "Aborted!" and exit 1."""

    def invoke(self, context: click.Context):
        restore = _raise_on_sigterm()
        try:
            return super().invoke(context)
        except Terminated:
            raise SystemExit(128 + signal.SIGTERM) from None
        except KeyboardInterrupt:
            raise SystemExit(128 + signal.SIGINT) from None
        finally:
            restore()


def _raise_on_sigterm() -> Callable[[], object]:
    """Install the SIGTERM handler; returns what puts the previous one back."""
    if threading.current_thread() is not threading.main_thread():
        return lambda: None  # handlers can only be set there

    def terminate(signum: int, frame: object) -> None:
        raise Terminated

    previous = signal.signal(signal.SIGTERM, terminate)
    return lambda: signal.signal(signal.SIGTERM, previous)


@click.group(cls=_Commands, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="initaudit")
def main() -> None:
    """Find weight-initialisation bugs in PyTorch code (check) and checkpoints (model)."""


@main.command()
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option("--select", help="Comma-separated codes or prefixes to report (replaces the config's).")
@click.option("--ignore", help="Comma-separated codes or prefixes to leave out.")
@click.option("--fix", is_flag=True, help="Apply safe fixes in place.")
@click.option("--unsafe-fixes", is_flag=True, help="With --fix or --diff, also apply unsafe fixes.")
@click.option("--diff", is_flag=True, help="Print the fixes as a unified diff; write nothing.")
@click.option("--output-format", "--format", "output_format", type=click.Choice((*FORMATS, "text")),
              default="full", show_default=True, help="How findings are written (--format is an alias).")
@click.option("--config", "config_file", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="pyproject.toml or TOML file to read settings from.")
@click.option("--jobs", "-j", type=click.IntRange(min=1), default=None,
              help="Files checked in parallel (default: number of CPUs).")
@click.option("--no-cache", is_flag=True, help="Neither read nor write cached results.")
@click.option("--cache-dir", type=click.Path(file_okay=False, path_type=Path),
              help="Where results are cached (default: .initaudit_cache next to the configuration).")
def check(paths: tuple[Path, ...], select: str | None, ignore: str | None, fix: bool,
          unsafe_fixes: bool, diff: bool, output_format: str, config_file: Path | None,
          jobs: int | None, no_cache: bool, cache_dir: Path | None) -> None:
    """Lint Python files and directories for initialisation bugs."""
    from initaudit.lint.discover import Unreadable, discover
    from initaudit.lint.results import FileResult

    targets = list(paths) or [Path(".")]
    try:
        config = load_config(config_file, targets[0]).with_options(
            parse_code_list(select), parse_code_list(ignore))
    except ConfigError as exc:
        _error(str(exc))
        sys.exit(EXIT_ERROR)
    status = EXIT_CLEAN
    files: list[Path] = []
    unreadable: list[FileResult] = []
    for item in discover(targets, config):
        if isinstance(item, Unreadable):
            unreadable.append(FileResult(str(item.path), error=item.reason))
        else:
            files.append(item)
    cache = None
    if not (no_cache or fix or diff):
        from initaudit.lint.cache import DEFAULT_DIR, ResultCache

        cache = ResultCache.open(cache_dir or config.root / DEFAULT_DIR, config)
    results = unreadable + _lint_all(files, config, fix=fix or diff, unsafe=unsafe_fixes, jobs=jobs,
                                     cache=cache)
    for result in results:
        if result.error is not None:
            _error(f"{result.path}: {result.error}")
            status = EXIT_ERROR
    if diff:
        changed = _print_diffs(results)
        sys.exit(max(status, EXIT_FINDINGS if changed else EXIT_CLEAN))
    fixed = _write_fixes(results) if fix else 0
    if any(result.error is not None for result in results):
        status = EXIT_ERROR  # a write may have failed just now
    summary = _summary(results, fixed)
    _report(summary, output_format)
    if status == EXIT_CLEAN and any(d.severity.fails for d in summary.diagnostics):
        status = EXIT_FINDINGS
    sys.exit(status)


def _lint_all(files: list[Path], config: Config, *, fix: bool, unsafe: bool, jobs: int | None,
              cache: ResultCache | None) -> list:
    """Results in the order of ``files``: cached ones as they are, the rest checked in parallel."""
    from initaudit.lint.results import cached_result

    results: list = [None] * len(files)
    keys: dict[int, str] = {}
    for index, file in enumerate(files):
        if cache is None:
            break
        try:
            data = file.read_bytes()
        except OSError:
            continue  # the worker reports it
        keys[index] = cache.key(str(file), data)
        hit = cache.get(keys[index])
        if hit is not None:
            results[index] = cached_result(str(file), data, hit.diagnostics, hit.parsed)
    pending = [index for index, result in enumerate(results) if result is None]
    workers = min(jobs or os.cpu_count() or 1, max(len(pending) // 8, 1))
    if workers > 1:
        # Largest files first, in small chunks, so that no worker is still on a big file while
        # the others idle; results come back in the order of ``pending`` whatever that order is.
        pending.sort(key=lambda index: -_size(files[index]))
    tasks = [(str(files[index]), config, fix, unsafe) for index in pending]
    with contextlib.ExitStack() as stack:
        checked: Iterable = map(_lint_task, tasks)
        if workers > 1:
            from initaudit.lint.pool import run_in_processes  # not imported by cached runs

            chunksize = min(max(len(tasks) // (workers * 16), 1), 8)
            checked = stack.enter_context(contextlib.closing(
                run_in_processes(_lint_task, tasks, workers, chunksize, _crashed)))
        for index, result in zip(pending, checked, strict=True):
            results[index] = result
            if cache is not None and index in keys and result.error is None:
                cache.put(keys[index], result.diagnostics, result.parsed)
    if cache is not None:
        cache.save()
    return results


def _lint_task(task: tuple[str, Config, bool, bool]):  # -> FileResult (picklable top-level)
    from initaudit.lint.engine import lint_file
    from initaudit.lint.results import FileResult

    path, config, fix, unsafe = task
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        return FileResult(path, error=f"cannot read: {exc.strerror or exc}")
    result = lint_file(path, data, config, fix=fix, unsafe_fixes=unsafe)
    if not result.diagnostics and result.fixed_text is None:
        result.source = None  # only reports and fixes read it: do not send it back
    return result


def _crashed(task: tuple[str, Config, bool, bool]):  # -> FileResult
    from initaudit.lint.results import FileResult

    return FileResult(task[0], error="the process checking this file died; file not checked")


def _size(file: Path) -> int:
    try:
        return file.stat().st_size
    except OSError:
        return 0


def _print_diffs(results: list) -> bool:
    from initaudit.lint.notebook import Notebook
    from initaudit.lint.source import diff_lines

    changed = False
    for result in results:
        if result.fixed_text is None or result.source is None:
            continue
        changed = True
        if isinstance(result.source, Notebook):
            sys.stdout.writelines(result.source.diff(result.path, result.fixed_text))
            continue
        before, after = diff_lines(result.source.text), diff_lines(result.fixed_text)
        sys.stdout.writelines(difflib.unified_diff(before, after, f"a/{result.path}", f"b/{result.path}"))
    return changed


def _write_fixes(results: list) -> int:
    from initaudit.lint.fixes import WriteRefused, write_fixed

    fixed = 0
    for result in results:
        if result.fixed_text is None or result.source is None:
            continue
        try:
            write_fixed(Path(result.path), result.read_digest, result.source.encode(result.fixed_text))
        except (OSError, WriteRefused) as exc:
            reason = str(exc) if isinstance(exc, WriteRefused) else f"cannot write fixes: {exc.strerror or exc}"
            _error(f"{result.path}: {reason}")
            result.error = reason
            # Report the file as it still is.
            result.diagnostics, result.fixed_text, result.fixes_applied = result.unfixed_diagnostics, None, 0
            continue
        fixed += result.fixes_applied
    return fixed


def _summary(results: list, fixed: int):
    from initaudit.lint.notebook import Notebook
    from initaudit.lint.source import split_lines
    from initaudit.report.summary import Summary

    diagnostics = sorted((d for r in results for d in r.diagnostics),
                         key=lambda d: (d.path, d.cell or 0, d.line, d.column, d.code))
    lines = {}
    cell_lines = {}
    texts = {}
    notebook_files = {}
    for result in results:
        if result.diagnostics and result.source is not None:
            text = result.fixed_text if result.fixed_text is not None else result.source.text
            texts[result.path] = text
            if isinstance(result.source, Notebook):
                cells = result.source.cell_lines(text)
                cell_lines.update(((result.path, cell), cells[cell]) for cell in cells)
                notebook_files[result.path] = _stored_text(result.path)
            else:
                lines[result.path] = split_lines(text)
    return Summary(
        diagnostics=diagnostics,
        files=len(results),
        parsed=sum(1 for r in results if r.parsed),
        skipped=sum(1 for r in results if r.error is not None),
        lines=lines,
        cell_lines=cell_lines,
        fixed=fixed,
        texts=texts,
        notebook_files=notebook_files,
    )


def _stored_text(path: str) -> str:
    """A notebook as on disk (after any fix), for reports that point at lines of the file."""
    try:
        return Path(path).read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError):
        return ""


def _report(summary, output_format: str) -> None:
    import importlib

    if output_format in ("full", "text"):
        from rich.console import Console

        from initaudit.report import text

        text.render(summary, Console(highlight=False))
        return
    module = {"json": "json_report", "json-lines": "json_lines"}.get(output_format, output_format)
    output = importlib.import_module(f"initaudit.report.{module}").render(summary)
    if output:
        click.echo(output)


@main.command()
@click.argument("spec")
@click.option("--format", "output_format", type=click.Choice(("text", "json")), default="text", show_default=True)
@click.option("--input-shape", help="Input shape for the signal probe, e.g. 1,3,224,224.")
@click.option("--fix", is_flag=True, help="Re-initialise flagged layers (needs --output).")
@click.option("--output", type=click.Path(dir_okay=False), help="Where --fix writes the new checkpoint.")
@click.option("--trust-pickle", is_flag=True,
              help="Allow unpickling arbitrary objects and loading TorchScript code (both run code from the file).")
@click.option("--factory", help="package.module:function building the architecture for a bare state dict.")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed for probes and fixes.")
@click.option("--html", "html", type=click.Path(dir_okay=False), help="Also write the report as one HTML page.")
def model(spec: str, output_format: str, input_shape: str | None, fix: bool, output: str | None,
          trust_pickle: bool, factory: str | None, seed: int, html: str | None) -> None:
    """Audit a checkpoint, TorchScript archive or package.module:factory."""
    shape = None
    if input_shape:
        try:
            shape = tuple(int(part) for part in input_shape.split(","))
        except ValueError:
            _error(f"--input-shape must be integers separated by commas, got {input_shape!r}")
            sys.exit(EXIT_ERROR)
    try:
        from initaudit.audit import run_audit
    except ImportError as exc:
        _error(f"the model auditor is unavailable ({exc})")
        sys.exit(EXIT_ERROR)
    sys.exit(run_audit(spec, output_format=output_format, input_shape=shape, fix=fix, output=output,
                       trust_pickle=trust_pickle, factory=factory, seed=seed, html=html))


@main.command()
def server() -> None:
    """Run the language server for editors (LSP over stdio; needs initaudit[lsp])."""
    try:
        from initaudit.server import serve
    except ImportError as exc:
        _error(f"the language server needs pygls: pip install 'initaudit[lsp]' ({exc})")
        sys.exit(EXIT_ERROR)
    serve()


@main.command()
@click.argument("code")
def rule(code: str) -> None:
    """Explain one rule (e.g. IA103)."""
    from rich.console import Console
    from rich.markdown import Markdown

    from initaudit.catalogue import entries

    entry = entries().get(code.upper())
    if entry is None:
        _error(f"unknown rule {code!r}; `initaudit rules` lists them")
        sys.exit(EXIT_ERROR)
    console = Console()
    console.print(f"[bold]{entry.code} {entry.name}[/bold]  severity: {entry.severity.value}  "
                  f"fix: {entry.fix}  ({'initaudit ' + entry.scope})", highlight=False)
    console.print(Markdown(entry.body))


@main.command()
@click.option("--output-format", type=click.Choice(("text", "markdown", "json")), default="text",
              show_default=True, help="A table, the README's Markdown table, or JSON.")
def rules(output_format: str) -> None:
    """List every rule with its name, severity and fix safety."""
    from initaudit.catalogue import entries, markdown_table

    if output_format == "markdown":
        click.echo(markdown_table(), nl=False)
        return
    if output_format == "json":
        import json

        click.echo(json.dumps([{"code": e.code, "name": e.name, "command": e.scope,
                                "severity": e.severity.value, "fix": e.fix, "summary": e.summary}
                               for e in entries().values()], indent=2))
        return
    from rich.console import Console
    from rich.table import Table

    table = Table("code", "name", "severity", "fix", "command", box=None, pad_edge=False)
    for entry in entries().values():
        table.add_row(entry.code, entry.name, entry.severity.value, entry.fix, entry.scope)
    Console().print(table)
