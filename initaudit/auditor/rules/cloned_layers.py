"""IA204: weight matrices bit-for-bit identical to another layer's."""

from __future__ import annotations

from typing import Iterator

from initaudit.auditor.results import Finding
from initaudit.auditor.rules.base import ModelFacts, finding, rule
from initaudit.diagnostics import Severity


@rule("IA204")
class ClonedLayers:
    def check(self, facts: ModelFacts) -> Iterator[Finding]:
        for group in facts.clones:
            for name in group[1:]:
                yield finding(self, Severity.WARNING, name,
                              f"bit-identical to {group[0]}: copied layers (deepcopy, "
                              "nn.TransformerEncoder's clones) start the same, which wastes the "
                              "randomness of their init")
