"""The one error type the auditor raises for input it cannot or will not read (exit 2)."""

from __future__ import annotations


class AuditError(Exception):
    """A refused, unreadable or inconsistent input; ``str()`` is the one-line message."""
