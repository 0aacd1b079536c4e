"""Values the analysis produces and the reporters format."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from initaudit.auditor.notes import Note
from initaudit.diagnostics import Applicability, RuleFinding, Severity
from initaudit.knowledge import LayerKind

if TYPE_CHECKING:
    from initaudit.auditor.measure.tensorstats import TensorStats
    from initaudit.auditor.trace.roles import ParameterRole


@dataclass(frozen=True)
class Scheme:
    name: str
    family: str
    gain: float | None
    std: float
    confidence: float
    aliases: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, object]:
        return {"name": self.name, "family": self.family, "gain": _round(self.gain),
                "std": _round(self.std), "confidence": round(self.confidence, 3)}


@dataclass
class ParameterReport:
    """Everything the audit learns about one parameter: each stage of the pipeline fills in its
    part (measure, identify, place in the model, trace), the checks and reporters read it."""

    name: str
    stats: TensorStats
    fan_in: int | None
    fan_out: int | None
    scheme: Scheme
    #: Class name of the owning module (guessed from names without a module) and its kind.
    layer_type: str | None = None
    kind: LayerKind | None = None
    #: ``module.QualifiedClass`` of the module holding the layer (with a module only).
    block_type: str | None = None
    #: What follows the layer: an activation ("linear" when none), with its leaky slope.
    activation: str | None = None
    slope: float | None = None
    #: Whether a normalisation layer sits between this layer and its activation.
    norm_between: bool = False
    #: The layer's output closes a residual sum (auditor/trace/residuals.py).
    residual_end: bool = False
    #: The layer's output, from another input, is added whole to the stream of the model's
    #: first input (``sample + controlnet_cond``).
    added_to_signal: bool = False
    #: What the tensor does in the forward pass (auditor/trace/roles.py); None until placed.
    role: ParameterRole | None = None
    #: Weight layers in series from this one to the first normalisation its signal reaches.
    rescaled_within: int | None = None
    #: What consumed the output of a sigmoid-like activation after this layer ("mul": a gate).
    gate_consumer: str | None = None
    expected_std: float | None = None
    #: The last layer the forward pass reached (the model's output layer).
    last_layer: bool = False
    frozen: bool = False  # requires_grad is off
    #: Recognised as trained (auditor/identify/trained.py): init checks do not apply.
    trained: bool = False

    @property
    def shape(self) -> tuple[int, ...]:
        return self.stats.shape

    @property
    def mean(self) -> float:
        return self.stats.mean

    @property
    def std(self) -> float:
        return self.stats.std

    @property
    def zero_fraction(self) -> float:
        return self.stats.zero_fraction

    @property
    def std_ratio(self) -> float | None:
        if self.expected_std is None or self.expected_std == 0:
            return None
        return self.std / self.expected_std

    def to_dict(self) -> dict[str, object]:
        return {"name": self.name, "shape": list(self.shape), "fan_in": self.fan_in,
                "fan_out": self.fan_out, "mean": _round(self.mean), "std": _round(self.std),
                "zero_fraction": _round(self.zero_fraction), "scheme": self.scheme.to_dict(),
                "activation": self.activation, "expected_std": _round(self.expected_std),
                "std_ratio": _round(self.std_ratio), "trained": self.trained}


@dataclass(frozen=True)
class FixPlan:
    """What ``--fix`` does about a finding, as the rule that made it declares: re-initialise
    ``tensor`` with ``torch.nn.init.<function>(**arguments)`` (a function of
    ``knowledge.INIT_FUNCTIONS``), which gives ``target_std`` (None for a vector)."""

    tensor: str
    function: str
    arguments: tuple[tuple[str, float | str], ...]
    target_std: float | None
    reason: str
    safety: Applicability = Applicability.UNSAFE

    def describe(self) -> str:
        """The call as the fix's report shows it, e.g. ``kaiming_normal_(nonlinearity='relu', a=0)``."""
        return self.function + "(" + ", ".join(f"{k}={_show(v)}" for k, v in self.arguments) + ")"


def _show(value: object) -> str:
    return f"{value:.4g}" if isinstance(value, float) else repr(value)


@dataclass(frozen=True, kw_only=True)
class AuditFinding(RuleFinding):
    """An auditor rule's finding about one parameter (None: about the model as a whole), with
    the fix its rule plans for it, if any (not part of the JSON report)."""

    parameter: str | None
    fix: FixPlan | None = None

    def to_dict(self) -> dict[str, object]:
        return {"code": self.code, "name": self.name, "severity": self.severity.value,
                "parameter": self.parameter, "message": self.message}


@dataclass(frozen=True)
class SignalRow:
    module: str
    forward_std: float
    sample_std: float
    grad_norm: float | None
    #: The gradient's root mean square per element: comparable across layers of any width.
    grad_rms: float | None = None

    def to_dict(self) -> dict[str, object]:
        return {"module": self.module, "forward_std": _round(self.forward_std),
                "sample_std": _round(self.sample_std), "grad_norm": _round(self.grad_norm),
                "grad_rms": _round(self.grad_rms)}


@dataclass
class AuditReport:
    source: str
    parameters: list[ParameterReport]
    findings: list[AuditFinding]
    signal: list[SignalRow]
    notes: list[Note] = field(default_factory=list)
    #: Weight layers in the module, and how many of them the trace and the signal probe reached.
    coverage: dict[str, int] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        """No finding at warning or error severity."""
        return not any(f.severity.fails for f in self.findings)

    @property
    def exit_code(self) -> int:
        return 0 if self.ok else 1

    def count(self, severity: Severity) -> int:
        return sum(1 for f in self.findings if f.severity is severity)

    def summary(self) -> dict[str, object]:
        """Counts, whether the signal was probed and how many weight layers the trace and the
        probe reached, and whether any tensor looks trained."""
        return {"parameters": len(self.parameters), "errors": self.count(Severity.ERROR),
                "warnings": self.count(Severity.WARNING), "info": self.count(Severity.INFO),
                "probed": bool(self.signal), "trained": any(p.trained for p in self.parameters),
                "coverage": dict(self.coverage), "notes": len(self.notes)}

    def to_dict(self) -> dict[str, object]:
        return {"version": 1, "summary": self.summary(),
                "parameters": [p.to_dict() for p in self.parameters],
                "findings": [f.to_dict() for f in self.findings],
                "signal": [s.to_dict() for s in self.signal], "notes": list(self.notes)}

    def to_json(self) -> str:
        """The document ``initaudit model --format json`` prints."""
        return json.dumps(self.to_dict(), indent=2, allow_nan=False)


def _round(value: float | None, digits: int = 6) -> float | None:
    if value is None:
        return None
    if value != value or value in (float("inf"), float("-inf")):
        return None
    return float(f"{value:.{digits}g}")
