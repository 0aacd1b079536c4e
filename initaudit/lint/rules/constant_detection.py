"""Shared detection for IA101 (zero) and IA102 (other constants) on weight matrices."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterator

import libcst as cst

from initaudit import knowledge
from initaudit.diagnostics import Severity
from initaudit.lint.model.facts import InitOp
from initaudit.lint.model.file_model import FileModel
from initaudit.lint.model.flow import Consumer, ConsumerKind
from initaudit.lint.model.modules import Submodule
from initaudit.lint.model.queries import (
    describe_layers,
    ends_residual,
    feeding,
    is_head,
    is_intentional,
    is_weight_matrix,
    judged_parameter,
    low_rank_partner,
    number,
    single_output,
)
from initaudit.lint.model.targets import guarded_by_class_only
from initaudit.lint.rules.base import Finding
from initaudit.lint.rules.rewrite import scheme_fix

_SCHEMES_THAT_RANDOMISE = ("xavier", "kaiming", "orthogonal", "fixed")


@dataclass(frozen=True)
class ConstantInit:
    op: InitOp
    value: float | None  # None: a constant not known statically
    what: str  # "fc1.weight" or "3 Linear layers: net.0, net.2, net.4"
    consumer: Consumer | None
    layers: tuple[Submodule, ...]


def _written_again_in_part(model: FileModel, op: InitOp) -> bool:
    """Whether a later init of the same function writes into a view of the tensor ``op`` fills
    (``w.data.fill_(0)``, then ``orthogonal_(w.data[:, :, k, k])``: a delta-orthogonal kernel):
    its final value is not that constant. Read in the function as written, in this file or in
    the other project file whose helper a call here runs."""
    for source in (model, *model.foreign_models()):
        written = next((other for other in source.written_ops if other.node is op.as_written), None)
        if written is not None:
            break
    else:
        return False
    tensor = _unwrapped(written.target_node)
    if tensor is None:
        return False
    views = [view.value for other in source.written_ops
             if other.scope_node is written.scope_node and other.seq > written.seq
             and isinstance(view := _unwrapped(other.target_node), cst.Subscript)]
    # Compared as code: a view's base is another node spelling the same tensor.
    return any(base is not None and _code(base) == _code(tensor) for base in map(_unwrapped, views))


def _code(node: cst.CSTNode) -> str:
    return cst.Module([]).code_for_node(node)


def _unwrapped(node: cst.BaseExpression | None) -> cst.BaseExpression | None:
    """``w`` of ``w.data``."""
    while isinstance(node, cst.Attribute) and node.attr.value == "data":
        node = node.value
    return node


def constant_inits(model: FileModel) -> Iterator[ConstantInit]:
    """Weight matrices set to one value, minus the patterns that do so on purpose."""
    names: dict[int, frozenset[str]] = {}
    for op in model.init_ops:
        if op.function not in ("zeros_", "ones_", "constant_") or op.target is None:
            continue
        if not op.target.exact or op.method == "forward" or _written_again_in_part(model, op):
            continue
        value = {"zeros_": 0.0, "ones_": 1.0}.get(op.function)
        if value is None:
            value = number(model, op.args.get("val"))
        if value == 0.0 and _opted_in(op):
            continue
        target = op.target
        if target.by_class and (value is None or (value == 0.0 and not _zeroes_whole_classes(model, op))):
            continue  # a zero start is deliberate where the layer ends a branch, unknown here
        if not target.layers:
            if _flag_parameter(model, op):
                yield ConstantInit(op, value, target.param, None, ())
            continue
        # Zero starts are a known recipe in places (LoRA B, residual ends, heads); a non-zero
        # constant on a weight matrix never is.
        # One output unit has no copies to be (a constant kernel there is an averaging filter).
        layers = tuple(m for m in op.effective_layers() if is_weight_matrix(m, target.param)
                       and not (value in (0.0, None) and _intentional(model, op, m, names))
                       and not (value != 0.0 and single_output(m)))
        if not layers:
            continue
        if target.owner.is_module and not target.by_class:
            # Mature model code zero-initialises output projections whose consumer lies beyond
            # what one file shows; only the layers whose use is known are judged, each by its own.
            layers = tuple(m for m in layers if feeding(model, target.owner, m) is not None)
            if not layers:
                continue
        consumers = {feeding(model, target.owner, m) for m in layers}
        consumer = consumers.pop() if len(consumers) == 1 else None
        yield ConstantInit(op, value, describe_layers(layers, target.param, model), consumer, layers)


def _opted_in(op: InitOp) -> bool:
    """A zero start in the arm of a test of an option that names it (``if init_zero:``,
    ``if self.zero_init_residual:``): the caller's choice of a zero start, as LoRA's B or a
    residual branch's last layer makes it."""
    for condition, positive, _ in (*op.conditions, *op.call_conditions):
        test = condition.test
        while isinstance(test, cst.UnaryOperation) and isinstance(test.operator, cst.Not):
            test, positive = test.expression, not positive
        if positive and any("zero" in word.split("_") for word in _tested_names(test)):
            return True
    return False


