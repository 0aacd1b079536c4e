"""``--format github``: workflow commands that annotate a pull request."""

from __future__ import annotations

from initaudit.diagnostics import Severity
from initaudit.report.summary import Summary

_LEVEL = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "notice"}


def _escape(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape(text).replace(":", "%3A").replace(",", "%2C")


def render(summary: Summary) -> str:
    return "\n".join(
        f"::{_LEVEL[d.severity]} file={_escape_property(d.path)},line={d.line},col={d.column},"
        f"endLine={d.end_line},endColumn={d.end_column},"
        f"title={_escape_property(d.code + ' ' + d.name)}::{_escape(d.message)}"
        for d in summary.diagnostics
    )
