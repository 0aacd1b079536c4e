"""``initaudit model --format json``: the contract's single JSON object."""

from __future__ import annotations

import json
from typing import TextIO

from initaudit.audit.results import AuditReport


def render_json(report: AuditReport, stream: TextIO) -> None:
    json.dump(report.to_dict(), stream, indent=2, allow_nan=False)
    stream.write("\n")
