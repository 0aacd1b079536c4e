"""IA205: NaN or infinite values in a parameter, a buffer, another tensor of the file, or the
forward probe's signal."""

from __future__ import annotations

import math
from typing import Iterator

from initaudit.auditor.measure.tensors import BUFFER_SUFFIXES
from initaudit.auditor.results import AuditFinding
from initaudit.auditor.rules.base import ModelFacts, finding, rule


@rule("IA205")
class NonFiniteValues:
    def check(self, facts: ModelFacts) -> Iterator[AuditFinding]:
        for parameter in facts.parameters:
            stats = parameter.stats
            if stats.nonfinite:
                yield finding(self, parameter.name,
                              f"{stats.nonfinite} of {stats.numel} values are NaN or infinite")
        for name, (count, numel) in facts.nonfinite_elsewhere.items():
            yield finding(self, name, f"{count} of {numel} values are NaN{' or infinite' if name.endswith(BUFFER_SUFFIXES) else ''} (a buffer "
                          "or another tensor of the file, not a weight: its other statistics are not audited)")
        if any(p.stats.nonfinite for p in facts.parameters) or facts.nonfinite_elsewhere:
            return  # the probe's NaN follows from those
        first = next((row for row in facts.signal if not math.isfinite(row.forward_std)), None)
        if first is not None:
            yield finding(self, facts.weight_of.get(first.module),
                          f"the forward probe's signal is NaN or infinite from {first.module or 'the model'} on, "
                          "though every parameter is finite")
