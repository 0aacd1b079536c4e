"""``--output-format gitlab``: GitLab Code Quality JSON (a list of issues)."""

from __future__ import annotations

import json

from initaudit.diagnostics import Diagnostic, Severity
from initaudit.lint.run.fingerprints import line_fingerprints, project_fingerprint
from initaudit.lint.run.summary import Summary
from initaudit.report.paths import repository_path

#: GitLab's scale is info, minor, major, critical, blocker; a file that cannot be parsed hides
#: every other finding in it, so it is critical.
SEVERITY = {Severity.INFO: "info", Severity.WARNING: "minor", Severity.ERROR: "major"}
_UNPARSEABLE = "IA000"


def render(summary: Summary) -> str:
    issues = []
    for d, line_print in zip(summary.diagnostics, line_fingerprints(summary), strict=True):
        path = repository_path(d.path)
        begin, end = (d.line, d.end_line) if d.cell is None else (summary.file_line(d) or 1,) * 2
        issues.append(issue(f"{d.code} {_where(d)}{d.message}", d.code, project_fingerprint(path, line_print),
                            "critical" if d.code == _UNPARSEABLE else SEVERITY[d.severity], path, begin, end))
    return json.dumps(issues, indent=2)


def issue(description: str, code: str, fingerprint: str, severity: str, path: str, begin: int,
          end: int) -> dict[str, object]:
    """One Code Quality issue; ``path`` relative to the checkout (:func:`repository_path`)."""
    return {"description": description, "check_name": code, "fingerprint": fingerprint, "severity": severity,
            "location": {"path": path, "lines": {"begin": begin, "end": end}}}


def _where(d: Diagnostic) -> str:
    return "" if d.cell is None else f"(cell {d.cell}, line {d.line}) "
