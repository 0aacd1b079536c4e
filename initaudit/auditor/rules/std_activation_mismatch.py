"""IA206: a layer's weight std against the std the activation it feeds needs."""

from __future__ import annotations

import math
from typing import Iterator

from initaudit import knowledge
from initaudit.auditor.measure.tensorstats import TensorStats
from initaudit.auditor.results import AuditFinding, ParameterReport
from initaudit.auditor.rules.base import AuditRule, ModelFacts, finding, reinitialise, rule
from initaudit.diagnostics import Severity

#: Smallest |log(std ratio)| called a mismatch: He vs Xavier on a square layer is log(sqrt 2).
MIN_LOG_TOLERANCE = math.log(1.25)
#: A layer feeding no nonlinearity (logits, residual branch) tolerates a wider range.
LINEAR_LOG_TOLERANCE = math.log(3.0)


@rule("IA206")
class StdActivationMismatch:
    def check(self, facts: ModelFacts) -> Iterator[AuditFinding]:
        state = facts.signal_state
        for parameter in facts.parameters:
            found = _mismatch(self, parameter, facts.has_norms, state)
            if found is not None:
                yield found


def _mismatch(rule: AuditRule, layer: ParameterReport, model_has_norms: bool, signal_state: str) -> AuditFinding | None:
    report = layer
    ratio = report.std_ratio
    if ratio is None or ratio == 0 or layer.stats.nonfinite or layer.trained or report.scheme.family in (
            "zeros", "constant", "ones"):
        return None
    activation = report.activation or "linear"
    family = knowledge.ACTIVATIONS[activation].family
    linear = family == knowledge.LINEAR
    tolerance = max(LINEAR_LOG_TOLERANCE if linear else MIN_LOG_TOLERANCE,
                    3 * _relative_error(layer.stats))
    if abs(math.log(ratio)) <= tolerance:
        return None
    scheme = report.scheme
    intent = knowledge.intent_of_gain(scheme.gain) if scheme.gain else None
    if scheme.name not in ("pytorch_default",) and intent in knowledge.COMPATIBLE_INTENTS[family]:
        return None
    what = (f"std {report.std:.4g} is {ratio:.2f}x the {report.expected_std:.4g} that "
            f"{_activation_text(activation)} needs (gain {report.expected_std * math.sqrt(report.fan_in or 1):.3g}/sqrt(fan_in))")
    if report.role is not None and report.role.head is not None:
        what = f"as the output projection {report.role.head} it is tied to, {what}"
    info = _convention(layer, model_has_norms, signal_state, linear) or _rescaled(layer, ratio)
    if info:
        return finding(rule, report.name, f"{what}; {info}", severity=Severity.INFO)
    advice = knowledge.recommend(activation, "normal" if "normal" in scheme.family else "uniform",
                                 report.slope)
    return finding(rule, report.name,
                   f"{what}: the signal {'shrinks' if ratio < 1 else 'grows'} by that factor at "
                   f"this layer; use {advice.function}",
                   fix=reinitialise(layer, f"the std {_activation_text(activation)} needs"))


def _convention(layer: ParameterReport, model_has_norms: bool, signal_state: str, linear: bool) -> str | None:
    report = layer
    if report.norm_between:
        return "harmless here because a normalisation layer rescales it before the activation"
    recipe = knowledge.library_recipe(report.block_type, report.scheme.name, report.activation)
    if recipe is not None:
        return recipe.why
    # A tied table's scale was chosen for its lookups (torch's default is the embedding's N(0, 1)):
    # neither a dense layer's default nor an output layer's own choice.
    tied = report.role is not None and report.role.tied_head
    dense_default = report.scheme.name == "pytorch_default" and not tied
    if dense_default and signal_state == "in range":
        return ("torch's default init (U(+-1/sqrt(fan_in))); the probe shows the signal stays in "
                "range through this network's depth")
    if dense_default and signal_state == "not probed":
        return ("torch's default init (U(+-1/sqrt(fan_in))), usual in shallow networks; no signal "
                "probe ran to check this network's depth")
    if report.scheme.name in knowledge.FIXED_STD_SCHEMES and model_has_norms \
            and report.std <= knowledge.CONVENTIONAL_FIXED_STD_MAX:
        return "a fixed small std is the usual convention in normalised (Transformer-style) networks"
    if knowledge.ACTIVATIONS[report.activation or "linear"].family == knowledge.SIGMOID \
            and report.gate_consumer in knowledge.GATE_CONSUMERS and report.std_ratio < 1:
        return ("a gate (squeeze-excitation): the sigmoid's output scales another signal rather than "
                "feeding a layer, and a smaller input only starts the gate nearer its midpoint")
    if linear and (layer.residual_end or layer.last_layer) and not tied:
        return "the output of a residual branch or the model is conventionally scaled down"
    lowered = report.name.lower()
    if linear and any(fragment in lowered for fragment in knowledge.RESIDUAL_OUTPUT_NAMES):
        return "residual output projections are conventionally scaled down"
    return None


def _rescaled(layer: ParameterReport, ratio: float) -> str | None:
    """A one-off factor that a normalisation close behind rescales before it can compound."""
    within = layer.rescaled_within
    if within is None or within > knowledge.RESCALED_CHAIN_MAX:
        return None
    if abs(math.log(ratio)) > math.log(knowledge.RESCALED_RATIO_MAX) + 3 * _relative_error(layer.stats):
        return None
    where = "right after it" if within == 1 else f"{within} layers on"
    return f"a normalisation rescales the signal {where}, before the mismatch can compound"


def _relative_error(stats: TensorStats) -> float:
    kurtosis = max(stats.kurtosis, -1.2)
    return math.sqrt((kurtosis + 2) / (4 * max(stats.numel, 1)))


def _activation_text(activation: str) -> str:
    return "a layer feeding no nonlinearity" if activation == "linear" else f"the following {activation}"
