"""IA202: every entry of a weight matrix has the same non-zero value."""

from __future__ import annotations

from typing import Iterator

from initaudit.auditor.results import AuditFinding
from initaudit.auditor.rules.base import ModelFacts, finding, is_matrix, reinitialise, rule
from initaudit.diagnostics import Severity


@rule("IA202")
class ConstantWeightMatrix:
    def check(self, facts: ModelFacts) -> Iterator[AuditFinding]:
        for parameter in facts.parameters:
            stats = parameter.stats
            if not is_matrix(parameter) or stats.minimum != stats.maximum or stats.minimum == 0:
                continue
            message = (f"every weight equals {stats.minimum:g}: all units compute the same "
                       "output and get the same gradient, so they never differ")
            if parameter.frozen:  # a constant kept on purpose (an averaging kernel), never trained
                yield finding(self, parameter.name, message, severity=Severity.INFO)
            else:
                yield finding(self, parameter.name, message,
                              fix=reinitialise(parameter, "random values, so that the units differ"))
