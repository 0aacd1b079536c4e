"""``--output-format rdjson``: reviewdog's Diagnostic Format (its ``DiagnosticResult`` as JSON),
with each fix's edits as suggestions that reviewdog offers on the pull request.

Positions are 1-based; columns count UTF-8 bytes and range ends are exclusive, as the format
defines them. A notebook's diagnostic covers the line of the ``.ipynb`` file that stores its
source line (the cell is in the message) and has no suggestions: its edits apply to the cell's
source, not to the file's JSON. A fix's edit of another file (an init helper's line) is no
suggestion either. The optional ``url`` of the source and of a code is left out: initaudit has
no published pages to link to.
"""

from __future__ import annotations

import json

from initaudit.diagnostics import Diagnostic, Severity
from initaudit.lint.run.summary import Summary
from initaudit.report.paths import repository_path

_SEVERITY = {Severity.ERROR: "ERROR", Severity.WARNING: "WARNING", Severity.INFO: "INFO"}


def render(summary: Summary) -> str:
    return json.dumps({
        "source": {"name": "initaudit"},
        "diagnostics": [_diagnostic(summary, d) for d in summary.diagnostics],
    }, indent=2)


def _diagnostic(summary: Summary, d: Diagnostic) -> dict[str, object]:
    code = {"value": d.code}
    path = repository_path(d.path)
    if d.cell is not None:
        return {"message": f"cell {d.cell}, line {d.line}, column {d.column}: {d.message}",
                "location": {"path": path, "range": {"start": {"line": summary.file_line(d) or 1}}},
                "severity": _SEVERITY[d.severity], "code": code}
    lines = summary.source_lines(d)
    start = {"line": d.line, "column": _byte_column(lines, d.line, d.column)}
    end = {"line": d.end_line, "column": _byte_column(lines, d.end_line, d.end_column)}
    diagnostic: dict[str, object] = {"message": d.message,
                                     "location": {"path": path, "range": {"start": start, "end": end}},
                                     "severity": _SEVERITY[d.severity], "code": code}
    text = summary.texts.get(d.path)
    # A suggestion edits the diagnostic's own file: an edit of another one is left out.
    edits = [edit for edit in (d.fix.edits if d.fix is not None else ()) if edit.path is None]
    if edits and text is not None:
        diagnostic["suggestions"] = [
            {"range": {"start": _position(text, edit.start), "end": _position(text, edit.end)}, "text": edit.text}
            for edit in edits]
    return diagnostic


def _byte_column(lines: list[str], line: int, column: int) -> int:
    if not 0 < line <= len(lines):
        return column
    return _utf8_length(lines[line - 1][: column - 1]) + 1


def _position(text: str, offset: int) -> dict[str, int]:
    start = text.rfind("\n", 0, offset) + 1
    return {"line": text.count("\n", 0, offset) + 1, "column": _utf8_length(text[start:offset]) + 1}


def _utf8_length(text: str) -> int:
    return len(text.encode("utf-8"))
