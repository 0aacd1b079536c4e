"""``initaudit model`` text report: per-layer table, findings, signal profile (rich)."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, TextIO

from rich.console import Console
from rich.table import Table
from rich.text import Text

from initaudit.audit.results import AuditReport, ParameterReport
from initaudit.diagnostics import Severity
from initaudit.report.printable import printable

if TYPE_CHECKING:
    from initaudit.audit.fixer import FixOutcome

BAR_WIDTH = 9  # cells; the middle one is ratio 1, each side spans a factor of 4 (log scale)
STYLE = {Severity.ERROR: "bold red", Severity.WARNING: "yellow", Severity.INFO: "cyan"}


def _console(stream: TextIO) -> Console:
    return Console(file=stream, width=None if stream.isatty() else 150, highlight=False)


def render_text(report: AuditReport, stream: TextIO) -> None:
    console = _console(stream)
    console.print(Text(f"initaudit model {printable(report.source)}", style="bold"))
    console.print(_parameter_table(report))
    if report.signal:
        console.print(_signal_table(report))
    for note in report.notes:
        console.print(Text(f"note: {printable(note)}", style="dim"))
    for finding in report.findings:
        line = Text()
        line.append(f"{finding.code} ", style="bold")
        line.append(f"{finding.severity.value}", style=STYLE[finding.severity])
        line.append(f" {printable(finding.parameter or '(model)')}: {printable(finding.message)} [{finding.name}]")
        console.print(line)
    counts = {s: sum(f.severity is s for f in report.findings) for s in Severity}
    console.print(f"{len(report.parameters)} parameters, {counts[Severity.ERROR]} errors, "
                  f"{counts[Severity.WARNING]} warnings, {counts[Severity.INFO]} info")


def _parameter_table(report: AuditReport) -> Table:
    verdicts: dict[str, tuple[Severity, str]] = {}
    for finding in report.findings:
        if finding.parameter is None:
            continue
        current = verdicts.get(finding.parameter)
        if current is None or _rank(finding.severity) > _rank(current[0]):
            verdicts[finding.parameter] = (finding.severity, finding.code)
    table = Table(title="parameters", title_justify="left", show_edge=False, pad_edge=False)
    for column in ("name", "shape", "scheme", "activation", "std", "expected", "ratio", "verdict"):
        table.add_column(column, justify="right" if column in ("std", "expected") else "left")
    for parameter in report.parameters:
        verdict = verdicts.get(parameter.name)
        table.add_row(
            Text(printable(parameter.name)), "x".join(map(str, parameter.shape)) or "scalar", _scheme(parameter),
            Text(printable(parameter.activation or "-") + (" (norm)" if parameter.norm_between else "")),
            f"{parameter.std:.4g}",
            "-" if parameter.expected_std is None else f"{parameter.expected_std:.4g}",
            _ratio(parameter.std_ratio),
            Text("ok", style="green") if verdict is None else
            Text(f"{verdict[0].value} {verdict[1]}", style=STYLE[verdict[0]]),
        )
    return table


def _rank(severity: Severity) -> int:
    return {Severity.INFO: 0, Severity.WARNING: 1, Severity.ERROR: 2}[severity]


def _scheme(parameter: ParameterReport) -> str:
    scheme = parameter.scheme
    text = scheme.name
    if scheme.gain is not None and scheme.name != "pytorch_default":
        text += f" g={scheme.gain:.3g}"
    if scheme.aliases:
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
    return Text(f"{ratio:5.2f} ") + Text(bar, style=style)


def _signal_table(report: AuditReport) -> Table:
    table = Table(title="signal through depth (random input)", title_justify="left",
                  show_edge=False, pad_edge=False)
    for column in ("module", "forward std", "across-sample std", "grad norm dL/dh"):
        table.add_column(column, justify="left" if column == "module" else "right")
    for row in report.signal:
        table.add_row(Text(printable(row.module or "(model)")), f"{row.forward_std:.3g}", f"{row.sample_std:.3g}",
                      "-" if row.grad_norm is None else f"{row.grad_norm:.3g}")
    return table


def render_fix(outcome: "FixOutcome", stream: TextIO) -> None:
    console = _console(stream)
    for note in outcome.notes:
        console.print(Text(f"note: {printable(note)}", style="dim"))
    if not outcome.changes:
        console.print("fix: nothing to re-initialise")
        return
    table = Table(title=Text(f"fix written to {printable(outcome.output)}"), title_justify="left",
                  show_edge=False, pad_edge=False)
    for column in ("parameter", "scheme", "std before", "std after", "target", "verified"):
        table.add_column(column)
    for change in outcome.changes:
        table.add_row(Text(printable(change.name)), change.scheme, f"{change.std_before:.4g}",
                      f"{change.std_after:.4g}",
                      "-" if change.target_std is None else f"{change.target_std:.4g}",
                      Text("yes", style="green") if change.verified else Text("no", style="red"))
    console.print(table)
    for label, before, after in outcome.signal_ratios:
        console.print(f"{label}: {_fmt(before)} -> {_fmt(after)}")


def _fmt(value: float | None) -> str:
    return "-" if value is None else f"{value:.3g}"