def _tested_names(test: cst.BaseExpression) -> Iterator[str]:
    """The lower-cased names and attribute names a test reads."""
    if isinstance(test, cst.Name):
        yield test.value.lower()
    elif isinstance(test, cst.Attribute):
        yield test.attr.value.lower()
    for child in test.children:
        if isinstance(child, cst.BaseExpression):
            yield from _tested_names(child)


def _zeroes_whole_classes(model: FileModel, op: InitOp) -> bool:
    """A helper that zeroes the weight of every layer of a class it is given, under no other test
    (not ``if name.startswith("head")``) and not named as a deliberate zero init (``zero_module``)."""
    assert op.scope_node is not None
    return guarded_by_class_only(model, op) and not is_intentional(op.scope_node.name.value)


def _intentional(model: FileModel, op: InitOp, layer: Submodule, names: dict[int, frozenset[str]]) -> bool:
    """``names``: the lower-cased attribute names and layer paths of each owner, by id, as far
    as they were needed (a scope with thousands of layers is not listed again for each one)."""
    assert op.target is not None
    if is_intentional(layer.path):
        return True
    consumer = feeding(model, op.target.owner, layer)
    partner = low_rank_partner(layer.path.rsplit(".", 1)[-1])
    owner = op.target.owner
    if partner is not None and id(owner) not in names:
        names[id(owner)] = frozenset({name.lower() for name in owner.attributes}
                                     | {m.path.lower() for m in model.layers(owner)})
    if partner is not None and {partner, layer.path.rsplit(".", 1)[0].lower() + "." + partner} & names[id(owner)]:
        # LoRA-style pair: this factor starts at zero while its partner is random, and the
        # update it makes is added to another output; a factor feeding an activation is not one.
        return consumer is None or consumer.kind is not ConsumerKind.ACTIVATION
    # A zero last layer of a residual branch makes the block start as the identity; a zero
    # head (before a sigmoid or softmax too) still learns, each unit from its own error — both
    # are deliberate patterns.
    return ends_residual(model, owner, layer) or is_head(model, owner, layer, consumer)


def _flag_parameter(model: FileModel, op: InitOp) -> bool:
    """``self.w = nn.Parameter(torch.zeros(out, in))`` or an init of such a bare Parameter."""
    target = op.target
    assert target is not None
    if is_intentional(target.param) or not judged_parameter(model, op):
        return False
    partner = low_rank_partner(target.param)
    owner_ops = [o for o in model.init_ops if o.owner is target.owner and o is not op]
    if partner is not None and any(
        o.target is not None and not o.target.layers and o.target.param.lower() == partner
        and knowledge.INIT_FUNCTIONS[o.function].scheme in _SCHEMES_THAT_RANDOMISE
        for o in owner_ops
    ):
        return False  # LoRA: B = 0 while A is random, so the update starts at zero
    # An init we could not resolve (a loop over parameters, say) may rewrite it later.
    return not any(o.target is None and o.method != "forward" for o in owner_ops)


def severity(found: ConstantInit, default: Severity) -> Severity:
    """Error when the layer feeds a ReLU-family activation: its units can never recover."""
    consumer = found.consumer
    if consumer is not None and consumer.kind is ConsumerKind.ACTIVATION and consumer.activation:
        if knowledge.ACTIVATIONS[consumer.activation].family == knowledge.RELU:
            return Severity.ERROR
    return default


def finding(found: ConstantInit, message: str, default: Severity, model: FileModel) -> Finding:
    # Zeros are uniform-like: the replacement keeps the uniform distribution.
    fix = scheme_fix(model, found.op, found.consumer)
    return Finding.at(found.op, message, severity(found, default), fix)
