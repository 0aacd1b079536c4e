"""``--output-format pylint``: ``path:line: [CODE] message``, the line format pylint's
parseable output has and many editors and CI log parsers read.

A notebook's line is the line of the ``.ipynb`` file that stores the source line; the cell and
the line in it begin the message.
"""

from __future__ import annotations

from initaudit.diagnostics import Diagnostic
from initaudit.lint.run.summary import Summary
from initaudit.report.printable import printable


def render(summary: Summary) -> str:
    return "\n".join(
        f"{printable(d.path)}:{_line(summary, d)}: [{d.code}] {_where(d)}{printable(d.message)}"
        for d in summary.diagnostics
    )


def _line(summary: Summary, d: Diagnostic) -> int:
    return summary.file_line(d) or 1


def _where(d: Diagnostic) -> str:
    return "" if d.cell is None else f"cell {d.cell}, line {d.line}: "
