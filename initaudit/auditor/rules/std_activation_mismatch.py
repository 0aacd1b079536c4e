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
    ratio = _gain_ratio(layer)
    if ratio is None or ratio == 0 or layer.stats.nonfinite or layer.trained or report.scheme.family in (
            "zeros", "constant", "ones"):
        return None
    if report.activation is None:
        return _off_every_scheme(rule, layer)
    activation = report.activation
    family = knowledge.ACTIVATIONS[activation].family
    linear = family == knowledge.LINEAR
    tolerance = max(LINEAR_LOG_TOLERANCE if linear else MIN_LOG_TOLERANCE,
                    3 * _relative_error(layer.stats))
    if abs(math.log(ratio)) <= tolerance or _suits_a_compatible_scheme(layer, family):
        return None
    scheme = report.scheme
    what = (f"std {report.std:.4g} is {report.std_ratio:.2f}x the {report.expected_std:.4g} that "
            f"{_activation_text(activation)} needs (gain {report.expected_std * math.sqrt(report.fan_in or 1):.3g}/sqrt(fan_in))")
    if report.role is not None and report.role.head is not None:
        what = f"as the output projection {report.role.head} it is tied to, {what}"
    info = _convention(layer, model_has_norms, signal_state, linear, ratio) or _rescaled(layer, ratio)
    if info:
        return finding(rule, report.name, f"{what}; {info}", severity=Severity.INFO)
    advice = knowledge.recommend(activation, "normal" if "normal" in scheme.family else "uniform",
                                 report.slope)
    return finding(rule, report.name,
                   f"{what}: the signal {'shrinks' if ratio < 1 else 'grows'} by that factor at "
                   f"this layer; use {advice.function}",
                   fix=reinitialise(layer, f"the std {_activation_text(activation)} needs"))


def _gain_ratio(layer: ParameterReport) -> float | None:
    """The std's ratio to what the activation needs, for an orthogonal weight the ratio of its
    gain: an orthogonal layer that widens (8 -> 64) keeps the signal's norm, spreading it over
    more units, so its per-unit std is below the fan-in target by design."""
    scheme = layer.scheme
    if scheme.name == "orthogonal" and scheme.gain and layer.expected_std and layer.fan_in:
        return scheme.gain / (layer.expected_std * math.sqrt(layer.fan_in))
    return layer.std_ratio


def _output_by_fan_out(layer: ParameterReport, ratio: float) -> str | None:
    """An output layer drawn from its fan_out (U(+-1/sqrt(fan_out)), TF's classifier init, as
    EfficientNet and MobileNet in timm and torchvision draw their heads): a library's choice,
    told from a scaled-up head by its std being exactly that scheme's."""
    if not (layer.last_layer and ratio > 1 and layer.fan_out and layer.scheme.family == "uniform"):
        return None
    tolerance = max(3 * _relative_error(layer.stats), math.log1p(knowledge.ALIAS_REL_TOL))
    if abs(math.log(layer.std * math.sqrt(3 * layer.fan_out))) > tolerance:
        return None
    return (f"an output layer drawn as U(+-1/sqrt(fan_out)) (fan_out {layer.fan_out}), the classifier init "
            f"of TF-style recipes: its outputs start {ratio:.2f}x larger than a fan-in init's")


def _convention(layer: ParameterReport, model_has_norms: bool, signal_state: str, linear: bool,
                ratio: float) -> str | None:
    report = layer
    if report.norm_between:
        return "harmless here because a normalisation layer rescales it before the activation"
    # A tensor of a handful of values (a 2x2 talking-heads mix): its fitted name is a guess.
    tiny = report.stats.numel < knowledge.TINY_TENSOR_ELEMENTS
    scheme = _scheme_by_std(layer) if tiny else report.scheme.name
    recipe = knowledge.library_recipe(report.block_type, scheme, report.activation)
    if recipe is not None:
        return recipe.why
    # A tied table's scale was chosen for its lookups (torch's default is the embedding's N(0, 1)):
    # neither a dense layer's default nor an output layer's own choice.
    tied = report.role is not None and report.role.tied_head
    dense_default = scheme == "pytorch_default" and not tied
    if dense_default and signal_state == "in range":
        return ("torch's default init (U(+-1/sqrt(fan_in))); the probe shows the signal stays in "
                "range through this network's depth")
    if dense_default and signal_state == "not probed":
        return ("torch's default init (U(+-1/sqrt(fan_in))), usual in shallow networks; no signal "
                "probe ran to check this network's depth")
    if scheme in knowledge.FIXED_STD_SCHEMES and model_has_norms \
            and report.std <= knowledge.CONVENTIONAL_FIXED_STD_MAX:
        return "a fixed small std is the usual convention in normalised (Transformer-style) networks"
    if knowledge.ACTIVATIONS[report.activation or "linear"].family == knowledge.SIGMOID \
            and report.gate_consumer in knowledge.GATE_CONSUMERS and ratio < 1:
        return ("a gate (squeeze-excitation): the sigmoid's output scales another signal rather than "
                "feeding a layer, and a smaller input only starts the gate nearer its midpoint")
    by_fan_out = _output_by_fan_out(layer, ratio)
    if by_fan_out:
        return by_fan_out
    # Output layers are the model's choice whatever follows them (SqueezeNet's conv -> ReLU -> pool
    # head), residual ends where nothing but the sum follows; scaled down only, never up.
    if ratio < 1 and not tied and (layer.last_layer or linear and layer.residual_end):
        return "the output of a residual branch or the model is conventionally scaled down"
    lowered = report.name.lower()
    if linear and ratio < 1 and any(fragment in lowered for fragment in knowledge.RESIDUAL_OUTPUT_NAMES):
        return "residual output projections are conventionally scaled down"
    return None


