"""A one-line check for a project's own test suite::

    from initaudit.testing import assert_well_initialized

    def test_model_is_well_initialized():
        assert_well_initialized(build_model())

It fails with the auditor's text report when a finding at warning or error severity remains;
the message's first line, which pytest's short summary shows, names the codes and the worst.
"""

from __future__ import annotations

import dataclasses
import io
from collections import Counter
from typing import Any, Callable, Iterable, Sequence

from initaudit.auditor.results import AuditFinding, AuditReport
from initaudit.diagnostics import Severity

#: Width of the report in a failure message: pytest shows it as it is.
REPORT_WIDTH = 100


def assert_well_initialized(model: Any | Callable[[], Any], *, ignore: Iterable[str] = (),
                            input_shape: Sequence[int] | None = None, seed: int = 0) -> AuditReport:
    """Audit ``model`` (an ``nn.Module`` or a factory) and raise ``AssertionError`` with the
    readable report if any finding at warning or error severity is left after ``ignore``
    (codes such as ``IA206``, prefixes such as ``IA20``, or rule names such as
    ``signal-collapse``). Returns the report, the ignored findings left out."""
    from initaudit.auditor.api import audit
    from initaudit.report.audit_text import render_text

    ignored = _checked(ignore)
    report = audit(model, input_shape, seed=seed)
    kept = dataclasses.replace(report, findings=[f for f in report.findings if not _ignored(f, ignored)])
    if not kept.ok:
        stream = io.StringIO()
        render_text(kept, stream, width=REPORT_WIDTH)
        raise AssertionError(f"{_headline(kept)}\n{stream.getvalue()}")
    return kept


def _headline(report: AuditReport) -> str:
    """The line pytest's short summary shows: how many problems, their codes, and the worst."""
    from initaudit.report.printable import printable

    failing = [f for f in report.findings if f.severity.fails]
    codes = Counter(f.code for f in failing)
    worst = next((f for f in failing if f.severity is Severity.ERROR), failing[0])
    listed = ", ".join(f"{code} x{count}" if count > 1 else code for code, count in sorted(codes.items()))
    # Most important first: pytest cuts the summary line at the terminal's width.
    return (f"{worst.code} {printable(worst.parameter or '(model)')}, worst of {len(failing)} initialisation "
            f"problem{'s' if len(failing) > 1 else ''} ({listed}): {printable(worst.message)}")


def _checked(ignore: Iterable[str]) -> tuple[str, ...]:
    """The items of ``ignore`` as code prefixes; one that matches no rule is a typo and an
    error, not a no-op."""
    from initaudit.selectors import UnknownSelector, resolve_all

    items = (ignore,) if isinstance(ignore, str) else tuple(ignore)
    try:
        return resolve_all(items)
    except UnknownSelector as exc:
        raise ValueError(f"ignore: {exc}") from None


def _ignored(finding: AuditFinding, ignore: tuple[str, ...]) -> bool:
    from initaudit.selectors import matches

    return matches(finding.code, ignore)
