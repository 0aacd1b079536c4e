"""IA114: the scale of a normalisation layer drawn at random around zero."""

from __future__ import annotations

from typing import Iterator

import libcst as cst

from initaudit import knowledge
from initaudit.diagnostics import Applicability, Fix
from initaudit.knowledge import LayerKind
from initaudit.lint.model.facts import InitOp, InitVia
from initaudit.lint.model.file_model import FileModel
from initaudit.lint.model.modules import Submodule, argument
from initaudit.lint.model.queries import describe_layers, is_intentional, number
from initaudit.lint.model.targets import named_by_class, norm_scales
from initaudit.lint.rules.base import Finding, rule

_RANDOM = ("normal_", "uniform_", "trunc_normal_")
#: Schemes drawn around zero with a spread from the tensor's fans.
_FAN_SCALED = ("xavier", "kaiming")


@rule("IA114")
class NormScaleNearZero:
    def check(self, model: FileModel) -> Iterator[Finding]:
        for op in model.init_ops:
            if op.function not in knowledge.INIT_FUNCTIONS or op.method == "forward" or op.target is None:
                continue
            distribution = _near_zero(model, op)
            layers = _norm_scales(model, op) if distribution else ()
            if not layers:
                continue
            yield Finding.at(
                op,
                f"{describe_layers(layers, 'weight')} is drawn from {distribution}: a normalisation "
                "layer's scale starts at 1 so that it passes the normalised signal on; drawn around "
                "0, each channel starts scaled down (some with their sign flipped), and so is the "
                "gradient flowing back through it. Use nn.init.ones_ (or normal_(w, 1.0, std) for a "
                "jittered scale)",
                fix=_ones_fix(model, op) if _only_norm_scales(op, layers) else None,
            )


def _norm_scales(model: FileModel, op: InitOp) -> tuple[Submodule, ...]:
    """The norm layers whose scale ``op`` certainly writes (not those named like a gate or a
    layer scale)."""
    target = op.target
    assert target is not None
    # A loop over all parameters (or modules) without a test inside it writes every one of them
    # (a test around the loop, of the function's arguments, only says whether it runs).
    unguarded_loop = bool(op.loops) and not any(open_loops for _, _, open_loops in op.conditions)
    if target.param != "weight" or not (target.exact or unguarded_loop):
        return ()
    # A helper read alone writes a norm's scale only where its dispatch names the norm: one
    # testing ``hasattr(m, "weight")`` is judged by the model it is applied to.
    return tuple(layer for layer in op.effective_layers()
                 if _scale_takes(model, op, layer) and not is_intentional(layer.path)
                 and (not target.by_class or named_by_class(model, op, layer)))


def _scale_takes(model: FileModel, op: InitOp, layer: Submodule) -> bool:
    """Whether ``layer`` is a norm whose scale ``op``'s function can write: a fan-based scheme
    raises on a torch norm's vector, not on a custom norm's ``(1, n, 1)`` scale."""
    min_dim = knowledge.INIT_FUNCTIONS[op.function].min_dim
    if layer.kind is LayerKind.NORM:
        return min_dim <= 1
    own = model.classes.get(layer.class_name or "") if layer.kind is LayerKind.CUSTOM else None
    return own is not None and any((own.parameters[p] or 0) >= min_dim for p in norm_scales(model, layer))


def _only_norm_scales(op: InitOp, layers: tuple[Submodule, ...]) -> bool:
    """Whether the call writes norm scales and nothing else: a loop over every parameter also
    writes the weights that want the random draw, which ``ones_`` would make constant."""
    assert op.target is not None
    return op.target.exact and len(layers) == len(op.effective_layers())


def _near_zero(model: FileModel, op: InitOp) -> str | None:
    """The distribution (``N(0, 0.02)``, ``U(-b, b)``) when it is random with a mean near 0."""
    scheme = knowledge.INIT_FUNCTIONS[op.function]
    if scheme.scheme in _FAN_SCALED:
        # Sized from the tensor's fans, around zero: a custom norm's (1, n, 1) scale takes them.
        return f"{scheme.scheme.capitalize()} {scheme.family} (mean 0)"
    if op.function not in _RANDOM:
        return None
    if op.function == "uniform_":
        low, high = op.args.get("a"), op.args.get("b")
        if low is not None and high is not None and _negated(model, low, high):
            return f"U(-{model.source(high)}, {model.source(high)})"
        a = 0.0 if low is None else _value(model, op, low)
        b = 1.0 if high is None else _value(model, op, high)
        if a is None or b is None or b <= a or abs(a + b) / 2 >= knowledge.NORM_SCALE_NEAR_ZERO:
            return None
        return f"U({a:g}, {b:g})"
    mean = 0.0 if "mean" not in op.args else _value(model, op, op.args["mean"])
    std = 1.0 if "std" not in op.args else _value(model, op, op.args["std"])
    if mean is None or abs(mean) >= knowledge.NORM_SCALE_NEAR_ZERO or std == 0.0:
        return None
    spread = model.source(op.args["std"]) if "std" in op.args else "1"
    return f"N({mean:g}, {spread})"


def _value(model: FileModel, op: InitOp, node: cst.BaseExpression) -> float | None:
    """A literal, or the literal default of a parameter of the enclosing function."""
    value = number(model, node)
    if value is None and isinstance(node, cst.Name):
        value = number(model, op.parameter_default(node.value))
    return value


def _negated(model: FileModel, low: cst.BaseExpression, high: cst.BaseExpression) -> bool:
    """``-stdv, stdv`` or ``-1 / sqrt(n), 1 / sqrt(n)``: a range symmetric about zero, whatever
    its bound is."""
    if isinstance(low, cst.UnaryOperation) and isinstance(low.operator, cst.Minus):
        return model.source(low.expression) == model.source(high)
    if isinstance(high, cst.BinaryOperation) and isinstance(high.operator, (cst.Add, cst.Subtract)):
        return False  # ``-a + b`` is not ``-(a + b)``
    return model.source(low).replace(" ", "") == "-" + model.source(high).replace(" ", "")


def _ones_fix(model: FileModel, op: InitOp) -> Fix | None:
    """Unsafe (it changes the values drawn): ``init.ones_(w)`` or ``w.fill_(1.0)``."""
    if op.via is InitVia.INIT and isinstance(op.func_node, cst.Attribute) and isinstance(op.node, cst.Call):
        tensor = argument(op.node, 0, "tensor")
        if tensor is None:
            return None
        text = f"{model.source(op.func_node.value)}.ones_({model.source(tensor)})"
    elif op.via is InitVia.METHOD and isinstance(op.func_node, cst.Attribute):
        text = f"{model.source(op.func_node.value)}.fill_(1.0)"
    else:
        return None
    return Fix(Applicability.UNSAFE, f"Replace with `{text}`", (model.replace(op.node, text),))
