"""The one error type the auditor raises for input it cannot or will not read (exit 2)."""

from __future__ import annotations


class AuditError(Exception):
    """A refused, unreadable or inconsistent input; ``str()`` is the one-line message."""


def first_line(error: BaseException) -> str:
    """An exception's message cut to its first line (200 characters), or its type's name."""
    lines = str(error).strip().splitlines()
    return lines[0][:200] if lines else type(error).__name__
