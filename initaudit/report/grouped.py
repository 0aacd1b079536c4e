"""``--output-format grouped``: the findings under the name of their file, one line each
(``line:col CODE [*] message``, ``cell N:line:col`` in a notebook), then the summary line."""

from __future__ import annotations

from initaudit.diagnostics import Applicability, Diagnostic
from initaudit.lint.run.summary import Summary
from initaudit.report.printable import printable
from initaudit.report.text import summary_line

_MARK = {Applicability.SAFE: "[*] ", Applicability.UNSAFE: "[-] "}


def render(summary: Summary, quiet: bool = False) -> str:
    """``quiet``: the groups only, without the summary line."""
    by_file: dict[str, list[Diagnostic]] = {}
    for d in summary.diagnostics:
        by_file.setdefault(d.path, []).append(d)
    blocks = [_group(path, found) for path, found in by_file.items()]
    return "\n\n".join(blocks if quiet else [*blocks, summary_line(summary)])


def _group(path: str, found: list[Diagnostic]) -> str:
    positions = [_position(d) for d in found]
    width = max(map(len, positions))
    lines = [f"  {position.ljust(width)} {d.code} {_mark(d)}{printable(d.message)}"
             for position, d in zip(positions, found, strict=True)]
    return "\n".join([f"{printable(path)}:", *lines])


def _position(d: Diagnostic) -> str:
    cell = "" if d.cell is None else f"cell {d.cell}:"
    return f"{cell}{d.line}:{d.column}"


def _mark(d: Diagnostic) -> str:
    return _MARK[d.fix.applicability] if d.fix is not None and d.fix.edits else ""
