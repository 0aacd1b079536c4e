"""What ``initaudit model`` does with its options: open the checkpoint or build the factory's
model, audit it, print the report (``--html`` too), and with ``--fix`` write a fixed copy and
audit that.

The command-line module only parses options; the stages stay in the auditor and formatting in
the reporters. Importing this module does not import torch; :func:`run_model` does.
"""

from __future__ import annotations

import sys
import warnings
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from initaudit.auditor.results import AuditReport

EXIT_ERROR = 2
INSTALL_HINT = "initaudit: error: auditing models needs torch: pip install 'initaudit[model]'"


def run_model(spec: str | None = None, *, output_format: str = "text", input_shape: tuple[int, ...] | None = None,
              fix: bool = False, output: str | None = None, trust_pickle: bool = False,
              factory: str | None = None, seed: int = 0, html: str | None = None, force: bool = False,
              low_memory: bool = False, sample: bool = False, jobs: int = 1,
              example_inputs: str | None = None) -> int:
    """Audit the checkpoint SPEC, or (SPEC None) the model ``factory`` builds; print the report to
    stdout, return the exit status (0 clean, 1 warning/error findings, 2 refused/unreadable input
    or usage error). ``force`` lets ``fix`` audit and rewrite tensors that look trained as inits."""
    if fix and not output:
        return _fail("--fix needs --output OUT (the input is never modified)")
    if force and not fix:
        return _fail("--force only applies with --fix (it lets --fix rewrite tensors that look trained)")
    if output_format not in ("text", "json"):
        return _fail(f"unknown format {output_format!r} (expected text or json)")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            import torch  # noqa: F401
    except ImportError:
        print(INSTALL_HINT, file=sys.stderr)
        return EXIT_ERROR
    from initaudit.auditor.errors import AuditError
    from initaudit.auditor.factories import inputs_from
    from initaudit.auditor.pipeline import analyse
    from initaudit.auditor.sources import open_source
    from initaudit.auditor.writing import output_format as fix_format
    from initaudit.auditor.writing import refuse_overwriting_input
    from initaudit.report.progress import progress_bar

    try:
        fmt = fix_format(spec, output) if fix and output else ""
        if html:
            refuse_overwriting_input(html, spec, "--html")
            if output and Path(html).resolve() == Path(output).resolve():
                raise AuditError("--html and --output name the same file")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            source = open_source(spec, trust_pickle=trust_pickle, factory=factory, low_memory=low_memory)
            if fix and source.metadata.get("per_module"):
                raise AuditError(f"{spec or factory}: --fix cannot write a model audited module by module "
                                 "(it is never whole in memory)")
            if example_inputs:
                source.example = inputs_from(example_inputs)
            with progress_bar("measuring") as progress:
                analysis = analyse(source, input_shape=input_shape, seed=seed, recognise_trained=not force,
                                   sample=sample, jobs=jobs, progress=progress)
            status = analysis.report.exit_code
            _print_report(analysis.report, output_format)
            if html:
                from initaudit.report.audit_html import write_html

                write_html(analysis.report, html)
            if fix:
                from initaudit.auditor.fixer import apply_fix, refuse_trained
                from initaudit.report.audit_text import render_fix

                refuse_trained(analysis)
                outcome = apply_fix(source, analysis, output or "", fmt, seed=seed,
                                    trust_pickle=trust_pickle, factory=factory, input_shape=input_shape,
                                    recognise_trained=not force)
                render_fix(outcome, sys.stderr if output_format == "json" else sys.stdout)
                status = outcome.exit_code
    except AuditError as error:
        return _fail(str(error))
    except OSError as error:
        return _fail(f"cannot write {html}: {error.strerror or error}")
    except MemoryError:
        return _fail(f"{spec or factory}: out of memory while auditing")
    except Exception as error:  # a bug, not findings: exit 2 with one line, never 1
        return _fail(f"internal error while auditing {spec or factory}: {type(error).__name__}: {error}")
    return status


def _print_report(report: AuditReport, output_format: str) -> None:
    if output_format == "json":
        from initaudit.report.audit_json import render_json

        render_json(report, sys.stdout)
    else:
        from initaudit.report.audit_text import render_text

        render_text(report, sys.stdout)


def _fail(message: str) -> int:
    from initaudit.report.printable import printable

    print(f"initaudit: error: {printable(message)}", file=sys.stderr)
    return EXIT_ERROR
