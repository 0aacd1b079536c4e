"""The ``initaudit`` command: check, model, rule, rules."""

from __future__ import annotations

import os
import signal
import sys
import threading
from pathlib import Path
from typing import Callable

import click

from initaudit import __version__
from initaudit.config import ConfigError, load_config, parse_code_list
from initaudit.report.printable import printable


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
        restore = _install_signal_handlers()
        try:
            return super().invoke(context)
        except Terminated:
            raise SystemExit(128 + signal.SIGTERM) from None
        except KeyboardInterrupt:
            raise SystemExit(128 + signal.SIGINT) from None
        finally:
            restore()


def _install_signal_handlers() -> Callable[[], object]:
    """SIGTERM raises Terminated, SIGINT (where it is not ignored) KeyboardInterrupt, in this
    process only: a worker forked before it reset its signals ends quietly, as the signal's
    default action would end it. Returns what puts the previous handlers back."""
    if threading.current_thread() is not threading.main_thread():
        return lambda: None  # handlers can only be set there
    installer = os.getpid()

    def handler(error: type[BaseException]) -> Callable[[int, object], None]:
        def raise_here(signum: int, frame: object) -> None:
            if os.getpid() != installer:
                signal.signal(signum, signal.SIG_DFL)
                os.kill(os.getpid(), signum)
            raise error
        return raise_here

    previous = {signal.SIGTERM: signal.signal(signal.SIGTERM, handler(Terminated))}
    if signal.getsignal(signal.SIGINT) is signal.default_int_handler:
        previous[signal.SIGINT] = signal.signal(signal.SIGINT, handler(KeyboardInterrupt))
    return lambda: [signal.signal(number, action) for number, action in previous.items()]


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
    from initaudit.lint.runner import run_lint

    targets = list(paths) or [Path(".")]
    try:
        config = load_config(config_file, targets[0]).with_options(
            parse_code_list(select), parse_code_list(ignore))
    except ConfigError as exc:
        _error(str(exc))
        sys.exit(EXIT_ERROR)
    if no_cache or fix or diff:
        cache = None
    else:
        from initaudit.lint.cache import DEFAULT_DIR

        cache = cache_dir or config.root / DEFAULT_DIR
    run = run_lint(targets, config, jobs=jobs, cache_dir=cache, fix=fix or diff, write=not diff,
                   unsafe_fixes=unsafe_fixes)
    for result in run.errors:
        _error(f"{result.path}: {result.error}")
    status = EXIT_ERROR if run.errors else EXIT_CLEAN
    if diff:
        from initaudit.report.diff import render_diff

        patch = render_diff(run.results)
        sys.stdout.write(patch)
        sys.exit(max(status, EXIT_FINDINGS if patch else EXIT_CLEAN))
    _report(run.summary, output_format)
    if status == EXIT_CLEAN and any(d.severity.fails for d in run.summary.diagnostics):
        status = EXIT_FINDINGS
    sys.exit(status)


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
