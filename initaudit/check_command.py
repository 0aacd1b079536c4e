"""What ``initaudit check`` does with its options: settings, the run (files or standard input),
adoption steps (``--add-noqa``, baselines), the report and the exit status.

The command-line module only parses options into :class:`CheckOptions`; analysis stays in the
runner and formatting in the reporters.
"""

from __future__ import annotations

import importlib
import io
import os
import sys
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Iterable, TextIO

import click

from initaudit.config import Config, ConfigError, anchor_patterns, load_config, parse_code_list, parse_extension_option
from initaudit.report.printable import printable
from initaudit.report.progress import progress_bar
from initaudit.settings_files import config_arguments

if TYPE_CHECKING:
    from initaudit.lint.run.baseline import Baseline
    from initaudit.lint.run.results import FileResult
    from initaudit.lint.run.runner import LintRun
    from initaudit.lint.run.summary import Summary

EXIT_CLEAN, EXIT_FINDINGS, EXIT_ERROR = 0, 1, 2
STDIN = Path("-")


@dataclass(frozen=True)
class CheckOptions:
    paths: tuple[Path, ...] = ()
    select: str | None = None
    extend_select: str | None = None
    ignore: str | None = None
    #: None: as the settings say (``fix``, ``unsafe-fixes``).
    fix: bool | None = None
    unsafe_fixes: bool | None = None
    fix_only: bool = False
    diff: bool = False
    show_fixes: bool = False
    output_format: str = "full"
    output_file: Path | None = None
    statistics: bool = False
    exit_zero: bool = False
    exit_non_zero_on_fix: bool = False
    quiet: bool = False
    color: str = "auto"
    add_noqa: bool = False
    baseline: Path | None = None
    write_baseline: Path | None = None
    stdin_filename: str | None = None
    force_exclude: bool | None = None
    respect_gitignore: bool | None = None
    #: Comma-separated patterns, each option as given (``--exclude`` replaces, ``--extend-exclude`` adds).
    exclude: tuple[str, ...] = ()
    extend_exclude: tuple[str, ...] = ()
    #: ``--config``: a settings file or ``key = value`` TOML, each.
    config: tuple[str, ...] = ()
    isolated: bool = False
    show_settings: bool = False
    show_files: bool = False
    watch: bool = False
    jobs: int | None = None
    no_cache: bool = False
    cache_dir: Path | None = None
    #: ``--extension`` values: EXT:LANG pairs, several separated by commas.
    extension: tuple[str, ...] = ()

    @property
    def reads_stdin(self) -> bool:
        return self.paths == (STDIN,) or (not self.paths and self.stdin_filename is not None)


class UsageError(Exception):
    """Options that cannot be used together, or settings that cannot be read (one line)."""


def run_check(options: CheckOptions) -> int:
    """Run ``initaudit check``; returns the exit status."""
    try:
        _check_usage(options)
    except UsageError as exc:
        error(str(exc))
        return EXIT_ERROR
    if options.watch:
        return _watch(options)
    return _check_once(options)


def _check_once(options: CheckOptions) -> int:
    try:
        config = _settings(options)
        options = _with_settings(options, config)
        baseline = _read_baseline(options)
    except UsageError as exc:
        error(str(exc))
        return EXIT_ERROR
    cache_dir = _cache_dir(options, config)
    if options.show_settings:
        from initaudit.report.settings import render_settings

        click.echo(render_settings(config, cache_dir, as_json=options.output_format == "json"))
        return EXIT_CLEAN
    if options.show_files:
        return _show_files(options, config)
    if options.reads_stdin:
        return _check_stdin(options, config)
    return _check_files(options, config, cache_dir, baseline)


def error(message: str) -> None:
    click.echo(f"initaudit: error: {printable(message)}", err=True)


def warning(message: str) -> None:
    """Something the run left alone: one line, and the exit status does not change."""
    click.echo(f"initaudit: warning: {printable(message)}", err=True)


