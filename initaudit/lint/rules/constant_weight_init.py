"""IA102: a weight matrix initialised to one non-zero constant."""

from __future__ import annotations

from typing import Iterator

from initaudit.lint.model.file_model import FileModel
from initaudit.lint.rules.base import Finding, rule
from initaudit.lint.rules.constant_detection import constant_inits, finding


@rule("IA102")
class ConstantWeightInit:
    def check(self, model: FileModel) -> Iterator[Finding]:
        for found in constant_inits(model):
            if found.value == 0.0:
                continue
            value = "a constant" if found.value is None else f"the constant {found.value:g}"
            yield finding(
                found,
                f"{found.what} is initialised to {value}: all its units start as copies of one "
                "another, computing the same output, and can only drift apart through the layers "
                "after it",
                self.info.severity, model,
            )
