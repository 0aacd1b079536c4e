"""IA204: weight matrices bit-for-bit identical to another layer's."""

from __future__ import annotations

from typing import Iterator

from initaudit.auditor.results import AuditFinding
from initaudit.auditor.rules.base import ModelFacts, finding, reinitialise, rule


@rule("IA204")
class ClonedLayers:
    def check(self, facts: ModelFacts) -> Iterator[AuditFinding]:
        parameters = {p.name: p for p in facts.parameters}
        for group in facts.clones:
            for name in group[1:]:
                yield finding(self, name,
                              f"bit-identical to {group[0]}: copied layers (deepcopy, "
                              "nn.TransformerEncoder's clones) start the same, which wastes the "
                              "randomness of their init",
                              fix=reinitialise(parameters[name], f"a fresh draw, independent of {group[0]}"))
