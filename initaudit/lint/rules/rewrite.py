"""Rendering a replacement initialiser call in the file's own style."""

from __future__ import annotations

import libcst as cst

from initaudit import knowledge
from initaudit.diagnostics import Applicability, Fix
from initaudit.knowledge import Recommendation
from initaudit.lint.model.facts import InitOp, InitVia
from initaudit.lint.model.file_model import FileModel
from initaudit.lint.model.flow import Consumer
from initaudit.lint.model.modules import argument
from initaudit.lint.model.queries import activation_name, quote_of


def render_init_call(model: FileModel, op: InitOp, recommendation: Recommendation) -> str | None:
    """``nn.init.xavier_uniform_(w)`` -> ``nn.init.kaiming_uniform_(w, nonlinearity="relu")``.

    Only calls spelled through a module (``nn.init.x``, ``init.x``) are rewritten: a bare imported
    name would need a new import, which is left to the user.
    """
    func = op.func_node
    tensor = argument(op.node, 0, "tensor") if isinstance(op.node, cst.Call) else None
    if not isinstance(func, cst.Attribute) or tensor is None:
        return None
    prefix = model.source(func.value)
    quote = quote_of(model, op.node)
    parts = [model.source(tensor)]
    if recommendation.slope is not None:
        parts.append(f"a={recommendation.slope!r}")
    if recommendation.nonlinearity is not None:
        parts.append(f"nonlinearity={quote}{recommendation.nonlinearity}{quote}")
    if recommendation.gain_of is not None:
        parts.append(f"gain={prefix}.calculate_gain({quote}{recommendation.gain_of}{quote})")
    generator = op.args.get("generator")
    if generator is not None:
        parts.append(f"generator={model.source(generator)}")
    return f"{prefix}.{recommendation.function}({', '.join(parts)})"


def scheme_fix(model: FileModel, op: InitOp, consumer: Consumer | None) -> Fix | None:
    """Unsafe fix: call the initialiser that suits the activation the layer feeds, if known (not
    in a loop that writes the biases too, which a fan-based init rejects)."""
    if consumer is None or op.via is not InitVia.INIT or (op.target is not None and op.target.with_vectors):
        return None
    activation = activation_name(consumer)
    if activation is None:
        return None
    distribution = "normal" if "normal" in op.function else "uniform"
    text = render_init_call(model, op, knowledge.recommend(activation, distribution, consumer.slope))
    if text is None:
        return None
    return Fix(Applicability.UNSAFE, f"Replace with `{text}`", (model.replace(op.node, text),))
