"""The ``initaudit`` command: check, model, rule, rules."""

from __future__ import annotations

import os
import signal
import sys
import threading
from pathlib import Path
from typing import Any, Callable

import click

from initaudit.model_command import FORMATS as MODEL_FORMATS
from initaudit.report.console import COLOR_CHOICES
from initaudit.report.printable import printable
from initaudit.version import __version__


EXIT_CLEAN, EXIT_FINDINGS, EXIT_ERROR = 0, 1, 2
#: ``--output-format`` values; ``text`` is accepted as the former name of ``full``.
FORMATS = ("full", "concise", "grouped", "json", "json-lines", "sarif", "github", "gitlab", "junit", "pylint",
           "rdjson", "azure")


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
@click.version_option(__version__, "-V", "--version", prog_name="initaudit")
def main() -> None:
    """Find weight-initialisation bugs in PyTorch code (check) and checkpoints (model)."""


@main.command(short_help="Lint Python files, notebooks and documents for initialisation bugs.")
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option("--select", help="Codes, prefixes or rule names to report, comma-separated (replaces the config's).")
@click.option("--extend-select", help="Codes, prefixes or rule names to report in addition.")
@click.option("--ignore", help="Codes, prefixes or rule names to leave out.")
@click.option("--fix/--no-fix", default=None,
              help="Apply safe fixes in place (default: the settings' `fix`, else off).")
@click.option("--unsafe-fixes/--no-unsafe-fixes", default=None,
              help="With --fix or --diff, also apply unsafe fixes (default: the settings' `unsafe-fixes`).")
@click.option("--fix-only", is_flag=True, help="Apply fixes and print only how many; findings left do not fail.")
@click.option("--diff", is_flag=True, help="Print the fixes as a unified diff; write nothing.")
@click.option("--show-fixes", is_flag=True, help="After --fix, list what was fixed.")
@click.option("--output-format", "--format", "output_format", type=click.Choice((*FORMATS, "text")),
              default="full", show_default=True, help="How findings are written (--format is an alias).")
@click.option("--output-file", "-o", type=click.Path(dir_okay=False, path_type=Path),
              help="Write the report to this file instead of standard output.")
@click.option("--statistics", is_flag=True, help="Count the findings per rule instead of listing them.")
@click.option("--exit-zero", "-e", is_flag=True, help="Exit 0 even when there are findings.")
@click.option("--exit-non-zero-on-fix", is_flag=True, help="Exit 1 when --fix changed a file, even if nothing is left.")
@click.option("--quiet", "-q", is_flag=True, help="Print the findings only, no summary line.")
@click.option("--color", type=click.Choice(COLOR_CHOICES), default="auto", show_default=True,
              help="Colour in the text report (auto: on a terminal, unless NO_COLOR is set).")
@click.option("--add-noqa", is_flag=True, help="Add `# noqa: CODE` to every line with a finding.")
@click.option("--baseline", type=click.Path(dir_okay=False, path_type=Path),
              help="Report only findings that this baseline file does not hold.")
@click.option("--write-baseline", type=click.Path(dir_okay=False, path_type=Path),
              help="Write every current finding to this baseline file.")
@click.option("--stdin-filename", help="Read the source from standard input and report it under this name.")
@click.option("--force-exclude/--no-force-exclude", default=None,
              help="Apply excludes to paths named on the command line too (for pre-commit).")
@click.option("--respect-gitignore/--no-respect-gitignore", default=None,
              help="Skip what .gitignore files leave out (default: on).")
@click.option("--exclude", multiple=True, metavar="PATTERNS",
              help="Paths to leave out, comma-separated patterns (replaces the settings' exclude).")
@click.option("--extend-exclude", multiple=True, metavar="PATTERNS", help="Paths to leave out in addition.")
@click.option("--extension", multiple=True, metavar="EXT:LANG",
              help="Read files ending .EXT as LANG: markdown, rst, python or ipynb (repeatable, or comma-separated).")
@click.option("--config", multiple=True, metavar="FILE | KEY=VALUE",
              help="A settings file instead of the nearest one, or a TOML `key = value` that overrides the "
                   "settings (repeatable).")
@click.option("--isolated", is_flag=True, help="Ignore every settings file.")
@click.option("--show-settings", is_flag=True, help="Print the settings the run would use and exit.")
@click.option("--show-files", is_flag=True, help="Print the files the run would check and exit.")
@click.option("--watch", "-w", is_flag=True, help="Check again whenever a file changes (needs initaudit[watch]).")
@click.option("--jobs", "-j", type=click.IntRange(min=1), default=None,
              help="Files checked in parallel (default: number of CPUs).")
@click.option("--no-cache", "-n", is_flag=True, help="Neither read nor write cached results.")
@click.option("--cache-dir", type=click.Path(file_okay=False, path_type=Path),
              help="Where results are cached (default: .initaudit_cache next to the configuration).")
def check(paths: tuple[Path, ...], **options: object) -> None:
    """Lint Python files, notebooks, the Python code of Markdown and reST documents, and
    directories for initialisation bugs. A path of `-` reads the source from standard input."""
    from initaudit.check_command import CheckOptions, run_check

    sys.exit(run_check(CheckOptions(paths=paths, **options)))  # type: ignore[arg-type]


@main.command(short_help="Audit a checkpoint, TorchScript archive or model factory.")
@click.argument("spec", required=False)
@click.option("--output-format", "--format", "output_format", type=click.Choice(MODEL_FORMATS), default="text",
              show_default=True, help="How findings are written (--format is an alias).")
@click.option("--output-file", "-o", type=click.Path(dir_okay=False),
              help="Write the report to this file instead of standard output.")