def _check_usage(options: CheckOptions) -> None:
    if STDIN in options.paths and options.paths != (STDIN,):
        raise UsageError("`-` (standard input) cannot be combined with other paths")
    modes = [name for name, on in (("--fix", options.fix), ("--fix-only", options.fix_only), ("--diff", options.diff),
                                   ("--add-noqa", options.add_noqa),
                                   ("--write-baseline", options.write_baseline is not None),
                                   ("--watch", options.watch), ("--show-files", options.show_files)) if on]
    if len(modes) > 1 and not set(modes) <= {"--fix", "--fix-only", "--diff"}:
        raise UsageError(f"{modes[0]} and {modes[1]} cannot be used together")
    if options.fix_only and options.fix is False:
        raise UsageError("--fix-only and --no-fix cannot be used together")
    if options.reads_stdin and (options.add_noqa or options.write_baseline or options.baseline
                                or options.watch or options.show_files):
        raise UsageError("--add-noqa, --watch, --show-files and baselines work on files, not on standard input")


def _settings(options: CheckOptions) -> Config:
    start = Path(options.stdin_filename) if options.reads_stdin and options.stdin_filename else (
        options.paths[0] if options.paths else Path("."))
    try:
        config_file, overrides = config_arguments(options.config, Path.cwd())
        if options.isolated and config_file is not None:
            raise ConfigError(f"--config {config_file}: a settings file cannot be used with --isolated")
        config = load_config(config_file, start.parent if start == STDIN else start, overrides=overrides,
                             isolated=options.isolated)
        return config.with_options(
            select=parse_code_list(options.select, "--select", "check"),
            extend_select=parse_code_list(options.extend_select, "--extend-select", "check"),
            ignore=parse_code_list(options.ignore, "--ignore"),
            force_exclude=options.force_exclude, respect_gitignore=options.respect_gitignore,
            exclude=_patterns(options.exclude, config) if options.exclude else None,
            extend_exclude=_patterns(options.extend_exclude, config),
            extension=parse_extension_option(options.extension))
    except ConfigError as exc:
        raise UsageError(str(exc)) from None


def _patterns(values: tuple[str, ...], config: Config) -> tuple[str, ...]:
    """Command-line patterns: comma-separated, relative to the working directory."""
    patterns = tuple(part.strip() for value in values for part in value.split(",") if part.strip())
    return anchor_patterns(patterns, Path.cwd(), config.root)


def _with_settings(options: CheckOptions, config: Config) -> CheckOptions:
    """``fix`` and ``unsafe-fixes`` from the settings where the command line leaves them open;
    ``fix = true`` fixes only where ``--fix`` could be given."""
    other_mode = options.add_noqa or options.write_baseline is not None or options.watch
    fix = options.fix_only or (config.fix and not other_mode if options.fix is None else options.fix)
    unsafe = config.unsafe_fixes if options.unsafe_fixes is None else options.unsafe_fixes
    return replace(options, fix=fix, unsafe_fixes=unsafe)


def _read_baseline(options: CheckOptions) -> Baseline | None:
    if options.baseline is None:
        return None
    from initaudit.lint.run.baseline import BaselineError, load_baseline

    try:
        return load_baseline(options.baseline)
    except BaselineError as exc:
        raise UsageError(str(exc)) from None


def _cache_dir(options: CheckOptions, config: Config) -> Path | None:
    if options.no_cache or options.fix or options.diff or options.add_noqa:
        return None
    from initaudit.lint.run.cache import DEFAULT_DIR

    return options.cache_dir or config.root / DEFAULT_DIR


def _check_files(options: CheckOptions, config: Config, cache_dir: Path | None,
                 baseline: Baseline | None) -> int:
    from initaudit.lint.run.runner import run_lint

    with progress_bar("checking") as progress:
        run = run_lint(list(options.paths) or [Path(".")], config, jobs=options.jobs, cache_dir=cache_dir,
                       fix=options.fix or options.diff, write=not options.diff,
                       unsafe_fixes=bool(options.unsafe_fixes), progress=progress)
    for line in run.warnings:
        warning(line)
    _notes(options, run)
    if not run.results:
        _no_files(options, config)
    if options.add_noqa:
        return _add_noqa(run, config)
    for result in run.errors:
        error(f"{result.path}: {result.error}")
    status = EXIT_ERROR if run.errors else EXIT_CLEAN
    clash = _output_checked(options, run)
    if clash is not None:
        error(f"{clash}: a file being checked; the report goes to another file")
        return EXIT_ERROR
    if options.diff:
        return max(status, _emit_diff(options, run))
    summary = run.summary
    if options.write_baseline is not None:
        return _write_baseline(options.write_baseline, summary, status)
    if baseline is not None:
        from initaudit.lint.run.baseline import without_baseline

        summary = without_baseline(summary, options.baseline, baseline)
    if options.fix_only:
        count = f"Fixed {run.fixed} problem{'s' if run.fixed != 1 else ''}."
        if not options.quiet and not _emit(options, count):
            return EXIT_ERROR
    elif not _report(options, summary):
        return EXIT_ERROR
    if options.show_fixes and options.fix:
        from initaudit.report.fixed import render_fixed

        fixed = render_fixed(run.results)
        if fixed:
            click.echo(fixed, err=True)
    return _exit_status(options, status, summary, fixed=run.fixed)


