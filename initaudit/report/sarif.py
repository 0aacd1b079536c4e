"""``--output-format sarif``: SARIF 2.1.0 as GitHub code scanning reads it.

Locations are URIs relative to ``%SRCROOT%`` (the working directory) where the file lies inside
it, ``file:`` URIs otherwise.
``partialFingerprints`` identify a finding by its code, the content of its line and its
occurrence, so that an alert survives code moving around it. A notebook's result points at the
line of the ``.ipynb`` file that stores its source line; its cell and in-cell position are in
``properties`` and the message.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from urllib.parse import quote

from initaudit.catalogue import Entry
from initaudit.diagnostics import Diagnostic, Severity
from initaudit.lint.fingerprints import line_fingerprints
from initaudit.lint.rules import RULES
from initaudit.lint.summary import Summary
from initaudit.report.paths import repository_path
from initaudit.version import __version__

_LEVEL = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "note"}
_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
_ROOT = "%SRCROOT%"
#: The key GitHub documents for fingerprints computed by the tool from the line's content.
_FINGERPRINT = "initaudit/line/v1"


def render(summary: Summary) -> str:
    rules = [_rule(rule.info) for rule in RULES]
    index = {rule["id"]: i for i, rule in enumerate(rules)}
    results = [_result(summary, d, index[d.code], fingerprint)
               for d, fingerprint in zip(summary.diagnostics, line_fingerprints(summary), strict=True)]
    return json.dumps({
        "$schema": _SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {"name": "initaudit", "version": __version__, "rules": rules}},
            "originalUriBaseIds": {_ROOT: {"uri": Path(os.getcwd()).resolve().as_uri() + "/"}},
            "results": results,
        }],
    }, indent=2)


def _rule(page: Entry) -> dict[str, object]:
    return {
        "id": page.code,
        "name": page.name,
        "shortDescription": {"text": page.summary},
        "fullDescription": {"text": _plain(page.sections.get("What it does", page.summary))},
        # The whole page travels as help: a helpUri would point at this machine's copy.
        "help": {"text": _plain(page.body), "markdown": page.body.strip()},
        "defaultConfiguration": {"level": _LEVEL[page.severity]},
    }


def _plain(markdown: str) -> str:
    """Markdown made readable as plain text: code fences and inline backticks dropped."""
    lines = [line for line in markdown.strip().splitlines() if not line.startswith("```")]
    return "\n".join(lines).replace("`", "")


def _result(summary: Summary, d: Diagnostic, rule_index: int, fingerprint: str) -> dict[str, object]:
    path = repository_path(d.path)
    location: dict[str, object] = (
        {"uri": Path(path).as_uri()} if Path(path).is_absolute() else {"uri": quote(os.fsencode(path)), "uriBaseId": _ROOT})
    result: dict[str, object] = {
        "ruleId": d.code,
        "ruleIndex": rule_index,
        "level": _LEVEL[d.severity],
        "message": {"text": d.message if d.cell is None else f"cell {d.cell}, line {d.line}: {d.message}"},
        "locations": [{"physicalLocation": {"artifactLocation": location, "region": _region(summary, d)}}],
        "partialFingerprints": {_FINGERPRINT: fingerprint},
    }
    if d.cell is not None:
        result["properties"] = {"cell": d.cell, "cellLine": d.line, "cellColumn": d.column}
    return result


def _region(summary: Summary, d: Diagnostic) -> dict[str, int]:
    if d.cell is None:
        return {"startLine": d.line, "startColumn": d.column, "endLine": d.end_line, "endColumn": d.end_column}
    return {"startLine": summary.file_line(d) or 1}
