"""``--output-format json-lines``: one JSON diagnostic object per line, no summary."""

from __future__ import annotations

import json

from initaudit.report.json_report import diagnostic_object
from initaudit.report.summary import Summary


def render(summary: Summary) -> str:
    return "\n".join(json.dumps(diagnostic_object(summary, d)) for d in summary.diagnostics)
