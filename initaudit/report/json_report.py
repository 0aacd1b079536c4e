"""``--format json``: the contract other tools parse."""

from __future__ import annotations

import json

from initaudit.report.summary import Summary


def render(summary: Summary) -> str:
    return json.dumps({
        "version": 1,
        "diagnostics": [d.to_dict() for d in summary.diagnostics],
        "summary": summary.counts(),
    }, indent=2)
