"""``initaudit model`` text report: per-layer table, findings, signal profile (rich)."""

from __future__ import annotations

import math
import os
import shutil
from typing import TYPE_CHECKING, Iterable, TextIO

from rich.console import Console
from rich.table import Table
from rich.text import Text

from initaudit.auditor.results import AuditReport, ParameterReport
from initaudit.diagnostics import Severity
from initaudit.report.console import make_console
from initaudit.report.printable import printable

if TYPE_CHECKING:
    from initaudit.auditor.fix.fixer import FixOutcome

BAR_WIDTH = 9  # cells; the middle one is ratio 1, each side spans a factor of 4 (log scale)
STYLE = {Severity.ERROR: "bold red", Severity.WARNING: "yellow", Severity.INFO: "cyan"}
#: Width when the output is not a terminal and COLUMNS is not set.
DEFAULT_WIDTH = 80
#: From this width on, a scheme's other names are shown next to it.
WIDE = 110
LEGEND = ("scheme: what produced the values (? when unsure); feeds: the activation after the layer; "
          "target: the std it needs; ratio: std / target, drawn on a log scale from 1/4 to 4 with | "
          "at 1 and # from | to the value; verdict: the most severe finding (listed below)")


def _console(stream: TextIO, width: int | None = None, color: str = "auto") -> Console:
    return make_console(color, stream, width=width or report_width(stream))


def report_width(stream: TextIO) -> int:
    """COLUMNS when set, else the terminal's width, else 80 (piped output)."""
    columns = os.environ.get("COLUMNS", "")
    if columns.isdigit() and int(columns) > 0:
        return int(columns)
    if stream.isatty():
        return shutil.get_terminal_size((DEFAULT_WIDTH, 24)).columns
    return DEFAULT_WIDTH


def render_text(report: AuditReport, stream: TextIO, width: int | None = None, color: str = "auto") -> None:
    """``color``: ``auto``, ``always`` or ``never`` (a report written to a file)."""
    console = _console(stream, width, color)
    console.print(Text(f"initaudit model {printable(report.source)}", style="bold"))
    console.print(_parameter_table(report, console))
    if any(p.std_ratio is not None for p in report.parameters):
        console.print(Text(LEGEND, style="dim"))
    if report.signal:
        console.print(_signal_table(report, console.width))
    for note in report.notes:
        console.print(Text(f"note: {printable(note)}", style="dim"))
    for finding in report.findings:
        line = Text()
        line.append(f"{finding.code} ", style="bold")
        line.append(f"{finding.severity.value}", style=STYLE[finding.severity])
        line.append(f" {printable(finding.parameter or '(model)')}: {printable(finding.message)} "
                    f"[{finding.name}]")
        console.print(line)
    counts = [_plural(len(report.parameters), "parameter"), _plural(report.count(Severity.ERROR), "error"),
              _plural(report.count(Severity.WARNING), "warning"), f"{report.count(Severity.INFO)} info"]
    console.print(", ".join(counts))


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"


def _table(title: str | Text) -> Table:
    return Table(title=title, title_justify="left", box=None, pad_edge=False, padding=(0, 1, 0, 0),
                 header_style="bold")


def _parameter_table(report: AuditReport, console: Console) -> Table:
    verdicts: dict[str, tuple[Severity, str]] = {}
    for finding in report.findings:
        if finding.parameter is None:
            continue
        current = verdicts.get(finding.parameter)
        if current is None or _rank(finding.severity) > _rank(current[0]):
            verdicts[finding.parameter] = (finding.severity, finding.code)
    table = _table("parameters")
    # Names are never cut: the name column keeps its longest name up to a third of the width
    # and folds only longer ones; the scheme column wraps to make room.
    width = console.width
    table.add_column("name", overflow="fold", min_width=_longest((p.name for p in report.parameters), width))
    table.add_column("shape", overflow="fold")
    table.add_column("scheme", overflow="fold", ratio=1)
    table.add_column("feeds", overflow="fold")
    table.add_column("std", justify="right", no_wrap=True)
    table.add_column("target", justify="right", no_wrap=True)
    table.add_column("ratio", no_wrap=True)
    table.add_column("verdict", no_wrap=True)
    for parameter in report.parameters:
        verdict = verdicts.get(parameter.name)
        table.add_row(
            Text(printable(parameter.name)), "x".join(map(str, parameter.shape)) or "scalar",
            _scheme(parameter, aliases=width >= WIDE),
            Text(printable(parameter.activation or "-") + (" (norm)" if parameter.norm_between else "")),
            f"{parameter.std:.3g}",
            "-" if parameter.expected_std is None else f"{parameter.expected_std:.3g}",
            _ratio(parameter.std_ratio),
            Text("ok", style="green") if verdict is None else Text(verdict[1], style=STYLE[verdict[0]]),
        )
    return table


