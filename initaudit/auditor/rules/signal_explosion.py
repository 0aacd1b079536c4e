"""IA208: the forward signal or the backward gradient explodes through depth."""

from __future__ import annotations

from typing import Iterator

from initaudit import knowledge
from initaudit.auditor.results import AuditFinding
from initaudit.auditor.rules.base import ModelFacts, rule, signal_finding


@rule("IA208")
class SignalExplosion:
    def check(self, facts: ModelFacts) -> Iterator[AuditFinding]:
        high = knowledge.SIGNAL_RATIO_BAND[1]
        found = signal_finding(self, facts, lambda ratio: ratio > high, "forward std grows", "explodes")
        if found is not None:
            yield found
