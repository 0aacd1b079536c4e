"""``initaudit model --format json``: the contract's single JSON object."""

from __future__ import annotations

from typing import TextIO

from initaudit.auditor.results import AuditReport


def render_json(report: AuditReport, stream: TextIO) -> None:
    stream.write(report.to_json() + "\n")
