"""IA209: tensors that look trained, to which the init checks do not apply."""

from __future__ import annotations

from typing import Iterator

from initaudit.auditor.results import AuditFinding
from initaudit.auditor.rules.base import ModelFacts, finding, rule

#: Names listed in the message before "and N more".
SHOWN = 6


@rule("IA209")
class TrainedWeights:
    def check(self, facts: ModelFacts) -> Iterator[AuditFinding]:
        names = [p.name for p in facts.parameters if p.trained]
        if not names:
            return
        listed = ", ".join(names[:SHOWN]) + (f" and {len(names) - SHOWN} more" if len(names) > SHOWN else "")
        yield finding(self, None,
                      f"trained: init checks do not apply to {len(names)} of {len(facts.parameters)} "
                      f"tensors (IA206-IA208 off for them; --fix refuses them without --force): {listed}")
