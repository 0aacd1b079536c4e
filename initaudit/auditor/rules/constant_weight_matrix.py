"""IA202: every entry of a weight matrix has the same non-zero value."""

from __future__ import annotations

from typing import Iterator

from initaudit.auditor.results import Finding
from initaudit.auditor.rules.base import ModelFacts, finding, is_matrix, rule
from initaudit.diagnostics import Severity


@rule("IA202")
class ConstantWeightMatrix:
    def check(self, facts: ModelFacts) -> Iterator[Finding]:
        for parameter in facts.parameters:
            stats = parameter.stats
            if not is_matrix(parameter) or stats.minimum != stats.maximum or stats.minimum == 0:
                continue
            severity = Severity.INFO if parameter.frozen else Severity.WARNING
            yield finding(self, severity, parameter.name,
                          f"every weight equals {stats.minimum:g}: all units compute the same "
                          "output and get the same gradient, so they never differ")
