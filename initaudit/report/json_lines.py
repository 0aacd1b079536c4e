"""``--output-format json-lines``: one JSON diagnostic object per line, no summary."""

from __future__ import annotations

import json

from initaudit.lint.run.summary import Summary


def render(summary: Summary) -> str:
    return "\n".join(json.dumps(summary.diagnostic_dict(d)) for d in summary.diagnostics)
