"""IA201: a weight matrix that is all zeros, unless the zero start is a known recipe."""

from __future__ import annotations

from typing import Iterator

from initaudit import knowledge
from initaudit.auditor.results import AuditFinding, ParameterReport
from initaudit.auditor.rules.base import ModelFacts, finding, is_matrix, reinitialise, rule
from initaudit.diagnostics import Severity


@rule("IA201")
class ZeroWeightMatrix:
    def check(self, facts: ModelFacts) -> Iterator[AuditFinding]:
        for parameter in facts.parameters:
            stats = parameter.stats
            if not is_matrix(parameter) or not stats.minimum == stats.maximum == 0:
                continue
            reason = intentional_zero(parameter)
            if reason:
                yield finding(self, parameter.name, f"all-zero weight matrix, {reason}", severity=Severity.INFO)
            else:
                yield finding(self, parameter.name,
                              "all-zero weight matrix: every unit computes the same output and the "
                              "layers before it receive no gradient",
                              fix=reinitialise(parameter, "random values, so that the units differ"))


def intentional_zero(parameter: ParameterReport) -> str | None:
    fragment = knowledge.intentional_zero_fragment(parameter.name)
    if fragment is not None:
        return f"a deliberate zero start ('{fragment}': LoRA B, zero convolution, gate or modulation)"
    if parameter.activation == "linear":
        if parameter.residual_end:
            return "the end of a residual branch, which conventionally starts at zero"
        if parameter.last_layer:
            return "a zero-initialised output head (timm 'jax' mode convention)"
        if parameter.added_to_signal:
            return ("a zero branch added to another signal (a zero convolution): the sum starts as that "
                    "signal, and the branch's weights still get gradients")
    return None