def _no_files(options: CheckOptions, config: Config) -> None:
    """Says that the paths hold nothing to check, unless --force-exclude left one out on purpose."""
    from initaudit.lint.files.discover import force_excluded

    paths = options.paths or (Path("."),)
    if not (config.force_exclude and any(force_excluded(path, config) for path in paths)):
        warning(f"no Python files found in {', '.join(str(path) for path in paths)}")


def _show_files(options: CheckOptions, config: Config) -> int:
    """``--show-files``: the files a run would check, one a line."""
    from initaudit.lint.files.discover import Skipped, Unreadable, discover

    status, found = EXIT_CLEAN, False
    for item in discover(list(options.paths) or [Path(".")], config):
        if isinstance(item, Unreadable):
            error(f"{item.path}: {item.reason}")
            status = EXIT_ERROR
        elif isinstance(item, Skipped):
            warning(f"{item.path}: {item.reason}")
        else:
            click.echo(printable(str(item)))
            found = True
    if not found and status == EXIT_CLEAN:
        _no_files(options, config)
    return status


def _watch(options: CheckOptions) -> int:
    """``--watch``: check, then check again whenever a source or settings file changes."""
    try:
        from initaudit.watch import watch_and_check
    except ImportError as exc:
        error(f"--watch needs watchfiles: pip install 'initaudit[watch]' ({exc})")
        return EXIT_ERROR
    paths = list(options.paths) or [Path(".")]
    try:
        config = _settings(options)
        missing = next((path for path in paths if not path.exists()), None)
        if missing is not None:
            raise UsageError(f"{missing}: no such file or directory")
    except UsageError as exc:
        error(str(exc))
        return EXIT_ERROR
    watch_and_check(paths, [config.source, *config.bases] if config.source is not None else [], config.extension,
                    lambda: _check_once(options))
    return EXIT_CLEAN  # watching stopped without Ctrl-C


def _output_checked(options: CheckOptions, run: LintRun) -> Path | None:
    """The report or baseline file when it is one of the files the run checked, by any path."""
    for output in (options.output_file, options.write_baseline):
        if output is None or not output.exists():
            continue
        for result in run:
            try:
                if os.path.samefile(output, result.path):
                    return output
            except OSError:
                continue
    return None


def _check_stdin(options: CheckOptions, config: Config) -> int:
    """The source comes from standard input; with --fix the fixed source goes to standard output
    (the findings left to standard error), with --diff the patch does."""
    from initaudit.lint.run.runner import LintRun, lint_stdin

    data = sys.stdin.buffer.read()
    name = options.stdin_filename or "-"
    result = lint_stdin(data, name, config, fix=options.fix or options.diff, unsafe_fixes=bool(options.unsafe_fixes))
    if result.error is not None:
        error(f"{name}: {result.error}")
        if options.fix:
            sys.stdout.buffer.write(data)  # a pipeline must not lose the source
        return EXIT_ERROR
    _notes(options, [result])
    run = LintRun([result], fixed=result.fixes_applied if options.fix else 0)
    if options.diff:
        return _emit_diff(options, run)
    if options.fix:
        fixed = data if result.fixed_text is None or result.source is None else result.source.encode(result.fixed_text)
        sys.stdout.buffer.write(fixed)
        sys.stdout.flush()
        reported = options.fix_only or _report(options, run.summary, stream=sys.stderr)
    else:
        reported = _report(options, run.summary)
    if not reported:
        return EXIT_ERROR
    return _exit_status(options, EXIT_CLEAN, run.summary, fixed=run.fixed)