def _scheme_by_std(layer: ParameterReport) -> str:
    """A tiny tensor's scheme told by its std alone, its fitted name being a guess: torch's
    default, a fixed small std, or neither."""
    if layer.fan_in and abs(math.log(layer.std * math.sqrt(3 * layer.fan_in))) <= 3 * _relative_error(layer.stats):
        return "pytorch_default"
    return "normal" if layer.std <= knowledge.CONVENTIONAL_FIXED_STD_MAX else "unknown"


def _suits_a_compatible_scheme(layer: ParameterReport, family: str) -> bool:
    """The std is one that a scheme designed for this activation gives (He with fan_out before
    ReLU), the fitted scheme or any alias with the same std: when two schemes tie (He fan_out for
    ReLU and fan_in with SELU's gain), the verdict does not depend on which name the fit chose.
    A tiny tensor has no scheme name to trust: any such std within its measurement noise is."""
    if layer.stats.numel < knowledge.TINY_TENSOR_ELEMENTS:
        noise = math.expm1(3 * _relative_error(layer.stats))
        return bool(layer.fan_in and layer.fan_out and knowledge.COMPATIBLE_INTENTS[family]
                    & knowledge.alias_intents(layer.std, layer.fan_in, layer.fan_out, noise))
    scheme = layer.scheme
    if scheme.name in ("pytorch_default", "unknown"):
        return False  # torch's default is judged as itself (its bound tells it from any alias)
    intents = {knowledge.intent_of_gain(scheme.gain)} if scheme.gain else set()
    if layer.fan_in and layer.fan_out:
        # Within what the tensor's size lets its std be measured to (a 128-value SE convolution).
        noise = max(knowledge.ALIAS_REL_TOL, math.expm1(3 * _relative_error(layer.stats)))
        intents |= knowledge.alias_intents(layer.std, layer.fan_in, layer.fan_out, noise)
    return bool(intents & knowledge.COMPATIBLE_INTENTS[family])


def _off_every_scheme(rule: AuditRule, layer: ParameterReport) -> AuditFinding | None:
    """No forward pass told the activation: only a std that no fan-based scheme gives is flagged,
    a warning when it is larger than all of them, info when smaller (an output layer or a
    residual branch end may start small on purpose)."""
    stds = knowledge.scheme_stds(layer.fan_in or 1, layer.fan_out or layer.fan_in or 1)
    nearest = min(stds, key=lambda std: abs(math.log(layer.std / std)))
    factor = layer.std / nearest
    if abs(math.log(factor)) <= math.log(knowledge.NO_FORWARD_FACTOR) + 3 * _relative_error(layer.stats):
        return None
    what = (f"std {layer.std:.4g} is {factor:.3g}x the nearest std a fan-based scheme gives this layer "
            f"({nearest:.4g}; fan_in {layer.fan_in}, fan_out {layer.fan_out}); no forward pass ran to tell "
            "which activation follows")
    if factor < 1:
        return finding(rule, layer.name, f"{what}; smaller than every scheme, as an output layer or a "
                       "residual branch end may start on purpose", severity=Severity.INFO)
    return finding(rule, layer.name, f"{what}: the signal grows by that factor at this layer whatever follows; "
                   "use a fan-based init", fix=reinitialise(layer, "a linear-gain fan-in std"))


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
