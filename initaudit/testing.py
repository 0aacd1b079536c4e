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
    """The items of ``ignore``; one that matches no rule is a typo and an error, not a no-op."""
    from initaudit.catalogue import entries

    items = (ignore,) if isinstance(ignore, str) else tuple(ignore)
    known = entries().values()
    for item in items:
        if not item or not any(e.code.startswith(item.upper()) or e.name == item for e in known):
            raise ValueError(f"ignore: {item!r} is not a rule code, prefix or name")
    return items


def _ignored(finding: Finding, ignore: tuple[str, ...]) -> bool:
    return any(finding.code.startswith(item.upper()) or finding.name == item for item in ignore)
