"""``--format json``: the contract other tools parse.

A notebook's diagnostics have one more key, ``cell`` (1-based, counting every cell); their
``line`` and ``end_line`` count within that cell.
"""

from __future__ import annotations

import json

from initaudit.diagnostics import Diagnostic
from initaudit.report.summary import Summary


def render(summary: Summary) -> str:
    return json.dumps({
        "version": 1,
        "diagnostics": [_diagnostic(d) for d in summary.diagnostics],
        "summary": summary.counts(),
    }, indent=2)


def _diagnostic(d: Diagnostic) -> dict[str, object]:
    return d.to_dict() if d.cell is None else {**d.to_dict(), "cell": d.cell}
