"""IA205: NaN or infinite values in a parameter."""

from __future__ import annotations

from typing import Iterator

from initaudit.audit.results import Finding
from initaudit.audit.rules.base import ModelFacts, finding, rule
from initaudit.diagnostics import Severity


@rule("IA205")
class NonFiniteValues:
    def check(self, facts: ModelFacts) -> Iterator[Finding]:
        for parameter in facts.parameters:
            stats = parameter.stats
            if stats.nonfinite:
                yield finding(self, Severity.ERROR, parameter.name,
                              f"{stats.nonfinite} of {stats.numel} values are NaN or infinite")
