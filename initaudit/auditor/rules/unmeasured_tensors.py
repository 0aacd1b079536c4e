"""IA210: an audit that read no weight, or left some unmeasured, does not pass as clean."""

from __future__ import annotations

from typing import Iterator

from initaudit.auditor.results import AuditFinding
from initaudit.auditor.rules.base import ModelFacts, finding, rule
from initaudit.diagnostics import Severity


@rule("IA210")
class UnmeasuredTensors:
    def check(self, facts: ModelFacts) -> Iterator[AuditFinding]:
        if not facts.parameters:
            yield finding(self, None, "no weight was read, so nothing was audited" + (
                f" ({len(facts.unmeasured)} tensors could not be: {facts.unmeasured[0]}"
                f"{' and more' if len(facts.unmeasured) > 1 else ''})" if facts.unmeasured else ""),
                severity=Severity.ERROR)
            return
        if facts.unmeasured:
            shown = "; ".join(facts.unmeasured[:5]) + (f" and {len(facts.unmeasured) - 5} more"
                                                       if len(facts.unmeasured) > 5 else "")
            yield finding(self, None, f"not audited ({len(facts.unmeasured)}): {shown}")