@click.option("--exit-zero", "-e", is_flag=True, help="Exit 0 even when there are findings.")
@click.option("--select", help="Audit codes, prefixes or rule names to report, comma-separated (replaces the "
              "config's).")
@click.option("--extend-select", help="Audit codes, prefixes or rule names to report in addition.")
@click.option("--ignore", help="Audit codes, prefixes or rule names to leave out.")
@click.option("--config", multiple=True, metavar="FILE | KEY=VALUE",
              help="A settings file instead of the nearest one, or a TOML `key = value` that overrides the "
                   "settings (repeatable).")
@click.option("--isolated", is_flag=True, help="Ignore every settings file.")
@click.option("--input-shape", help="Input shape for the signal probe, e.g. 1,3,224,224.")
@click.option("--example-inputs", help="package.module:function returning the probe's inputs "
              "(a tensor, a tuple of positional or a dict of keyword arguments).")
@click.option("--fix", is_flag=True, help="Re-initialise flagged layers (needs --output).")
@click.option("--output", type=click.Path(dir_okay=False), help="Where --fix writes the new checkpoint.")
@click.option("--force", is_flag=True, help="Let --fix audit and rewrite tensors that look trained as inits.")
@click.option("--trust-pickle", is_flag=True,
              help="Allow unpickling arbitrary objects and loading TorchScript code (both run code from the file).")
@click.option("--factory", help="package.module:function building the model: audited itself without SPEC, "
              "the architecture of a bare state dict with it. The only way initaudit imports a module.")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed for probes and fixes.")
@click.option("--html", "html", type=click.Path(dir_okay=False), help="Also write the report as one HTML page.")
@click.option("--low-memory", is_flag=True,
              help="Audit a factory's model module by module from the meta device (automatic when it "
                   "would take more than half the available memory).")
@click.option("--sample", is_flag=True,
              help="Measure each large tensor on rows spread over it (at most 2**18 values): fast on "
                   "checkpoints far larger than memory.")
@click.option("--jobs", "-j", type=click.IntRange(min=1), default=1, show_default=True,
              help="Processes reading the shards of a sharded checkpoint.")
def model(spec: str | None, input_shape: str | None, factory: str | None, **options: Any) -> None:
    """Audit a checkpoint (SPEC: a file or a checkpoint directory), or the model that
    --factory package.module:function builds. Settings (select, extend-select, ignore) come from
    the settings file found from the working directory, as for check."""
    if spec is None and factory is None:
        _error("give a checkpoint to audit, or --factory package.module:function")
        sys.exit(EXIT_ERROR)
    shape = None
    if input_shape:
        try:
            shape = tuple(int(part) for part in input_shape.split(","))
        except ValueError:
            _error(f"--input-shape must be integers separated by commas, got {input_shape!r}")
            sys.exit(EXIT_ERROR)
    from initaudit.model_command import run_model

    sys.exit(run_model(spec, input_shape=shape, factory=factory, **options))


@main.command(short_help="Run the language server for editors (LSP over stdio).")
@click.option("--stdio", is_flag=True, expose_value=False,
              help="Talk over standard input and output, as without it: editors' clients pass it. "
                   "stdio is the only transport (no --node-ipc, --socket or --pipe).")
def server() -> None:
    """Run the language server for editors (LSP over stdio; needs initaudit[lsp])."""
    try:
        from initaudit.server import serve
    except ImportError as exc:
        _error(f"the language server needs pygls: pip install 'initaudit[lsp]' ({exc})")
        sys.exit(EXIT_ERROR)
    serve()


@main.command(short_help="Explain a rule: what it finds, why, examples, fix safety.")
@click.argument("code", required=False)
@click.option("--all", "show_all", is_flag=True, help="Explain every rule.")
@click.option("--output-format", type=click.Choice(("text", "json")), default="text", show_default=True,
              help="The page (rendered on a terminal, Markdown when piped) or JSON.")
@click.option("--color", type=click.Choice(COLOR_CHOICES), default="auto", show_default=True)
def rule(code: str | None, show_all: bool, output_format: str, color: str) -> None:
    """Explain a rule (CODE such as IA103, or its name), or every rule with --all."""
    from initaudit.catalogue import entries
    from initaudit.report.rule_pages import render_json, render_pages

    if show_all == (code is not None):
        _error("give one rule code or name, or --all")
        sys.exit(EXIT_ERROR)
    chosen = list(entries().values())
    if code is not None:
        chosen = [e for e in chosen if code.upper() == e.code or code.lower() == e.name]
        if not chosen:
            _error(f"unknown rule {code!r}; `initaudit rules` lists them")
            sys.exit(EXIT_ERROR)
    if output_format == "json":
        click.echo(render_json(chosen))
    else:
        render_pages(chosen, color)


@main.command(short_help="List every rule with its name, severity and fix safety.")
@click.option("--output-format", type=click.Choice(("text", "markdown", "json")), default="text",
              show_default=True, help="A table, the README's Markdown table, or JSON.")
def rules(output_format: str) -> None:
    """List every rule with its name, severity and fix safety."""
    from initaudit.catalogue import entries, markdown_table

    if output_format == "markdown":
        click.echo(markdown_table(), nl=False)
        return
    if output_format == "json":
        from initaudit.report.rule_pages import render_json

        click.echo(render_json(list(entries().values()), with_pages=False))
        return
    from rich.console import Console
    from rich.table import Table

    table = Table("code", "name", "severity", "fix", "command", box=None, pad_edge=False)
    for entry in entries().values():
        table.add_row(entry.code, entry.name, entry.severity.value, entry.fix, entry.scope)
    Console().print(table)
