"""The auditor's rules: IA2xx findings from statistics, schemes, activations and the probe."""

from __future__ import annotations

import math

from initaudit import catalogue, knowledge
from initaudit.audit.probe import outside_band, signal_ratios
from initaudit.audit.results import Finding, ParameterReport, SignalRow
from initaudit.audit.tensorstats import TensorStats
from initaudit.diagnostics import Severity

ZERO_WEIGHT, CONSTANT_WEIGHT, DUPLICATED_ROWS, CLONED_LAYERS = "IA201", "IA202", "IA203", "IA204"
NON_FINITE, STD_MISMATCH, SIGNAL_COLLAPSE, SIGNAL_EXPLOSION = "IA205", "IA206", "IA207", "IA208"

#: Codes whose parameters ``--fix`` re-initialises: the auditor rules whose page offers a fix.
FIXABLE = frozenset(e.code for e in catalogue.entries().values() if e.scope == "model" and e.fix != "none")
RESIDUAL_CONSUMERS = frozenset({"add", "__add__", "__radd__", "__iadd__", "add_", "mul", "__mul__"})
FIXED_STD_SCHEMES = frozenset({"normal", "trunc_normal", "scaled_normal", "scaled_trunc_normal"})
#: Smallest |log(std ratio)| called a mismatch: He vs Xavier on a square layer is log(sqrt 2).
MIN_LOG_TOLERANCE = math.log(1.25)
#: A layer feeding no nonlinearity (logits, residual branch) tolerates a wider range.
LINEAR_LOG_TOLERANCE = math.log(3.0)


def check_parameters(layers: list[ParameterReport], model_has_norms: bool, signal: list[SignalRow]) -> list[Finding]:
    findings: list[Finding] = []
    signal_state = "failed" if signal_failed(signal) else "in range" if signal else "not probed"
    for layer in layers:
        findings.extend(_structure(layer))
        mismatch = _std_mismatch(layer, model_has_norms, signal_state)
        if mismatch is not None:
            findings.append(mismatch)
    return findings


def _finding(code: str, severity: Severity, parameter: str | None, message: str) -> Finding:
    return Finding(code, catalogue.entry(code).name, severity, parameter, message)


def _structure(layer: ParameterReport) -> list[Finding]:
    report, stats = layer, layer.stats
    name = report.name
    if stats.nonfinite:
        return [_finding(NON_FINITE, Severity.ERROR, name,
                         f"{stats.nonfinite} of {stats.numel} values are NaN or infinite")]
    if len(stats.shape) < 2 or stats.numel < 2:
        return []
    if stats.minimum == stats.maximum == 0:
        reason = _intentional_zero(layer)
        if reason:
            return [_finding(ZERO_WEIGHT, Severity.INFO, name, f"all-zero weight matrix, {reason}")]
        return [_finding(ZERO_WEIGHT, Severity.WARNING, name,
                         "all-zero weight matrix: every unit computes the same output and the "
                         "layers before it receive no gradient")]
    if stats.minimum == stats.maximum:
        severity = Severity.INFO if layer.frozen else Severity.WARNING
        return [_finding(CONSTANT_WEIGHT, severity, name,
                         f"every weight equals {stats.minimum:g}: all units compute the same "
                         "output and get the same gradient, so they never differ")]
    if stats.duplicate_rows:
        return [_finding(DUPLICATED_ROWS, Severity.WARNING, name,
                         f"{stats.duplicate_rows} of {stats.shape[0]} rows repeat another row: "
                         "those units stay identical during training")]
    return []


def _intentional_zero(layer: ParameterReport) -> str | None:
    fragment = knowledge.intentional_zero_fragment(layer.name)
    if fragment is not None:
        return f"a deliberate zero start ('{fragment}': LoRA B, zero convolution, gate or modulation)"
    if layer.activation == "linear":
        if layer.consumer in RESIDUAL_CONSUMERS:
            return "the end of a residual or gated branch, which conventionally starts at zero"
        if layer.last_layer:
            return "a zero-initialised output head (timm 'jax' mode convention)"
    return None


