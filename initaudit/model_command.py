"""What ``initaudit model`` does with its options: read the settings, open the checkpoint or
build the factory's model, audit it, report the findings the selection keeps (to standard output
or ``--output-file``, ``--html`` too), and with ``--fix`` write a fixed copy and audit that.

The command-line module only parses options; the stages stay in the auditor and formatting in
the reporters. Importing this module does not import torch; :func:`run_model` does, once every
refusal that needs no torch (usage, settings, a missing or unreadable checkpoint, an output over
it) has been made: those answer in a fraction of torch's import time.
"""

from __future__ import annotations

import io
import sys
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

if TYPE_CHECKING:
    from initaudit.auditor.results import AuditReport
    from initaudit.config import Config
    from initaudit.report.audit_formats import Artifact

EXIT_CLEAN, EXIT_ERROR = 0, 2
INSTALL_HINT = "initaudit: error: auditing models needs torch: pip install 'initaudit[model]'"
#: ``--output-format`` values: the text report, the contract's JSON, and the CI formats of
#: :mod:`initaudit.report.audit_formats`.
FORMATS = ("text", "json", "sarif", "github", "junit", "gitlab")


class UsageError(Exception):
    """Options that cannot be used together (one line)."""


def run_model(spec: str | None = None, *, output_format: str = "text", input_shape: tuple[int, ...] | None = None,
              fix: bool = False, output: str | None = None, trust_pickle: bool = False,
              factory: str | None = None, seed: int = 0, html: str | None = None, force: bool = False,
              low_memory: bool = False, sample: bool = False, jobs: int = 1,
              example_inputs: str | None = None, select: str | None = None, extend_select: str | None = None,
              ignore: str | None = None, config: tuple[str, ...] = (), isolated: bool = False,
              exit_zero: bool = False, output_file: str | None = None) -> int:
    """Audit the checkpoint SPEC, or (SPEC None) the model ``factory`` builds; report to stdout
    or ``output_file``, return the exit status (0 clean or ``exit_zero``, 1 warning/error findings
    of selected rules, 2 refused/unreadable input or usage error). ``force`` lets ``fix`` audit
    and rewrite tensors that look trained as inits. ``select``, ``extend_select`` and ``ignore``
    are comma-separated selectors, ``config`` the ``--config`` arguments, as for ``check``."""
    from initaudit.auditor.errors import AuditError
    from initaudit.settings_files import ConfigError

    try:
        _check_usage(fix, output, force, output_format)
        _check_names(spec, factory, example_inputs)
        fmt = _check_outputs(spec, fix, output, html, output_file)
        settings = _settings(select, extend_select, ignore, config, isolated)
    except (UsageError, ConfigError, AuditError) as error:
        return _fail(str(error))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            import torch  # noqa: F401
    except ImportError:
        print(INSTALL_HINT, file=sys.stderr)
        return EXIT_ERROR
    from initaudit.auditor.load.factories import inputs_from
    from initaudit.auditor.load.sources import open_source
    from initaudit.auditor.pipeline import analyse
    from initaudit.report.progress import progress_bar

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            source = open_source(spec, trust_pickle=trust_pickle, factory=factory, low_memory=low_memory)
            if fix and source.per_module:
                raise AuditError(f"{spec or factory}: --fix cannot write a model audited module by module "
                                 "(it is never whole in memory)")
            if example_inputs:
                source.example = inputs_from(example_inputs)
            with progress_bar("measuring") as progress:
                analysis = analyse(source, input_shape=input_shape, seed=seed, recognise_trained=not force,
                                   sample=sample, jobs=jobs, progress=progress, enabled=settings.enabled)
            status = analysis.report.exit_code
            _report(analysis.report, output_format, output_file, _artifact(spec, factory))
            if html:
                from initaudit.report.audit_html import write_html

                write_html(analysis.report, html)
            if fix:
                from initaudit.auditor.fix.fixer import apply_fix, refuse_trained
                from initaudit.report.audit_text import render_fix

                refuse_trained(analysis)
                outcome = apply_fix(source, analysis, output or "", fmt, seed=seed,
                                    trust_pickle=trust_pickle, factory=factory, input_shape=input_shape,
                                    recognise_trained=not force, enabled=settings.enabled)
                render_fix(outcome, sys.stdout if output_format == "text" or output_file else sys.stderr)
                status = outcome.exit_code
    except AuditError as error:
        return _fail(str(error))
    except OSError as error:
        return _fail(f"cannot write {html}: {error.strerror or error}")
    except MemoryError:
        return _fail(f"{spec or factory}: out of memory while auditing")
    except Exception as error:  # a bug, not findings: exit 2 with one line, never 1
        return _fail(f"internal error while auditing {spec or factory}: {type(error).__name__}: {error}")
    return EXIT_CLEAN if exit_zero else status


