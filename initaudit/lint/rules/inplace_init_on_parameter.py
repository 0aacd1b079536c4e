"""IA107: an in-place op on a Parameter outside torch.no_grad() raises at run time."""

from __future__ import annotations

from typing import Iterator

import libcst as cst

from initaudit import knowledge
from initaudit.diagnostics import Applicability, Fix
from initaudit.lint.model.facts import InitOp, InitVia, Target
from initaudit.lint.model.file_model import FileModel
from initaudit.lint.model.targets import target_of
from initaudit.lint.rules.base import Finding, rule


@rule("IA107")
class InplaceInitOnParameter:
    def check(self, model: FileModel) -> Iterator[Finding]:
        for op in model.init_ops:
            written = op.as_written
            if op.via is not InitVia.METHOD or op.in_no_grad or not isinstance(written, cst.Call) \
                    or not isinstance(written.func, cst.Attribute):
                continue
            receiver = written.func.value
            target = op.target or _viewed_target(model, op, receiver)
            if not _raises(op, target, receiver):
                continue
            method = written.func.attr.value
            yield Finding.at(
                op,
                f"`{_code(receiver)}.{method}(...)` modifies a Parameter that requires grad "
                "in place outside torch.no_grad(): torch raises \"a leaf Variable that requires grad "
                "is being used in an in-place operation\". Write through `.data` or use nn.init",
                fix=_through_data(model, op, receiver),
            )
        yield from _partial_writes(model)


def _partial_writes(model: FileModel) -> Iterator[Finding]:
    """``w[:, 0::2] = table``: item assignment is an in-place write (``__setitem__``) too."""
    for op in model.partial_writes:
        assert isinstance(op.node, cst.Assign)
        written = op.node.targets[0].target
        target = op.target
        if not _raises(op, target, written):
            continue
        yield Finding.at(
            op,
            f"`{_code(written)} = ...` writes into a Parameter that requires grad in place outside "
            "torch.no_grad(): torch raises \"a view of a leaf Variable that requires grad is being used in an "
            "in-place operation\". Write through `.data` or under torch.no_grad()",
            fix=_through_data(model, op, _base(written)),
        )


def _through_data(model: FileModel, op: InitOp, tensor: cst.BaseExpression) -> Fix | None:
    """``.data`` inserted after the tensor, where the write is written in this file."""
    if op.written is not None:
        return None
    return Fix(Applicability.SAFE, "Write through `.data`", (model.replace(tensor, model.source(tensor) + ".data"),))


def _raises(op: InitOp, target: Target | None, written: cst.BaseExpression) -> bool:
    """Whether autograd rejects the write: into a trained tensor known exactly, not detached (as
    written, through a local name bound to it, ``data = p.data``, or as the call hands it in),
    outside no_grad or a tensor its function left untrained (``op.unguarded``), run when the module
    is built."""
    return not (op.in_no_grad or op.unguarded or target is None or not target.exact or _detached(written)
                or (op.target_node is not None and _detached(op.target_node))
                or not _runs_at_construction(op) or (op.passed_in is not None and _detached(op.passed_in))
                or not _trained(target))


def _trained(target: Target) -> bool:
    """A bare Parameter not made with ``requires_grad=False``, or a layer's weight or bias (not
    a buffer it keeps)."""
    if not target.layers:
        return target.param not in target.owner.frozen_parameters
    return target.param in ("weight", "bias") or target.param.startswith(("weight_", "bias_", "in_proj"))


def _base(node: cst.BaseExpression) -> cst.BaseExpression:
    while (base := _viewed(node)) is not None:
        node = base
    return node


def _code(node: cst.BaseExpression) -> str:
    """The expression's text, wherever it is written (another file's helper included)."""
    return cst.Module([]).code_for_node(node)


def _viewed_target(model: FileModel, op: InitOp, receiver: cst.BaseExpression) -> Target | None:
    """The Parameter an in-place write reaches through a view of it (``w[:4]``,
    ``w.chunk(4)[1]``): autograd forbids it as it forbids writing the Parameter itself."""
    node, viewed = receiver, False
    while (base := _viewed(node)) is not None:
        node, viewed = base, True
    return target_of(model, op, node) if viewed and op.owner is not None else None


def _viewed(node: cst.BaseExpression) -> cst.BaseExpression | None:
    """The tensor ``node`` is a view of (``w`` of ``w[:4]``, ``w.chunk(4)``), if it is one."""
    if isinstance(node, cst.Subscript):
        return node.value
    if isinstance(node, cst.Call) and isinstance(node.func, cst.Attribute) \
            and node.func.attr.value in knowledge.VIEW_METHODS:
        return node.func.value
    return None


def _detached(node: cst.BaseExpression) -> bool:
    while True:
        if isinstance(node, cst.Attribute) and node.attr.value == "data":
            return True
        base = node.value if isinstance(node, cst.Attribute) else _viewed(node)
        if base is None:
            break
        node = base
    return isinstance(node, cst.Call) and isinstance(node.func, cst.Attribute) and \
        node.func.attr.value in ("detach", "detach_")


def _runs_at_construction(op: InitOp) -> bool:
    """In __init__, a helper it calls, or plain module/function code: the callers of other
    methods are unknown and may well hold torch.no_grad()."""
    if op.owner is None or not op.owner.is_module:
        return True
    return op.method == "__init__" or op.method in op.owner.init_calls
