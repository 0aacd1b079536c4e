"""IA000: the file cannot be parsed, so nothing else in it is checked."""

from __future__ import annotations

from typing import Iterable

from initaudit.lint.model.file_model import FileModel
from initaudit.lint.rules.base import Finding, rule


@rule("IA000")
class SyntaxErrorRule:
    """Reported by the engine itself when decoding or parsing fails."""

    def check(self, model: FileModel) -> Iterable[Finding]:
        return ()