def _std_mismatch(layer: ParameterReport, model_has_norms: bool, signal_state: str) -> Finding | None:
    report = layer
    ratio = report.std_ratio
    if ratio is None or ratio == 0 or layer.stats.nonfinite or report.scheme.family in (
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
    info = _convention(layer, model_has_norms, signal_state, linear)
    if info:
        return _finding(STD_MISMATCH, Severity.INFO, report.name, f"{what}; {info}")
    advice = knowledge.recommend(activation, "normal" if "normal" in scheme.family else "uniform",
                                 report.slope)
    return _finding(STD_MISMATCH, Severity.WARNING, report.name,
                    f"{what}: the signal {'shrinks' if ratio < 1 else 'grows'} by that factor at "
                    f"this layer; use {advice.function}")


def _convention(layer: ParameterReport, model_has_norms: bool, signal_state: str, linear: bool) -> str | None:
    report = layer
    if report.norm_between:
        return "harmless here because a normalisation layer rescales it before the activation"
    if report.scheme.name == "pytorch_default" and signal_state == "in range":
        return ("torch's default init (U(+-1/sqrt(fan_in))); the probe shows the signal stays in "
                "range through this network's depth")
    if report.scheme.name == "pytorch_default" and signal_state == "not probed":
        return ("torch's default init (U(+-1/sqrt(fan_in))), usual in shallow networks; no signal "
                "probe ran to check this network's depth")
    if report.scheme.name in FIXED_STD_SCHEMES and model_has_norms:
        return "a fixed small std is the usual convention in normalised (Transformer-style) networks"
    if linear and (layer.consumer in RESIDUAL_CONSUMERS or layer.last_layer):
        return "the output of a residual branch or the model is conventionally scaled down"
    lowered = report.name.lower()
    if linear and any(fragment in lowered for fragment in knowledge.RESIDUAL_OUTPUT_NAMES):
        return "residual output projections are conventionally scaled down"
    return None


def _relative_error(stats: TensorStats) -> float:
    kurtosis = max(stats.kurtosis, -1.2)
    return math.sqrt((kurtosis + 2) / (4 * max(stats.numel, 1)))


def _activation_text(activation: str) -> str:
    return "a layer feeding no nonlinearity" if activation == "linear" else f"the following {activation}"


def check_clones(groups: list[list[str]]) -> list[Finding]:
    findings = []
    for group in groups:
        for name in group[1:]:
            findings.append(_finding(
                CLONED_LAYERS, Severity.WARNING, name,
                f"bit-identical to {group[0]}: copied layers (deepcopy, nn.TransformerEncoder's "
                "clones) start the same, which wastes the randomness of their init"))
    return findings


def check_signal(signal: list[SignalRow], weight_of: dict[str, str], model_has_norms: bool) -> list[Finding]:
    forward, backward = signal_ratios(signal)
    if len(signal) < 3:
        return []
    severity = Severity.INFO if model_has_norms else Severity.WARNING
    last = weight_of.get(signal[-1].module)
    first = weight_of.get(signal[0].module)
    findings = []
    depth = f"over {len(signal)} layers ({signal[0].module} -> {signal[-1].module})"
    low, high = knowledge.SIGNAL_RATIO_BAND
    if forward is not None and forward < low or backward is not None and backward < low:
        parts = []
        if forward is not None and forward < low:
            parts.append(f"forward std falls to {forward:.3g}x")
        if backward is not None and backward < low:
            parts.append(f"the gradient reaching the first layer is {backward:.3g}x the last one's")
        findings.append(_finding(SIGNAL_COLLAPSE, severity, last if forward and forward < low else first,
                                 f"signal collapses {depth}: {' and '.join(parts)}"))
    if forward is not None and forward > high or backward is not None and backward > high:
        parts = []
        if forward is not None and forward > high:
            parts.append(f"forward std grows {forward:.3g}x")
        if backward is not None and backward > high:
            parts.append(f"the gradient reaching the first layer is {backward:.3g}x the last one's")
        findings.append(_finding(SIGNAL_EXPLOSION, severity, last if forward and forward > high else first,
                                 f"signal explodes {depth}: {' and '.join(parts)}"))
    return findings


def signal_failed(signal: list[SignalRow]) -> bool:
    forward, backward = signal_ratios(signal)
    return len(signal) >= 3 and (outside_band(forward) or outside_band(backward))