def _check_usage(fix: bool, output: str | None, force: bool, output_format: str) -> None:
    if fix and not output:
        raise UsageError("--fix needs --output OUT (the input is never modified)")
    if force and not fix:
        raise UsageError("--force only applies with --fix (it lets --fix rewrite tensors that look trained)")
    if output_format not in FORMATS:
        raise UsageError(f"unknown format {output_format!r} (expected one of {', '.join(FORMATS)})")


def _settings(select: str | None, extend_select: str | None, ignore: str | None, config: tuple[str, ...],
              isolated: bool) -> Config:
    """The settings file found from the working directory (or ``--config``), with the command
    line's selection; a selector on the command line must name an audit rule."""
    from initaudit.config import load_config, parse_code_list
    from initaudit.settings_files import ConfigError, config_arguments

    config_file, overrides = config_arguments(config, Path.cwd())
    if isolated and config_file is not None:
        raise ConfigError(f"--config {config_file}: a settings file cannot be used with --isolated")
    settings = load_config(config_file, Path.cwd(), overrides=overrides, isolated=isolated)
    return settings.with_options(select=parse_code_list(select, "--select", "model"),
                                 extend_select=parse_code_list(extend_select, "--extend-select", "model"),
                                 ignore=parse_code_list(ignore, "--ignore"))


def _check_names(spec: str | None, factory: str | None, example_inputs: str | None) -> None:
    """Refuse a checkpoint that cannot be read and code named otherwise than package.module:function."""
    from initaudit.auditor.load.preflight import refuse_malformed, refuse_unreadable

    if spec is not None:
        refuse_unreadable(spec)
    for code in (factory, example_inputs):
        if code is not None:
            refuse_malformed(code)


def _check_outputs(spec: str | None, fix: bool, output: str | None, html: str | None, output_file: str | None) -> str:
    """Refuse an output that would replace what the audit reads or another output; the format
    ``--fix`` writes (empty without it)."""
    from initaudit.auditor.errors import AuditError

    outputs = [(option, path) for option, path in (("--output", output if fix else None), ("--html", html),
                                                   ("--output-file", output_file)) if path]
    if not outputs:
        return ""
    from initaudit.auditor.fix.writing import output_format as fix_format
    from initaudit.auditor.fix.writing import refuse_overwriting_input

    fmt = fix_format(spec, output) if fix and output else ""
    for option, path in outputs:
        if option != "--output":
            refuse_overwriting_input(path, spec, option)
    for index, (option, path) in enumerate(outputs):
        for other, other_path in outputs[index + 1:]:
            if Path(path).resolve() == Path(other_path).resolve():
                raise AuditError(f"{other} and {option} name the same file")
    return fmt


def _artifact(spec: str | None, factory: str | None) -> Artifact:
    """Where the CI formats place the findings: the checkpoint, or for a factory's model the file
    defining the factory, at its ``def`` line."""
    from initaudit.report.audit_formats import Artifact
    from initaudit.report.paths import repository_path

    if spec is not None or factory is None:
        return Artifact(repository_path(spec or "model"))
    module_name, _, name = factory.partition(":")
    module = sys.modules.get(module_name)  # imported by the audit
    path = getattr(module, "__file__", None)
    if path is None:
        return Artifact(factory)
    code = getattr(getattr(module, name, None), "__code__", None)
    return Artifact(repository_path(path), getattr(code, "co_firstlineno", None))


def _report(report: AuditReport, output_format: str, output_file: str | None, artifact: Artifact) -> None:
    """The report to standard output, or whole (or not at all) to ``output_file``."""
    if output_file is None:
        _render(report, output_format, artifact, sys.stdout)
        return
    from initaudit.atomic import write_report
    from initaudit.auditor.errors import AuditError

    buffer = io.StringIO()
    _render(report, output_format, artifact, buffer, color="never")
    try:
        write_report(Path(output_file), buffer.getvalue().encode("utf-8"))
    except OSError as error:
        raise AuditError(f"{output_file}: cannot write the report: {error.strerror or error}") from None


def _render(report: AuditReport, output_format: str, artifact: Artifact, stream: TextIO,
            color: str = "auto") -> None:
    if output_format == "json":
        from initaudit.report.audit_json import render_json

        render_json(report, stream)
    elif output_format == "text":
        from initaudit.report.audit_text import render_text

        render_text(report, stream, color=color)
    else:
        from initaudit.report.audit_formats import render

        text = render(report, artifact, output_format)
        stream.write(text + "\n" if text else "")


def _fail(message: str) -> int:
    from initaudit.report.printable import printable

    print(f"initaudit: error: {printable(message)}", file=sys.stderr)
    return EXIT_ERROR
