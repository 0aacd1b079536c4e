"""``--format sarif``: SARIF 2.1.0 for code-scanning dashboards."""

from __future__ import annotations

import json
from pathlib import Path

from initaudit import __version__
from initaudit.diagnostics import Diagnostic, Severity
from initaudit.lint.rules import RULES
from initaudit.report.summary import Summary

_LEVEL = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "note"}
_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"


def render(summary: Summary) -> str:
    rules = [{
        "id": rule.info.code,
        "name": rule.info.name,
        "shortDescription": {"text": rule.info.name.replace("-", " ")},
        "defaultConfiguration": {"level": _LEVEL[rule.info.severity]},
    } for rule in RULES]
    index = {rule["id"]: i for i, rule in enumerate(rules)}
    results = [_result(d, index[d.code]) for d in summary.diagnostics]
    return json.dumps({
        "$schema": _SCHEMA,
        "version": "2.1.0",
        "runs": [{"tool": {"driver": {"name": "initaudit", "version": __version__, "rules": rules}},
                  "results": results}],
    }, indent=2)


def _result(d: Diagnostic, rule_index: int) -> dict[str, object]:
    result: dict[str, object] = {
        "ruleId": d.code,
        "ruleIndex": rule_index,
        "level": _LEVEL[d.severity],
        "message": {"text": d.message if d.cell is None else f"cell {d.cell}: {d.message}"},
        "locations": [{"physicalLocation": {
            "artifactLocation": {"uri": Path(d.path).as_posix()},
            "region": {"startLine": d.line, "startColumn": d.column,
                       "endLine": d.end_line, "endColumn": d.end_column},
        }}],
    }
    if d.cell is not None:
        # SARIF has no notion of notebook cells: the region counts lines within this cell.
        result["properties"] = {"cell": d.cell}
    return result
