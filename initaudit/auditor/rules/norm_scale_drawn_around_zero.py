"""IA211: the scale of a normalisation layer drawn at random around zero (the measured twin of IA114)."""

from __future__ import annotations

import math
import re
from typing import Iterator

from initaudit.auditor.results import AuditFinding, FixPlan, ParameterReport
from initaudit.auditor.rules.base import ModelFacts, finding, rule
from initaudit.knowledge import LayerKind

#: Fewer channels say too little about where their values were drawn around.
MIN_CHANNELS = 4
#: A norm layer's shift, not its scale.
_SHIFT_NAMES = frozenset({"bias", "beta", "shift", "offset"})
#: The owner of a vector in a bare state dict named like a normalisation layer (LayerNorm,
#: RMSNorm, GPT-2's ``ln_1``, ResNet's ``bn1``).
_NORM_OWNER = re.compile(r"norm|(?:^|[._])(?:ln|bn)(?:_?\d*|_f)(?:$|\.)", re.IGNORECASE)


@rule("IA211")
class NormScaleDrawnAroundZero:
    def check(self, facts: ModelFacts) -> Iterator[AuditFinding]:
        for parameter in facts.parameters:
            if not _random_around_zero(parameter) or not _norm_scale(parameter):
                continue
            stats = parameter.stats
            rms = math.sqrt(stats.sum_squares / stats.finite_count)
            yield finding(
                self, parameter.name,
                f"norm scale drawn around 0 (mean {stats.mean:.3g}, std {stats.std:.3g}): each channel leaves "
                f"the layer multiplied by about ±{rms:.2g}, {_factor(rms)} and with a random sign, and so "
                "does the gradient through it; start the scale at 1",
                fix=FixPlan(parameter.name, "ones_", (), None, "a norm scale starts at 1"))


def _norm_scale(parameter: ParameterReport) -> bool:
    owner, _, local = parameter.name.rpartition(".")
    if local.lower() in _SHIFT_NAMES or len(parameter.shape) != 1:
        return False
    if parameter.kind is not None or parameter.layer_type is not None:
        return parameter.kind is LayerKind.NORM
    return bool(_NORM_OWNER.search(owner))  # a bare state dict: its layers known by name only


def _random_around_zero(parameter: ParameterReport) -> bool:
    """Random values whose mean is within their spread of 0. A constant (the zeros_ of a
    zero-init residual branch, the default ones) is deliberate; trained values say nothing of the init."""
    stats = parameter.stats
    return (not parameter.trained and not stats.nonfinite and stats.numel >= MIN_CHANNELS
            and stats.minimum != stats.maximum and abs(stats.mean) < stats.std)


def _factor(rms: float) -> str:
    return f"{1 / rms:.3g}x too small" if rms < 1 else "at a random scale"
