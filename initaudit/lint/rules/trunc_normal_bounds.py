"""IA106: trunc_normal_ bounds are absolute values, not multiples of std."""

from __future__ import annotations

from typing import Iterator

from initaudit.diagnostics import Applicability, Fix, Severity
from initaudit.lint.model.facts import InitVia
from initaudit.lint.model.file_model import FileModel
from initaudit.lint.model.queries import number
from initaudit.lint.rules.base import Finding, rule

#: Below this std the default bounds (+-2) sit so far out that nothing is ever truncated.
_NO_TRUNCATION_STD = 0.5


@rule("IA106")
class TruncNormalBounds:
    def check(self, model: FileModel) -> Iterator[Finding]:
        for op in model.init_ops:
            if op.function != "trunc_normal_" or op.via is not InitVia.INIT:
                continue
            std_node = op.args.get("std")
            std = number(model, std_node) if std_node is not None else 1.0
            if std is None or std >= _NO_TRUNCATION_STD:
                continue
            low = number(model, op.args["a"]) if "a" in op.args else None
            high = number(model, op.args["b"]) if "b" in op.args else None
            if "a" not in op.args and "b" not in op.args:
                yield Finding.at(
                    op,
                    f"trunc_normal_ with std={std:g} keeps the default bounds a=-2, b=2, which are "
                    f"absolute: they sit at ±{2 / std:.0f} std, so nothing is truncated and this is "
                    "a plain normal. Pass a=-2*std, b=2*std if truncation was meant",
                    severity=Severity.INFO,
                )
            elif low is not None and high is not None and _looks_like_sigmas(low, high, std):
                yield Finding.at(
                    op,
                    f"trunc_normal_ bounds a={low:g}, b={high:g} are absolute values, not multiples "
                    f"of std={std:g}: at ±{max(abs(low), abs(high)) / std:.0f} std they truncate "
                    f"nothing. Use a={low:g} * std, b={high:g} * std",
                    fix=self._fix(model, op, std_node, low, high),
                )

    def _fix(self, model: FileModel, op, std_node, low: float, high: float) -> Fix | None:
        if std_node is None or op.args.get("a") is None or op.args.get("b") is None:
            return None
        std_text = model.source(std_node)
        if not std_text.replace(".", "").replace("_", "").isalnum():
            std_text = f"({std_text})"
        edits = (model.replace(op.args["a"], f"{low:g} * {std_text}"),
                 model.replace(op.args["b"], f"{high:g} * {std_text}"))
        return Fix(Applicability.UNSAFE, "Scale the bounds by std", edits)


def _looks_like_sigmas(low: float, high: float, std: float) -> bool:
    """Small whole numbers such as -2/2 or -3/3 paired with a small std."""
    return all(abs(v) in (1.0, 1.5, 2.0, 2.5, 3.0) for v in (low, high)) and max(abs(low), abs(high)) / std >= 10
