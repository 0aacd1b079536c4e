"""``--format sarif``: SARIF 2.1.0 for code-scanning dashboards."""

from __future__ import annotations

import json
from pathlib import Path

from initaudit import __version__
from initaudit.diagnostics import Severity
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
    results = [{
        "ruleId": d.code,
        "ruleIndex": index[d.code],
        "level": _LEVEL[d.severity],
        "message": {"text": d.message},
        "locations": [{"physicalLocation": {
            "artifactLocation": {"uri": Path(d.path).as_posix()},
            "region": {"startLine": d.line, "startColumn": d.column,
                       "endLine": d.end_line, "endColumn": d.end_column},
        }}],
    } for d in summary.diagnostics]
    return json.dumps({
        "$schema": _SCHEMA,
        "version": "2.1.0",
        "runs": [{"tool": {"driver": {"name": "initaudit", "version": __version__, "rules": rules}},
                  "results": results}],
    }, indent=2)
