"""IA000: the file cannot be parsed, so nothing else in it is checked."""

from __future__ import annotations

from typing import Iterable

from initaudit.diagnostics import Severity
from initaudit.lint.model import FileModel
from initaudit.lint.rules.base import Finding, RuleInfo


class SyntaxErrorRule:
    """Reported by the engine itself when decoding or parsing fails."""

    info = RuleInfo("IA000", "syntax-error", Severity.ERROR, "none")

    def check(self, model: FileModel) -> Iterable[Finding]:
        return ()
