"""IA109: kaiming_* arguments that contradict the activation the layer feeds."""

from __future__ import annotations

import math
from typing import Iterator

from initaudit import knowledge
from initaudit.diagnostics import Applicability, Edit, Fix
from initaudit.knowledge import LayerKind
from initaudit.lint.model.facts import InitOp, InitVia
from initaudit.lint.model.file_model import FileModel
from initaudit.lint.model.queries import computed_number, feeding, quote_of, string
from initaudit.lint.rules.base import Finding, rule

#: A leaky slope this far from the real one is a contradiction worth reporting.
_SLOPE_TOLERANCE = 0.05


@rule("IA109")
class KaimingArguments:
    def check(self, model: FileModel) -> Iterator[Finding]:
        for op in model.init_ops:
            if knowledge.INIT_FUNCTIONS[op.function].scheme != "kaiming" or op.via is not InitVia.INIT:
                continue
            nonlinearity = string(op.args["nonlinearity"]) if "nonlinearity" in op.args else "leaky_relu"
            if nonlinearity == "selu":
                yield Finding.at(
                    op,
                    f"{op.function}(nonlinearity='selu') uses torch's gain 3/4, which torch's own "
                    "documentation says not to use for self-normalising networks: SELU wants LeCun "
                    "normal, i.e. kaiming_normal_(w, nonlinearity='linear') (std 1/sqrt(fan_in))",
                    fix=self._set(model, op, "nonlinearity", "'linear'" if "'" in model.source(op.node) else '"linear"'),
                )
                continue
            found = self._real_slope(model, op)
            if found is None or nonlinearity not in ("relu", "leaky_relu"):
                continue
            slope, everywhere = found
            given = 0.0 if nonlinearity == "relu" else (computed_number(model, op.args["a"]) if "a" in op.args else 0.0)
            if given is None or given > 1.0 or abs(given - slope) <= _SLOPE_TOLERANCE:
                continue
            gain_given = math.sqrt(2.0 / (1 + given**2))
            gain_real = knowledge.calculate_gain("leaky_relu", slope)
            yield Finding.at(
                op,
                f"{op.function} assumes a leaky slope of {given:g} but the layer feeds a leaky "
                f"activation with slope {slope:g} (gain {gain_given:.3f} instead of {gain_real:.3f}); "
                f"pass a={slope:g}, nonlinearity='leaky_relu'",
                fix=self._slope_fix(model, op, slope) if everywhere else None,
            )

    def _real_slope(self, model: FileModel, op: InitOp) -> tuple[float, bool] | None:
        """Slope of the one leaky activation that the reached dense layers feeding a leaky
        activation feed, if any, and whether every reached layer feeds it (a norm, the output or
        another layer after the others sets their scale: another rule's business, and a fix
        rewriting the slope would change them too)."""
        if op.target is None or not op.target.exact or op.target.param != "weight":
            return None
        slopes = set()
        everywhere = True
        for layer in op.effective_layers():
            consumer = feeding(model, op.target.owner, layer) if layer.kind is LayerKind.DENSE else None
            if consumer is None or consumer.activation not in ("leaky_relu", "prelu") or consumer.slope is None:
                everywhere = False
                continue
            slopes.add(consumer.slope)
        return (slopes.pop(), everywhere) if len(slopes) == 1 else None

    def _set(self, model: FileModel, op: InitOp, keyword: str, value: str) -> Fix | None:
        node = op.args.get(keyword)
        if node is None:
            return None
        return Fix(Applicability.UNSAFE, f"Set {keyword}={value}", (model.replace(node, value),))

    def _slope_fix(self, model: FileModel, op: InitOp, slope: float) -> Fix | None:
        edits: list[Edit] = []
        if "a" in op.args:
            edits.append(model.replace(op.args["a"], repr(slope)))
        if "nonlinearity" in op.args:
            quote = quote_of(model, op.args["nonlinearity"])
            edits.append(model.replace(op.args["nonlinearity"], f"{quote}leaky_relu{quote}"))
        if "a" not in op.args or not edits:
            return None  # adding an argument changes the call's shape: left to the user
        return Fix(Applicability.UNSAFE, f"Use a={slope!r}", tuple(edits))