def _notes(options: CheckOptions, results: Iterable[FileResult]) -> None:
    """A document's Python blocks left unchecked (they do not parse): one line each, at info
    level (the exit status does not change), none with --quiet."""
    if options.quiet:
        return
    for result in results:
        for line, message in result.notes:
            click.echo(f"initaudit: info: {printable(f'{result.path}:{line}: {message}')}", err=True)


def _add_noqa(run: LintRun, config: Config) -> int:
    from initaudit.lint.fixes.apply import WriteRefused
    from initaudit.lint.run.noqa import NoqaRefused, add_noqa

    status, added = EXIT_CLEAN, 0
    for result in run:
        if result.error is not None:
            error(f"{result.path}: {result.error}")
            status = EXIT_ERROR
            continue
        try:
            added += add_noqa(result, config.extension)
        except (NoqaRefused, WriteRefused) as exc:
            error(f"{result.path}: {exc}")
            status = EXIT_ERROR
        except OSError as exc:
            error(f"{result.path}: cannot write: {exc.strerror or exc}")
            status = EXIT_ERROR
    click.echo(f"Added {added} noqa comment{'s' if added != 1 else ''}.", err=True)
    return status


def _write_baseline(path: Path, summary: Summary, status: int) -> int:
    from initaudit.lint.run.baseline import write_baseline

    try:
        count = write_baseline(path, summary)
    except OSError as exc:
        error(f"{path}: cannot write the baseline: {exc.strerror or exc}")
        return EXIT_ERROR
    click.echo(f"Wrote {count} finding{'s' if count != 1 else ''} to the baseline {path}.", err=True)
    return status


def _report(options: CheckOptions, summary: Summary, stream: TextIO | None = None) -> bool:
    """Write the report in the chosen format to --output-file, ``stream`` or standard output;
    False (the error said) when the output file could not be written."""
    if options.output_file is None:
        _render(options, summary, stream or sys.stdout)
        return True
    buffer = io.StringIO()
    _render(options, summary, buffer)
    return _emit(options, buffer.getvalue(), end="")


def _render(options: CheckOptions, summary: Summary, target: TextIO) -> None:
    output_format = options.output_format
    if options.statistics:
        from initaudit.report.statistics import render

        text = render(summary, as_json=output_format == "json")
        if text:
            click.echo(text, file=target)
        return
    if output_format in ("full", "text"):
        from initaudit.report import text
        from initaudit.report.console import make_console

        color = "never" if options.output_file is not None else options.color
        text.render(summary, make_console(color, target), quiet=options.quiet)
        return
    if output_format in ("concise", "grouped"):
        output = importlib.import_module(f"initaudit.report.{output_format}").render(summary, quiet=options.quiet)
    else:
        module = {"json": "json_report", "json-lines": "json_lines"}.get(output_format, output_format)
        output = importlib.import_module(f"initaudit.report.{module}").render(summary)
    if output:
        click.echo(output, file=target)


def _emit_diff(options: CheckOptions, run: LintRun) -> int:
    """Print the fixes as a patch; exit 1 when there is one to apply."""
    from initaudit.report.diff import render_diff

    patch = render_diff(run.results)
    if not _emit(options, patch, end=""):
        return EXIT_ERROR
    return EXIT_FINDINGS if patch else EXIT_CLEAN


def _emit(options: CheckOptions, text: str, end: str = "\n") -> bool:
    """``text`` to --output-file (whole or not at all) or standard output; False when the file
    could not be written (the error said, the old file left as it was)."""
    if options.output_file is None:
        sys.stdout.write(text + end)
        return True
    from initaudit.atomic import write_report

    try:
        write_report(options.output_file, (text + end).encode("utf-8"))
    except OSError as exc:
        error(f"{options.output_file}: cannot write the report: {exc.strerror or exc}")
        return False
    return True


def _exit_status(options: CheckOptions, status: int, summary: Summary, fixed: int) -> int:
    if status != EXIT_CLEAN:
        return status
    if options.exit_non_zero_on_fix and fixed:
        return EXIT_FINDINGS
    if options.exit_zero or options.fix_only:
        return EXIT_CLEAN
    failing = any(d.severity.fails for d in summary.diagnostics)
    return EXIT_FINDINGS if failing else EXIT_CLEAN
