"""``--output-format json``: the contract other tools parse.

A notebook's diagnostics have one more key, ``cell`` (1-based, counting every cell); their
``line`` and ``end_line`` count within that cell, as do the rows of their fix edits.
"""

from __future__ import annotations

import json

from initaudit.diagnostics import Diagnostic
from initaudit.report.edits import edit_locations
from initaudit.report.summary import Summary


def render(summary: Summary) -> str:
    return json.dumps({
        "version": 1,
        "diagnostics": [diagnostic_object(summary, d) for d in summary.diagnostics],
        "summary": summary.counts(),
    }, indent=2)


def diagnostic_object(summary: Summary, d: Diagnostic) -> dict[str, object]:
    """The contract's diagnostic object, with ``fix.edits`` and a notebook's ``cell``."""
    data = d.to_dict()
    if isinstance(data["fix"], dict):
        data["fix"] = {**data["fix"], "edits": edit_locations(d, summary.texts.get(d.path),
                                                                  summary.boundaries.get(d.path))}
    if d.cell is not None:
        data["cell"] = d.cell
    return data
