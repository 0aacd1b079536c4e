"""``initaudit model --html FILE``: the audit as one self-contained HTML page.

Findings come first, then the per-layer table and two charts drawn here as inline SVG: each
weight's std against the std its activation needs, and the signal through depth (forward std
and backward gradient norm per layer). Both charts use a log scale. The page loads nothing:
no scripts, fonts or images from anywhere. The charts' numbers are also embedded as JSON
(``<script type="application/json" id="chart-data">``) for tools and tests.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from html import escape
from pathlib import Path

from initaudit.atomic import write_bytes
from initaudit.auditor.results import AuditReport, ParameterReport
from initaudit.diagnostics import Severity
from initaudit.report.printable import printable

WIDTH, HEIGHT = 760, 370
LEFT, RIGHT, TOP, BOTTOM = 64, 56, 28, 154  # plot margins in pixels (names under the axis at 45°)
ZERO_ROW = 18  # pixels below the log-scale area where zeros are drawn (log scales have no 0)
AXIS_LABELS = 24  # names under the x axis at most: more overlap
COLOURS = ("#1f6feb", "#d9480f")
_SEVERITY_CLASS = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "info"}
_CSS = """
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; margin: 2em auto; max-width: 64em;
       color: #1b1f24; padding: 0 1em; }
h1 { font-size: 1.4em; } h2 { font-size: 1.15em; margin-top: 2em; }
table { border-collapse: collapse; font-size: 0.85em; }
th, td { padding: 0.25em 0.6em; border-bottom: 1px solid #d0d7de; text-align: left; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
.error { color: #b42318; font-weight: 600; } .warning { color: #9a6700; } .info { color: #0969da; }
.ok { color: #1a7f37; } .note { color: #57606a; }
code { font-family: ui-monospace, "SFMono-Regular", Menlo, monospace; overflow-wrap: anywhere; }
svg text { font-family: system-ui, sans-serif; font-size: 11px; fill: #1b1f24; }
svg .grid { stroke: #d0d7de; stroke-width: 1; } svg .axis { stroke: #57606a; }
"""


@dataclass(frozen=True)
class Series:
    name: str
    values: list[float | None]  # None: not measured; 0 is drawn on the bottom edge, marked


def render_html(report: AuditReport) -> str:
    weights = [p for p in report.parameters if p.expected_std is not None]
    std_chart = {"labels": [p.name for p in weights], "std": _finite([p.std for p in weights]),
                 "expected_std": _finite([p.expected_std for p in weights])}
    signal_chart = {"labels": [row.module or "(model)" for row in report.signal],
                    "forward_std": _finite([row.forward_std for row in report.signal]),
                    "grad_norm": _finite([row.grad_norm for row in report.signal])}
    data = {"std": std_chart, "signal": signal_chart, "summary": report.summary()}
    parts = [
        "<!DOCTYPE html>", '<html lang="en">', "<head>", '<meta charset="utf-8">',
        f"<title>initaudit model {_text(report.source)}</title>", f"<style>{_CSS}</style>", "</head>",
        "<body>", f"<h1>initaudit model <code>{_text(report.source)}</code></h1>",
        f"<p>{_counts(report)}</p>",
        _findings(report),
        "<h2>Weight std against what the activation needs</h2>",
        _chart("std-chart", std_chart["labels"],
               [Series("std", std_chart["std"]), Series("needed std", std_chart["expected_std"])],
               "std (log scale)") if weights else
        '<p class="note">No weight with a known activation to compare against.</p>',
        "<h2>Signal through depth (random input)</h2>",
        _chart("signal-chart", signal_chart["labels"],
               [Series("forward std", signal_chart["forward_std"]),
                Series("backward gradient norm", signal_chart["grad_norm"])],
               "value (log scale)") if report.signal else
        '<p class="note">No forward probe: see the notes.</p>',
        "<h2>Parameters</h2>", _parameter_table(report),
        *(f'<p class="note">note: {_text(note)}</p>' for note in report.notes),
        f'<script type="application/json" id="chart-data">{_json_for_html(data)}</script>',
        "</body>", "</html>",
    ]
    return "\n".join(parts) + "\n"


def _counts(report: AuditReport) -> str:
    def plural(count: int, noun: str) -> str:
        return f"{count} {noun}{'' if count == 1 else 's'}"

    return ", ".join([plural(len(report.parameters), "parameter"), plural(report.count(Severity.ERROR), "error"),
                      plural(report.count(Severity.WARNING), "warning"), f"{report.count(Severity.INFO)} info"])


def _findings(report: AuditReport) -> str:
    if not report.findings:
        return '<p class="ok">No findings.</p>'
    rows = "".join(
        f'<tr><td class="{_SEVERITY_CLASS[f.severity]}">{f.severity.value}</td><td>{f.code}</td>'
        f"<td><code>{_text(f.parameter or '(model)')}</code></td><td>{_text(f.message)} "
        f'<span class="note">[{escape(f.name)}]</span></td></tr>'
        for f in report.findings)
    return ('<h2>Findings</h2><table id="findings"><thead><tr><th>severity</th><th>code</th>'
            f"<th>parameter</th><th>message</th></tr></thead><tbody>{rows}</tbody></table>")


def _parameter_table(report: AuditReport) -> str:
    worst: dict[str, Severity] = {}
    order = list(Severity)  # error, warning, info: most severe first
    for finding in report.findings:
        if finding.parameter is not None:
            current = worst.get(finding.parameter)
            if current is None or order.index(finding.severity) < order.index(current):
                worst[finding.parameter] = finding.severity
    rows = "".join(_parameter_row(p, worst.get(p.name)) for p in report.parameters)
    head = "".join(f"<th>{column}</th>" for column in
                   ("name", "shape", "scheme", "activation", "std", "needed std", "ratio", "verdict"))
    return f'<table id="parameters"><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>'


def _parameter_row(p: ParameterReport, verdict: Severity | None) -> str:
    ratio = p.std_ratio
    cells = [
        f"<td><code>{_text(p.name)}</code></td>",
        f"<td>{'x'.join(map(str, p.shape)) or 'scalar'}</td>",
        f"<td>{escape(p.scheme.name)}</td>",
        f"<td>{escape(p.activation or '-')}{' (norm)' if p.norm_between else ''}</td>",
        f'<td class="num">{p.std:.4g}</td>',
        f'<td class="num">{"-" if p.expected_std is None else f"{p.expected_std:.4g}"}</td>',
        f'<td class="num">{"-" if ratio is None else f"{ratio:.2f}"}</td>',
        '<td class="ok">ok</td>' if verdict is None else
        f'<td class="{_SEVERITY_CLASS[verdict]}">{verdict.value}</td>',
    ]
    return f"<tr>{''.join(cells)}</tr>"


def _chart(chart_id: str, labels: list[str], series: list[Series], y_label: str) -> str:
    positive = [v for s in series for v in s.values if v is not None and v > 0 and math.isfinite(v)]
    low = math.floor(math.log10(min(positive))) if positive else -1
    high = math.ceil(math.log10(max(positive))) if positive else 1
    high = max(high, low + 1)
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    zero_y = TOP + plot_h + ZERO_ROW

    def x(index: int) -> float:
        return LEFT + (plot_w * (index + 0.5) / max(len(labels), 1))

    def y(value: float) -> float:
        return TOP + plot_h * (high - math.log10(value)) / (high - low)

    out = [f'<svg id="{chart_id}" xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" '
           f'viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-label="{escape(y_label)}">']
    for exponent in range(low, high + 1):
        out.append(f'<line class="grid" x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y(10.0 ** exponent):.1f}" '
                   f'y2="{y(10.0 ** exponent):.1f}"/>')
        out.append(f'<text x="{LEFT - 6}" y="{y(10.0 ** exponent) + 4:.1f}" text-anchor="end">1e{exponent}</text>')
    out.append(f'<line class="grid" stroke-dasharray="3 3" x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{zero_y}" '
               f'y2="{zero_y}"/><text x="{LEFT - 6}" y="{zero_y + 4}" text-anchor="end">0</text>')
    out.append(f'<line class="axis" x1="{LEFT}" x2="{LEFT}" y1="{TOP}" y2="{zero_y}"/>')
    out.append(f'<text transform="translate(14 {TOP + plot_h / 2:.0f}) rotate(-90)" text-anchor="middle">'
               f"{escape(y_label)}</text>")
    for index, label in _axis_labels(labels):
        out.append(f'<text transform="translate({x(index):.1f} {zero_y + 12}) rotate(45)">'
                   f"{_text(label)}</text>")
    for number, s in enumerate(series):
        colour = COLOURS[number % len(COLOURS)]
        points, marks = [], []
        for index, value in enumerate(s.values):
            if value is None or not math.isfinite(value):
                continue
            clipped = value <= 0
            cx, cy = x(index), zero_y if clipped else y(value)
            points.append(f"{cx:.1f},{cy:.1f}")
            data = (f'data-series="{_text(s.name)}" data-label="{_text(labels[index])}" data-value="{value:.6g}"'
                    f"><title>{_text(labels[index])}: {_text(s.name)} {value:.4g}")
            if clipped:  # a hollow square on the row of zeros below the log scale
                marks.append(f'<rect x="{cx - 4:.1f}" y="{cy - 4:.1f}" width="8" height="8" fill="white" '
                             f'stroke="{colour}" {data}</title></rect>')
            else:
                marks.append(f'<circle cx="{cx:.1f}" cy="{cy:.1f}" r="3.5" fill="{colour}" {data}</title></circle>')
        out.append(f'<polyline fill="none" stroke="{colour}" stroke-width="1.5" points="{" ".join(points)}"/>')
        out += marks
        out.append(f'<rect x="{LEFT + 10 + 190 * number}" y="8" width="12" height="12" fill="{colour}"/>'
                   f'<text x="{LEFT + 26 + 190 * number}" y="18">{_text(s.name)}</text>')
    out.append("</svg>")
    return "\n".join(out)


def _axis_labels(labels: list[str]) -> list[tuple[int, str]]:
    """(position, text) under the axis: every label when they fit, else one per block (the
    name up to its first index: ``layers.11``), at the block's first layer, thinned evenly
    when even the blocks are too many. Names are shortened in the middle, never cut to a tail."""
    if len(labels) <= AXIS_LABELS:
        return [(index, _short(label)) for index, label in enumerate(labels)]
    starts: dict[str, int] = {}
    for index, label in enumerate(labels):
        starts.setdefault(_block(label), index)
    blocks = list(starts.items())
    step = max(1, math.ceil(len(blocks) / AXIS_LABELS))
    return [(index, _short(block)) for block, index in blocks[::step]]


def _block(label: str) -> str:
    parts = label.split(".")
    index = next((i for i, part in enumerate(parts) if part.isdigit()), None)
    return ".".join(parts[:index + 1]) if index is not None else parts[0]


def _short(label: str, limit: int = 36) -> str:
    """``label`` within ``limit`` characters: its block (or first part), then as many of its
    last parts as fit (``encoder.layer.11.….query.weight``), so that both where it sits and
    what it is remain."""
    if len(label) <= limit:
        return label
    parts = label.split(".")
    block = _block(label)
    head = block if len(block) + 3 + len(parts[-1]) <= limit else parts[0][: limit // 2]
    tail: list[str] = []
    for part in reversed(parts[len(head.split(".")):]):
        if len(head) + 3 + len(".".join([part, *tail])) > limit:
            break
        tail.insert(0, part)
    return f"{head}.….{'.'.join(tail)}" if tail else f"{head}…{label[-(limit - len(head) - 1):]}"


def _text(text: str) -> str:
    """Text from a checkpoint (names, messages) as HTML: control characters shown escaped."""
    return escape(printable(text))


def _finite(values: list[float | None]) -> list[float | None]:
    return [v if v is not None and math.isfinite(v) else None for v in values]


def _json_for_html(data: object) -> str:
    """JSON that cannot end the script element it sits in."""
    return json.dumps(data, allow_nan=False).replace("<", "\\u003c").replace(">", "\\u003e")


def write_html(report: AuditReport, path: str) -> None:
    """Write the page to ``path`` whole or not at all (a new temporary file, synced, renamed
    into place)."""
    write_bytes(Path(path), render_html(report).encode("utf-8"))
