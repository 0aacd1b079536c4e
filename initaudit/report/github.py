"""``--format github``: workflow commands that annotate a pull request."""

from __future__ import annotations

from initaudit.diagnostics import Diagnostic, Severity
from initaudit.lint.run.summary import Summary
from initaudit.report.printable import printable

_LEVEL = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "notice"}


def _escape(text: str) -> str:
    return printable(text).replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape(text).replace(":", "%3A").replace(",", "%2C")


def render(summary: Summary) -> str:
    return "\n".join(annotation(d.severity, d.path, _region(summary, d), d.code + " " + d.name, _message(d))
                     for d in summary.diagnostics)


def annotation(severity: Severity, path: str, region: str, title: str, message: str) -> str:
    """One workflow command; ``region`` is empty or ``line=N,...`` properties ending in a comma."""
    return (f"::{_LEVEL[severity]} file={_escape_property(path)},{region}title={_escape_property(title)}"
            f"::{_escape(message)}")


def _region(summary: Summary, d: Diagnostic) -> str:
    # A notebook's lines count within a cell: the annotation marks the line of the .ipynb file
    # that stores the source line, and the message gives the position in the cell.
    if d.cell is not None:
        line = summary.file_line(d)
        return "" if line is None else f"line={line},"
    return f"line={d.line},col={d.column},endLine={d.end_line},endColumn={d.end_column},"


def _message(d: Diagnostic) -> str:
    if d.cell is None:
        return d.message
    return f"cell {d.cell}, line {d.line}, column {d.column}: {d.message}"
