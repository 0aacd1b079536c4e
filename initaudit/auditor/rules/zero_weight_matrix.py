"""IA201: a weight matrix that is all zeros, unless the zero start is a known recipe."""

from __future__ import annotations

from typing import Iterator

from initaudit import knowledge
from initaudit.auditor.results import Finding, ParameterReport
from initaudit.auditor.rules.base import ModelFacts, finding, is_matrix, rule
from initaudit.diagnostics import Severity


@rule("IA201")
class ZeroWeightMatrix:
    def check(self, facts: ModelFacts) -> Iterator[Finding]:
        for parameter in facts.parameters:
            stats = parameter.stats
            if not is_matrix(parameter) or not stats.minimum == stats.maximum == 0:
                continue
            reason = intentional_zero(parameter)
            if reason:
                yield finding(self, Severity.INFO, parameter.name, f"all-zero weight matrix, {reason}")
            else:
                yield finding(self, Severity.WARNING, parameter.name,
                              "all-zero weight matrix: every unit computes the same output and the "
                              "layers before it receive no gradient")


def intentional_zero(parameter: ParameterReport) -> str | None:
    fragment = knowledge.intentional_zero_fragment(parameter.name)
    if fragment is not None:
        return f"a deliberate zero start ('{fragment}': LoRA B, zero convolution, gate or modulation)"
    if parameter.activation == "linear":
        if parameter.consumer in knowledge.RESIDUAL_CONSUMERS:
            return "the end of a residual or gated branch, which conventionally starts at zero"
        if parameter.last_layer:
            return "a zero-initialised output head (timm 'jax' mode convention)"
    return None
