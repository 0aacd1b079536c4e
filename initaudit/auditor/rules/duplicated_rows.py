"""IA203: rows of a weight matrix (units, filters) that repeat other rows exactly."""

from __future__ import annotations

from typing import Iterator

from initaudit.auditor.results import AuditFinding
from initaudit.auditor.rules.base import ModelFacts, finding, is_matrix, reinitialise, rule


@rule("IA203")
class DuplicatedRows:
    def check(self, facts: ModelFacts) -> Iterator[AuditFinding]:
        for parameter in facts.parameters:
            stats = parameter.stats
            # A deterministic pattern (every row log(arange(1, N + 1))) repeats rows by construction.
            structured = stats.minimum == stats.maximum or stats.pattern == "structured"
            if is_matrix(parameter) and not structured and stats.duplicate_rows:
                yield finding(self, parameter.name,
                              f"{stats.duplicate_rows} of {stats.shape[0]} rows repeat another row: "
                              "those units stay identical during training",
                              fix=reinitialise(parameter, "every row drawn independently"))