def _longest(names: Iterable[str], width: int) -> int:
    """Width a name column keeps: its longest name, up to a third of the console width."""
    return min(max((len(printable(name)) for name in names), default=4), width // 3)


def _rank(severity: Severity) -> int:
    return {Severity.INFO: 0, Severity.WARNING: 1, Severity.ERROR: 2}[severity]


def _scheme(parameter: ParameterReport, aliases: bool) -> str:
    scheme = parameter.scheme
    text = scheme.name
    if scheme.gain is not None and scheme.name != "pytorch_default":
        text += f" g={scheme.gain:.3g}"
    if scheme.aliases and aliases:
        text += f" (= {', '.join(scheme.aliases[:2])})"
    if scheme.confidence < 0.6 and scheme.family not in ("zeros", "ones", "constant"):
        text += " ?"
    return text


def _ratio(ratio: float | None) -> Text:
    if ratio is None:
        return Text("-")
    if ratio <= 0 or not math.isfinite(ratio):
        return Text(f"{ratio:.2f}")
    half = BAR_WIDTH // 2
    position = half + max(-half, min(half, round(math.log(ratio, 4) * half)))
    cells = ["."] * BAR_WIDTH
    low, high = sorted((half, position))
    for i in range(low, high + 1):
        cells[i] = "#"
    cells[half] = "|"
    bar = "".join(cells)
    style = "green" if 0.8 <= ratio <= 1.25 else "yellow"
    return Text(f"{ratio:.2f} ") + Text(bar, style=style)


def _signal_table(report: AuditReport, width: int) -> Table:
    table = _table("signal through depth (random input)")
    table.add_column("module", overflow="fold", min_width=_longest((row.module for row in report.signal), width))
    for column in ("forward std", "across-sample std", "grad norm dL/dh"):
        table.add_column(column, justify="right")
    for row in report.signal:
        table.add_row(Text(printable(row.module or "(model)")), f"{row.forward_std:.3g}", f"{row.sample_std:.3g}",
                      "-" if row.grad_norm is None else f"{row.grad_norm:.3g}")
    return table


def render_fix(outcome: "FixOutcome", stream: TextIO) -> None:
    console = _console(stream)
    for note in outcome.notes:
        console.print(Text(f"note: {printable(note)}", style="dim"))
    if outcome.changes:
        console.print(_fix_table(outcome, console))
    else:
        console.print("fix: nothing to re-initialise")
    for label, before, after in outcome.signal_ratios:
        console.print(f"{label}: {_fmt(before)} -> {_fmt(after)}")
    if not outcome.remaining:
        console.print("re-audit of the output: no finding at warning or above")
    for finding in outcome.remaining:
        console.print(Text(f"re-audit of the output: {finding.code} {finding.severity.value} "
                           f"{printable(finding.parameter or '(model)')}: {printable(finding.message)}"))


def _fix_table(outcome: "FixOutcome", console: Console) -> Table:
    table = _table(Text(f"fix written to {printable(str(outcome.output))}"))
    table.add_column("parameter", overflow="fold", min_width=_longest((c.name for c in outcome.changes), console.width))
    for column in ("scheme", "std before", "std after", "target", "verified"):
        table.add_column(column)
    for change in outcome.changes:
        table.add_row(Text(printable(change.name)), change.scheme, f"{change.std_before:.4g}",
                      f"{change.std_after:.4g}",
                      "-" if change.target_std is None else f"{change.target_std:.4g}",
                      Text("yes", style="green") if change.verified else Text("no", style="red"))
    return table


def _fmt(value: float | None) -> str:
    return "-" if value is None else f"{value:.3g}"
