"""What an auditor rule is: a class registered under its IA2xx code whose check reads the facts
the audit gathered about the model (one record per parameter, the signal probe, clones).

As for the static rules, the rule's page is its metadata: a finding takes the page's severity
unless the rule gives another (which the page's ``severity-note`` explains). A rule that can
fix what it found says how in code, with a :class:`FixPlan` on the finding; ``--fix`` carries
out the plans and nothing else.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, ClassVar, Iterable, Protocol

from initaudit import catalogue, knowledge
from initaudit.auditor.results import AuditFinding, FixPlan, ParameterReport, SignalRow
from initaudit.auditor.trace.probe import forward_end, outside_band, signal_ratios
from initaudit.diagnostics import Severity
from initaudit.registry import Registry


@dataclass(frozen=True)
class ModelFacts:
    parameters: list[ParameterReport]
    signal: list[SignalRow]
    #: Groups of distinct tensors with bit-identical values, first one first.
    clones: list[list[str]]
    #: The model has normalisation layers (which rescale the signal between layers).
    has_norms: bool
    #: Probed module -> the parameter a signal finding names.
    weight_of: dict[str, str]
    #: Buffers and the file's other tensors with NaN/Inf values -> (how many, of how many).
    nonfinite_elsewhere: dict[str, tuple[int, int]] = field(default_factory=dict)
    #: Tensors that could not be measured, each with why ("meta", "sparse_coo").
    unmeasured: list[str] = field(default_factory=list)

    @property
    def hidden(self) -> frozenset[str]:
        """Probed modules whose output feeds a nonlinearity."""
        return hidden_layers(self.parameters, self.weight_of)

    @property
    def outputs(self) -> frozenset[str]:
        """Probed modules that are output layers (their output reaches what the model returns)."""
        return output_layers(self.parameters, self.weight_of)

    @property
    def signal_state(self) -> str:
        """"failed", "in range" or "not probed"."""
        forward, backward = signal_ratios(self.signal, self.hidden, self.outputs)
        if self.has_norms:
            # Each normalisation divides the gradient by its input's scale: the backward ratio
            # then measures the activations' scale, which the forward ratio already judges.
            backward = None
        if len(self.signal) >= 3 and (outside_band(forward) or outside_band(backward)):
            return "failed"
        return "in range" if self.signal else "not probed"


class AuditRule(Protocol):
    info: ClassVar[catalogue.Entry]

    def check(self, facts: ModelFacts) -> Iterable[AuditFinding]: ...


#: Every auditor rule class by code; ``initaudit.auditor.rules`` fills it on import.
REGISTRY = Registry("model")
rule = REGISTRY.rule


def finding(rule: AuditRule, parameter: str | None, message: str, *, severity: Severity | None = None,
            fix: FixPlan | None = None) -> AuditFinding:
    """A finding of ``rule``: at its page's severity unless ``severity`` differs (see above)."""
    return AuditFinding(code=rule.info.code, name=rule.info.name, severity=severity or rule.info.severity,
                        parameter=parameter, message=message, fix=fix)


def reinitialise(parameter: ParameterReport, reason: str) -> FixPlan:
    """The fix of a badly initialised weight: draw it again with the scheme ``knowledge`` recommends
    for the activation it feeds, in the distribution family (normal or uniform) it had."""
    family = "normal" if parameter.scheme.family in ("normal", "trunc_normal", "orthogonal") else "uniform"
    advice = knowledge.recommend(parameter.activation or "linear", family, parameter.slope)
    arguments: dict[str, float | str] = {}
    if advice.nonlinearity is not None:
        arguments["nonlinearity"] = advice.nonlinearity
        arguments["a"] = advice.slope if advice.slope is not None else 0.0
    if advice.gain_of is not None:
        arguments["gain"] = knowledge.calculate_gain(advice.gain_of)
    shape = tuple(parameter.shape)
    target_std = knowledge.init_std(advice.function, shape, **arguments) if len(shape) >= 2 else None
    return FixPlan(parameter.name, advice.function, tuple(arguments.items()), target_std, reason)


def is_matrix(parameter: ParameterReport) -> bool:
    """A finite weight matrix worth a structural check: a tensor the forward contracts with the
    signal (or a recurrent cell's), with two or more dimensions of more than one value (singleton
    dimensions never make a matrix: a (C, 1, 1, 1) per-channel gain is a vector). Tokens,
    position tables, biases and scales are not: a zero start is ordinary for them."""
    stats = parameter.stats
    weight = parameter.role is None or parameter.role.weight_matrix
    return weight and not stats.nonfinite and spread_dimensions(stats.shape) >= 2


def spread_dimensions(shape: tuple[int, ...]) -> int:
    """How many dimensions of ``shape`` hold more than one value."""
    return sum(1 for size in shape if size > 1)


def signal_finding(rule: AuditRule, facts: ModelFacts, beyond: Callable[[float], bool],
                   forward_words: str, verb: str) -> AuditFinding | None:
    """IA207/IA208: the first-to-last ratios of the probe that lie ``beyond`` the band."""
    signal = facts.signal
    trained = {p.name for p in facts.parameters if p.trained}
    if len(signal) < 3 or any(facts.weight_of.get(row.module) in trained for row in signal):
        return None  # trained layers: the signal says nothing about the init
    forward, backward = signal_ratios(signal, facts.hidden, facts.outputs)
    end = forward_end(signal, facts.hidden)
    parts = []
    if forward is not None and beyond(forward):
        parts.append(f"{forward_words} {forward:.3g}x")
    if backward is not None and beyond(backward):
        parts.append(f"the gradient reaching the first layer is {backward:.3g}x (in norm) the "
                     "last hidden layer's")
    if not parts:
        return None
    module = end.module if forward and beyond(forward) else signal[0].module
    depth = f"over {signal.index(end) + 1} layers ({signal[0].module} -> {end.module})"
    return finding(rule, facts.weight_of.get(module), f"signal {verb} {depth}: {' and '.join(parts)}",
                   severity=Severity.INFO if facts.has_norms else None)


def hidden_layers(parameters: list[ParameterReport], weight_of: dict[str, str]) -> frozenset[str]:
    """The modules (of ``weight_of``, probed module -> its weight) whose weight feeds a
    nonlinearity and that are no output layer: the hidden layers, as opposed to output layers
    (even one followed by a ReLU) and residual projections."""
    feeding = {p.name for p in parameters if p.activation not in (None, "linear") and not p.last_layer}
    return frozenset(module for module, weight in weight_of.items() if weight in feeding)


def output_layers(parameters: list[ParameterReport], weight_of: dict[str, str]) -> frozenset[str]:
    """The modules (of ``weight_of``) whose weight is an output layer's."""
    last = {p.name for p in parameters if p.last_layer}
    return frozenset(module for module, weight in weight_of.items() if weight in last)


def weights_of(modules: Iterable[str]) -> dict[str, str]:
    """Probed module -> the name of its weight."""
    return {module: f"{module}.weight" if module else "weight" for module in modules}
