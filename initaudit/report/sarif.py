"""``--output-format sarif``: SARIF 2.1.0 as GitHub code scanning reads it (the log and its
locations: :mod:`initaudit.report.sarif_log`).

``partialFingerprints`` identify a finding by its code, the content of its line and its
occurrence, so that an alert survives code moving around it. A notebook's result points at the
line of the ``.ipynb`` file that stores its source line; its cell and in-cell position are in
``properties`` and the message. The log describes the rules its results refer to, so that it
stays the same when a rule the run did not report is added.

A finding reported at a call that applies another file's init helper has the helper's init line
as a ``relatedLocation``; the message's mention of that place is an embedded link to it
(``[utils/init.py:5](1)``), its other brackets escaped as SARIF requires.
"""

from __future__ import annotations

from pathlib import Path, PurePosixPath

from initaudit.diagnostics import Diagnostic, RelatedLocation
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
    if d.related:
        result["relatedLocations"] = [
            {"id": number, "physicalLocation": {"artifactLocation": artifact_location(r.path), "region": {
                "startLine": r.line, "startColumn": r.column, "endLine": r.end_line, "endColumn": r.end_column}},
             "message": {"text": r.message}}
            for number, r in enumerate(d.related, start=1)]
        result["message"] = {"text": _linked(str(result["message"]["text"]), d.related)}  # type: ignore[index]
    if d.cell is not None:
        result["properties"] = {"cell": d.cell, "cellLine": d.line, "cellColumn": d.column}
    return result


def _linked(text: str, related: tuple[RelatedLocation, ...]) -> str:
    """The message with its mention of each related place (``utils/init.py:5``, the path as the
    message shows it: a tail of the location's) made an embedded link to that location
    (``[utils/init.py:5](1)``), its literal brackets escaped as SARIF then requires."""
    text = text.replace("[", "\\[").replace("]", "\\]")
    for number, location in enumerate(related, start=1):
        parts = PurePosixPath(Path(location.path).as_posix()).parts
        for start in range(len(parts)):
            mention = f"{'/'.join(parts[start:]).lstrip('/')}:{location.line}"
            at = _mention(text, mention)
            if at >= 0:
                text = f"{text[:at]}[{mention}]({number}){text[at + len(mention):]}"
                break
    return text


def _mention(text: str, mention: str) -> int:
    """Where ``mention`` stands in ``text`` as a whole place (not the tail of a longer path or
    the head of a longer line number); -1 where it does not."""
    at = text.find(mention)
    while at >= 0:
        before = text[at - 1] if at else " "
        after = text[at + len(mention)] if at + len(mention) < len(text) else " "
        if before not in "/\\" and not before.isalnum() and not after.isdigit():
            return at
        at = text.find(mention, at + 1)
    return -1


def _region(summary: Summary, d: Diagnostic) -> dict[str, int]:
    if d.cell is None:
        return {"startLine": d.line, "startColumn": d.column, "endLine": d.end_line, "endColumn": d.end_column}
    return {"startLine": summary.file_line(d) or 1}
