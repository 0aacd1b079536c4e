"""IA112: a standard deviation passed as the gain of a Xavier or orthogonal initialisation."""

from __future__ import annotations

from typing import Iterator

import libcst as cst

from initaudit import knowledge
from initaudit.diagnostics import Severity
from initaudit.knowledge import LayerKind
from initaudit.lint.model.facts import InitOp, ModuleClass
from initaudit.lint.model.file_model import FileModel
from initaudit.lint.model.flow import ConsumerKind
from initaudit.lint.model.modules import Submodule, argument
from initaudit.lint.model.queries import ends_residual, feeding, is_head, is_intentional, number
from initaudit.lint.rules.base import Finding, rule


@rule("IA112")
class GainConfusedWithStd:
    def check(self, model: FileModel) -> Iterator[Finding]:
        for op in model.init_ops:
            if knowledge.INIT_FUNCTIONS[op.function].scheme not in ("xavier", "orthogonal") \
                    or ((_passed_by_caller(op) or _arm_the_caller_picks(op)) and not _none_a_head(model, op)):
                continue
            gain, origin = _gain(model, op)
            if gain is None or not 0 < gain < knowledge.STD_LIKE_GAIN_MAX or _deliberately_small(model, op):
                continue
            normalised = _feeds_only(model, op, ConsumerKind.NORM)
            effect = ("a normalisation after the layer rescales its output, but its weights still "
                      "learn on a scale the scheme did not mean" if normalised else
                      "the signal shrinks by that factor at every layer")
            yield Finding.at(
                op,
                f"gain={gain:g}{origin} looks like a standard deviation: {op.function} multiplies "
                f"its own std by the gain, so the weights start {1 / gain:.0f}x smaller than the "
                f"scheme intends; {effect}. Pass the gain of the activation that follows "
                f"(nn.init.calculate_gain), or use nn.init.normal_(w, std={gain:g}) if a fixed std "
                "was meant",
                severity=Severity.INFO if normalised else None,
            )


def _gain(model: FileModel, op: InitOp) -> tuple[float | None, str]:
    """The literal gain, directly or as the default of a parameter of an enclosing function
    (``def init_weights(net, init_gain=0.02)``), and how it was found."""
    node = op.args.get("gain")
    value = number(model, node)
    if value is not None or not isinstance(node, cst.Name):
        return value, ""
    default = op.parameter_default(node.value)
    return number(model, default), f" (the default of {node.value})"


def _passed_by_caller(op: InitOp) -> bool:
    """The gain is a parameter of the function written around the init, here run for one call:
    a value the caller picks for a layer whose use is not in view (a policy head's 0.01) is its
    choice, and the parameter's default is judged where the init is written."""
    written = op.written
    return isinstance(written, cst.Call) and isinstance(argument(written, 1, "gain"), cst.Name)


def _arm_the_caller_picks(op: InitOp) -> bool:
    """The init sits in the arm of a flag the function around it takes (``def init_linear(m,
    final_layer=False): ... if final_layer: orthogonal_(m.weight, gain=0.01)``): the caller says
    which layers take the arm, as it would by passing the gain, so it is judged the same way."""
    innermost = op.enclosing[-1] if op.enclosing else None
    if innermost is None:
        return False
    flags = {param.name.value for param in (*innermost.params.params, *innermost.params.kwonly_params)}
    return any(positive and isinstance(test.test, cst.Name) and test.test.value in flags
               for test, positive, _ in op.conditions)


def _none_a_head(model: FileModel, op: InitOp) -> bool:
    """Every layer the operation reaches is known to be no output layer: a recurrent layer (its
    gates follow its weights inside it), or one whose consumer the class's forward shows (heads
    among those are let through by ``_deliberately_small``)."""
    layers = op.effective_layers()
    owner = op.owner
    return bool(layers) and all(
        layer.kind is LayerKind.RECURRENT or (owner is not None and feeding(model, owner, layer) is not None)
        for layer in layers)


def _deliberately_small(model: FileModel, op: InitOp) -> bool:
    """A small-gain head (an RL policy head, before its tanh too) is a known recipe: its first
    outputs sit near the squash's centre, and each unit learns from its own error. So is a
    near-zero last layer of a residual branch, which starts its block as the identity (the zero
    residual end's intent). Only those are let through, and only when every layer's use is known."""
    layers = op.effective_layers()
    owner = op.owner
    if not layers or owner is None:
        return False
    if all(is_intentional(layer.path) for layer in layers):
        return True
    return all(_small_on_purpose(model, owner, layer) for layer in layers)


def _small_on_purpose(model: FileModel, owner: ModuleClass, layer: Submodule) -> bool:
    return ends_residual(model, owner, layer) or is_head(model, owner, layer, feeding(model, owner, layer))


def _feeds_only(model: FileModel, op: InitOp, kind: ConsumerKind) -> bool:
    """Every layer the operation reaches is known and feeds a ``kind``."""
    layers = op.effective_layers()
    if not layers or op.owner is None:
        return False
    consumers = [feeding(model, op.owner, layer) for layer in layers]
    return all(c is not None and c.kind is kind for c in consumers)
