"""IA207: the forward signal or the backward gradient collapses through depth."""

from __future__ import annotations

from typing import Iterator

from initaudit import knowledge
from initaudit.auditor.results import AuditFinding
from initaudit.auditor.rules.base import ModelFacts, rule, signal_finding


@rule("IA207")
class SignalCollapse:
    def check(self, facts: ModelFacts) -> Iterator[AuditFinding]:
        low = knowledge.SIGNAL_RATIO_BAND[0]
        found = signal_finding(self, facts, lambda ratio: ratio < low, "forward std falls to", "collapses")
        if found is not None:
            yield found
