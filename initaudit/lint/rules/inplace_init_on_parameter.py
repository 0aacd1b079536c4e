"""IA107: an in-place op on a Parameter outside torch.no_grad() raises at run time."""

from __future__ import annotations

from typing import Iterator

import libcst as cst

from initaudit.diagnostics import Applicability, Fix
from initaudit.lint.model.facts import InitVia
from initaudit.lint.model.file_model import FileModel
from initaudit.lint.rules.base import Finding, rule


@rule("IA107")
class InplaceInitOnParameter:
    def check(self, model: FileModel) -> Iterator[Finding]:
        for op in model.init_ops:
            if op.via is not InitVia.METHOD or op.in_no_grad or op.target is None or not op.target.exact:
                continue
            written = op.as_written
            if not isinstance(written, cst.Call) or not isinstance(written.func, cst.Attribute):
                continue
            receiver = written.func.value
            if _detached(receiver) or not _runs_at_construction(op):
                continue
            if op.target.layers and op.target.param not in ("weight", "bias") and not op.target.param.startswith(("weight_", "bias_", "in_proj")):
                continue
            method = written.func.attr.value
            yield Finding.at(
                op,
                f"`{_code(receiver)}.{method}(...)` modifies a Parameter that requires grad "
                "in place outside torch.no_grad(): torch raises \"a leaf Variable that requires grad "
                "is being used in an in-place operation\". Write through `.data` or use nn.init",
                fix=Fix(Applicability.SAFE, "Write through `.data`",
                        (model.replace(receiver, model.source(receiver) + ".data"),)) if op.written is None else None,
            )


def _code(node: cst.BaseExpression) -> str:
    """The expression's text, wherever it is written (another file's helper included)."""
    return cst.Module([]).code_for_node(node)


def _detached(node: cst.BaseExpression) -> bool:
    while isinstance(node, (cst.Attribute, cst.Subscript)):
        if isinstance(node, cst.Attribute) and node.attr.value == "data":
            return True
        node = node.value
    return isinstance(node, cst.Call) and isinstance(node.func, cst.Attribute) and \
        node.func.attr.value in ("detach", "detach_")


def _runs_at_construction(op) -> bool:
    """In __init__, a helper it calls, or plain module/function code: the callers of other
    methods are unknown and may well hold torch.no_grad()."""
    if op.owner is None or not op.owner.is_module:
        return True
    return op.method == "__init__" or op.method in op.owner.init_calls
