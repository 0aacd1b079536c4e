"""``--statistics``: how many findings each rule has, most frequent first."""

from __future__ import annotations

import json
from collections import Counter

from initaudit.diagnostics import Applicability, Diagnostic
from initaudit.lint.run.summary import Summary

_MARK = {Applicability.SAFE: "[*]", Applicability.UNSAFE: "[-]", None: "   "}


def rows(summary: Summary) -> list[dict[str, object]]:
    """One row per code: code, name, count and the most --fix can do for it (safe, unsafe or
    null), ordered by count, then code."""
    counts = Counter(d.code for d in summary.diagnostics)
    names = {d.code: d.name for d in summary.diagnostics}
    fixable: dict[str, Applicability | None] = {}
    for d in summary.diagnostics:
        fixable[d.code] = _better(fixable.get(d.code), _fix(d))
    return [{"code": code, "name": names[code], "count": count,
             "fixable": None if fixable[code] is None else fixable[code].value}
            for code, count in sorted(counts.items(), key=lambda item: (-item[1], item[0]))]


def render(summary: Summary, as_json: bool = False) -> str:
    table = rows(summary)
    if as_json:
        return json.dumps(table, indent=2)
    if not table:
        return ""
    width = max(len(str(row["count"])) for row in table)
    lines = []
    for row in table:
        applicability = None if row["fixable"] is None else Applicability(row["fixable"])
        lines.append(f"{row['count']:>{width}}\t{row['code']}\t{_MARK[applicability]} {row['name']}")
    return "\n".join(lines)


def _fix(diagnostic: Diagnostic) -> Applicability | None:
    fix = diagnostic.fix
    return fix.applicability if fix is not None and fix.edits else None


def _better(a: Applicability | None, b: Applicability | None) -> Applicability | None:
    if Applicability.SAFE in (a, b):
        return Applicability.SAFE
    return a or b
