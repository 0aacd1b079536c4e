"""A one-line check for a project's own test suite::

    from initaudit.testing import assert_well_initialized

    def test_model_is_well_initialized():
        assert_well_initialized(build_model())

It fails with the auditor's text report when a finding at warning or error severity remains.
"""

from __future__ import annotations

import dataclasses
import io
from typing import Any, Callable, Iterable, Sequence

from initaudit.audit.results import AuditReport, Finding

#: Width of the report in a failure message: pytest shows it as it is.
REPORT_WIDTH = 100


def assert_well_initialized(model: Any | Callable[[], Any], *, ignore: Iterable[str] = (),
                            input_shape: Sequence[int] | None = None, seed: int = 0) -> AuditReport:
    """Audit ``model`` (an ``nn.Module`` or a factory) and raise ``AssertionError`` with the
    readable report if any finding at warning or error severity is left after ``ignore``
    (codes such as ``IA206``, prefixes such as ``IA20``, or rule names such as
    ``signal-collapse``). Returns the report, the ignored findings left out."""
    from initaudit.audit import audit
    from initaudit.report.audit_text import render_text

    ignored = _checked(ignore)
    report = audit(model, input_shape, seed=seed)
    kept = dataclasses.replace(report, findings=[f for f in report.findings if not _ignored(f, ignored)])
    if not kept.ok:
        stream = io.StringIO()
        render_text(kept, stream, width=REPORT_WIDTH)
        raise AssertionError("initaudit found initialisation problems:\n" + stream.getvalue())
    return kept


def _checked(ignore: Iterable[str]) -> tuple[str, ...]:
    """The items of ``ignore`` as code prefixes; one that matches no rule is a typo and an
    error, not a no-op."""
    from initaudit.selectors import UnknownSelector, resolve_all

    items = (ignore,) if isinstance(ignore, str) else tuple(ignore)
    try:
        return resolve_all(items)
    except UnknownSelector as exc:
        raise ValueError(f"ignore: {exc}") from None


def _ignored(finding: Finding, ignore: tuple[str, ...]) -> bool:
    from initaudit.selectors import matches

    return matches(finding.code, ignore)
