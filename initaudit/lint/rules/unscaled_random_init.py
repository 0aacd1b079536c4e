"""IA105: a weight matrix drawn with unit scale (N(0, 1), U(0, 1), U(-1, 1))."""

from __future__ import annotations

from typing import Iterator

from initaudit.lint.model.facts import InitOp
from initaudit.lint.model.file_model import FileModel
from initaudit.lint.model.queries import feeding, number, weight_matrices
from initaudit.lint.rules.base import Finding, rule
from initaudit.lint.rules.rewrite import scheme_fix


@rule("IA105")
class UnscaledRandomInit:
    def check(self, model: FileModel) -> Iterator[Finding]:
        for op in model.init_ops:
            if op.function not in ("normal_", "uniform_") or op.method == "forward":
                continue
            distribution = _unit_distribution(model, op)
            written = weight_matrices(model, op) if distribution else None
            if written is None:
                continue
            what, layers = written
            consumers = {feeding(model, op.target.owner, m) for m in layers} if op.target else set()
            consumer = consumers.pop() if len(consumers) == 1 else None
            skew = " (all positive, so every unit starts with the same sign)" if distribution == "U(0, 1)" else ""
            yield Finding.at(
                op,
                f"{what} is drawn from {distribution}{skew}: without a 1/sqrt(fan_in) scale each "
                "output sums fan_in unit-variance terms, so activations grow by about sqrt(fan_in) "
                "per layer and saturate or explode. Use a fan-based scheme (kaiming_*/xavier_*)",
                fix=scheme_fix(model, op, consumer),
            )


def _unit_distribution(model: FileModel, op: InitOp) -> str | None:
    if op.function == "normal_":
        std = op.args.get("std")
        return "N(0, 1)" if std is None or number(model, std) == 1.0 else None
    low = number(model, op.args["a"]) if "a" in op.args else 0.0
    high = number(model, op.args["b"]) if "b" in op.args else 1.0
    if (low, high) in ((0.0, 1.0), (-1.0, 1.0)):
        return f"U({low:g}, {high:g})"
    return None
