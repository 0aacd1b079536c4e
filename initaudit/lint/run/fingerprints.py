"""Identities of findings that survive line moves: code + the line's content + occurrence.

Code-scanning dashboards (SARIF ``partialFingerprints``, GitLab ``fingerprint``) match a new
run's findings to the previous run's by these, so a finding does not reopen when code above
it moves.
"""

from __future__ import annotations

import hashlib

from initaudit.diagnostics import Diagnostic
from initaudit.lint.run.summary import Summary


def line_fingerprints(summary: Summary) -> list[str]:
    """One per diagnostic, in order: ``<hash of code and stripped line>:<occurrence>``, the
    occurrence counting earlier findings of the same code on the same content in the file."""
    seen: dict[tuple[str, int | None, str], int] = {}
    prints = []
    for diagnostic in summary.diagnostics:
        digest = _digest(diagnostic.code, _line(summary, diagnostic))
        key = (diagnostic.path, diagnostic.cell, digest)
        seen[key] = seen.get(key, 0) + 1
        prints.append(f"{digest}:{seen[key]}")
    return prints


def _line(summary: Summary, diagnostic: Diagnostic) -> str:
    lines = summary.source_lines(diagnostic)
    return lines[diagnostic.line - 1].strip() if 0 < diagnostic.line <= len(lines) else ""


def _digest(*parts: str) -> str:
    return hashlib.sha256("\0".join(parts).encode("utf-8", "surrogatepass")).hexdigest()[:16]


def project_fingerprint(path: str, line_fingerprint: str) -> str:
    """Unique within a project: the file joins the line fingerprint."""
    return hashlib.sha256(f"{path}\0{line_fingerprint}".encode("utf-8", "surrogatepass")).hexdigest()
