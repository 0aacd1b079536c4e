"""``--output-format sarif``: SARIF 2.1.0 as GitHub code scanning reads it (the log and its
locations: :mod:`initaudit.report.sarif_log`).

``partialFingerprints`` identify a finding by its code, the content of its line and its
occurrence, so that an alert survives code moving around it. A notebook's result points at the
line of the ``.ipynb`` file that stores its source line; its cell and in-cell position are in
``properties`` and the message. The log describes the rules its results refer to, so that it
stays the same when a rule the run did not report is added.
"""

from __future__ import annotations

from initaudit.diagnostics import Diagnostic
from initaudit.lint.rules import RULES
from initaudit.lint.run.fingerprints import line_fingerprints
from initaudit.lint.run.summary import Summary
from initaudit.report.sarif_log import LEVEL, artifact_location, rule_descriptor, sarif_log

#: The key GitHub documents for fingerprints computed by the tool from the line's content.
_FINGERPRINT = "initaudit/line/v1"


def render(summary: Summary) -> str:
    # The rules the results refer to, as SARIF requires: what a run did not find is not listed.
    found = {d.code for d in summary.diagnostics}
    rules = [rule_descriptor(rule.info) for rule in RULES if rule.info.code in found]
    index = {rule["id"]: i for i, rule in enumerate(rules)}
    results = [_result(summary, d, index[d.code], fingerprint)
               for d, fingerprint in zip(summary.diagnostics, line_fingerprints(summary), strict=True)]
    return sarif_log(rules, results)


def _result(summary: Summary, d: Diagnostic, rule_index: int, fingerprint: str) -> dict[str, object]:
    result: dict[str, object] = {
        "ruleId": d.code,
        "ruleIndex": rule_index,
        "level": LEVEL[d.severity],
        "message": {"text": d.message if d.cell is None else f"cell {d.cell}, line {d.line}: {d.message}"},
        "locations": [{"physicalLocation": {"artifactLocation": artifact_location(d.path),
                                            "region": _region(summary, d)}}],
        "partialFingerprints": {_FINGERPRINT: fingerprint},
    }
    if d.cell is not None:
        result["properties"] = {"cell": d.cell, "cellLine": d.line, "cellColumn": d.column}
    return result


def _region(summary: Summary, d: Diagnostic) -> dict[str, int]:
    if d.cell is None:
        return {"startLine": d.line, "startColumn": d.column, "endLine": d.end_line, "endColumn": d.end_column}
    return {"startLine": summary.file_line(d) or 1}
