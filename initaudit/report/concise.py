"""``--output-format concise``: one line per finding, ``path:line:col: CODE [*] message``.

``[*]`` marks a finding ``--fix`` repairs (``[-]`` one that needs ``--unsafe-fixes``); a
notebook's position is ``path:cell N:line:col``. The last line is the run's summary.
"""

from __future__ import annotations

from initaudit.diagnostics import Applicability, Diagnostic
from initaudit.lint.run.summary import Summary
from initaudit.report.printable import printable
from initaudit.report.text import summary_line

_MARK = {Applicability.SAFE: "[*] ", Applicability.UNSAFE: "[-] "}


def render(summary: Summary, quiet: bool = False) -> str:
    """``quiet``: the findings only, without the summary line."""
    lines = [_line(d) for d in summary.diagnostics]
    return "\n".join(lines if quiet else [*lines, summary_line(summary)])


def _line(d: Diagnostic) -> str:
    cell = "" if d.cell is None else f"cell {d.cell}:"
    mark = _MARK[d.fix.applicability] if d.fix is not None and d.fix.edits else ""
    return f"{printable(d.path)}:{cell}{d.line}:{d.column}: {d.code} {mark}{printable(d.message)}"
