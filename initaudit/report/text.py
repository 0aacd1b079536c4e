"""``--output-format full`` (alias ``text``): ``path:line:col: CODE message``, the source line
with a caret, a summary.

In a notebook the position is ``path:cell N:line:col:``, the line counted within cell N. A
finding's related places (another file's init helper applied here) follow its snippet as
``= note: path:line:col: xavier_uniform_ here``.
"""

from __future__ import annotations

from rich.console import Console
from rich.markup import escape

from initaudit.diagnostics import Applicability, Diagnostic, Severity
from initaudit.lint.run.summary import Summary
from initaudit.report.printable import printable

_STYLE = {Severity.ERROR: "bold red", Severity.WARNING: "yellow", Severity.INFO: "cyan"}


def render(summary: Summary, console: Console, quiet: bool = False) -> None:
    """``quiet``: the findings only, without the summary line."""
    for diagnostic in summary.diagnostics:
        _diagnostic(console, diagnostic, summary.source_lines(diagnostic))
    if quiet:
        return
    console.print(summary_line(summary), style="" if summary.diagnostics or summary.skipped else "green",
                  highlight=False, soft_wrap=True, markup=False)


def _diagnostic(console: Console, d: Diagnostic, lines: list[str]) -> None:
    style = _STYLE[d.severity]
    console.print(
        f"[bold]{escape(printable(_position(d)))}:[/bold] [{style}]{d.code}[/{style}] "
        f"{escape(printable(d.message))} [dim]\\[{d.name}, {d.severity.value}][/dim]",
        highlight=False, soft_wrap=True,
    )
    if 0 < d.line <= len(lines):
        raw = lines[d.line - 1].rstrip("\r\n").expandtabs(1)
        end = d.end_column - 1 if d.end_line == d.line else len(raw)
        # Escaped control characters widen the line: the caret counts in what is shown.
        start, width = len(printable(raw[: d.column - 1])), len(printable(raw[d.column - 1: end]))
        gutter = f"{d.line} | "
        console.print(f"[dim]{gutter}[/dim]{escape(printable(raw))}", highlight=False, soft_wrap=True)
        console.print(" " * (len(gutter) + start) + f"[{style}]{'^' * max(width, 1)}[/{style}]",
                      highlight=False, soft_wrap=True)
    for related in d.related:  # another file's line the finding involves (an imported helper's init)
        console.print(f"  [dim]= note: {escape(printable(f'{related.path}:{related.line}:{related.column}'))}: "
                      f"{escape(printable(related.message))}[/dim]", highlight=False, soft_wrap=True)
    if d.fix is not None and d.fix.edits:
        flag = "--fix" if d.fix.applicability is Applicability.SAFE else "--unsafe-fixes"
        console.print(f"  [dim]= fix ({flag}): {escape(printable(d.fix.message))}[/dim]", highlight=False,
                      soft_wrap=True)
    console.print()


def _position(d: Diagnostic) -> str:
    cell = "" if d.cell is None else f"cell {d.cell}:"
    return f"{d.path}:{cell}{d.line}:{d.column}"


def summary_line(summary: Summary) -> str:
    """The run in one line: what was found and fixed, and what --fix would repair."""
    files = f"{summary.files} file{'s' if summary.files != 1 else ''}"
    fixed = f"Fixed {summary.fixed} problem{'s' if summary.fixed != 1 else ''}. " if summary.fixed else ""
    unchecked = ""
    if summary.skipped:
        unchecked = f" {summary.skipped} file{'s' if summary.skipped != 1 else ''} could not be checked."
    if not summary.diagnostics:
        if unchecked:
            checked = summary.files - summary.skipped
            return f"{fixed}No problems found in {checked} file{'s' if checked != 1 else ''}.{unchecked}"
        return f"{fixed}All checks passed ({files} checked)."
    by_severity = {s: sum(1 for d in summary.diagnostics if d.severity is s) for s in Severity}
    parts = ", ".join(f"{n} {s.value}{'s' if n != 1 else ''}" for s, n in by_severity.items() if n)
    count = len(summary.diagnostics)
    text = f"{fixed}Found {count} problem{'s' if count != 1 else ''} ({parts}) in {files}."
    safe = summary.fixable(Applicability.SAFE)
    unsafe = summary.fixable(Applicability.UNSAFE)
    if safe:
        text += f" {safe} fixable with --fix."
    if unsafe:
        text += f" {unsafe} more with --fix --unsafe-fixes."
    return text + unchecked
