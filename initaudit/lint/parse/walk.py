"""A read-only traversal of a libcst tree, several times faster than ``node.visit(visitor)``.

libcst's own traversal rebuilds and re-validates every node as it goes (visitors and transformers
share that code) and descends into every whitespace, comma and parenthesis. A linter only reads the
tree, so this walk reads each node's fields directly and skips the fields that can only hold such
tokens. It keeps libcst's hook protocol: ``visit_<Node>`` (returning False skips the children),
``leave_<Node>``, and ``visit_<Node>_<field>`` / ``leave_<Node>_<field>`` around a field.

Children are reached in field order, which is source order for every statement list; within an
expression it can differ (``IfExp`` holds its test before its body), which no hook relies on.
"""

from __future__ import annotations

import dataclasses
import typing
from typing import Any, Callable

import libcst as cst

#: Nodes that carry no names or expressions: layout, punctuation and operators.
_TOKEN_BASES = (
    cst.BaseParenthesizableWhitespace, cst.TrailingWhitespace, cst.EmptyLine, cst.Newline,
    cst.Comment, cst.Comma, cst.Semicolon, cst.Colon, cst.Dot, cst.AssignEqual, cst.LeftParen,
    cst.RightParen, cst.LeftSquareBracket, cst.RightSquareBracket, cst.LeftCurlyBrace,
    cst.RightCurlyBrace, cst.Asynchronous, cst.BaseBinaryOp, cst.BaseBooleanOp, cst.BaseCompOp,
    cst.BaseUnaryOp, cst.BaseAugOp, cst.ImportStar, cst.ParamSlash, cst.ParamStar,
)
_Hook = Callable[..., Any]


class _Plan:
    """For one node class and one visitor class: the hooks to call (unbound) and the fields
    worth entering."""

    __slots__ = ("visit", "leave", "fields")

    def __init__(self, node_type: type[cst.CSTNode], visitor: type) -> None:
        name = node_type.__name__
        self.visit: _Hook | None = getattr(visitor, f"visit_{name}", None)
        self.leave: _Hook | None = getattr(visitor, f"leave_{name}", None)
        self.fields: list[tuple[str, _Hook | None, _Hook | None]] = [
            (field.name, getattr(visitor, f"visit_{name}_{field.name}", None),
             getattr(visitor, f"leave_{name}_{field.name}", None))
            for field in dataclasses.fields(node_type) if not _only_tokens(field.type)
        ]


_PLANS: dict[tuple[type, type], _Plan] = {}


def walk(node: cst.CSTNode, visitor: object) -> None:
    """Call ``visitor``'s hooks for ``node`` and every node below it, depth first."""
    _enter(visitor, type(visitor), node)


def _enter(visitor: object, visitor_type: type, current: cst.CSTNode) -> None:
    # A function of the module, not a closure: a recursive closure is a reference cycle that would
    # keep every tree walked alive until the cyclic garbage collector finds it.
    key = (visitor_type, type(current))
    plan = _PLANS.get(key)
    if plan is None:
        plan = _PLANS[key] = _Plan(type(current), visitor_type)
    if plan.visit is None or plan.visit(visitor, current) is not False:
        for field, before, after in plan.fields:
            value = getattr(current, field)
            if before is not None:
                before(visitor, current)
            if isinstance(value, cst.CSTNode):
                _enter(visitor, visitor_type, value)
            elif isinstance(value, (tuple, list)):
                for item in value:
                    if isinstance(item, cst.CSTNode):
                        _enter(visitor, visitor_type, item)
            if after is not None:
                after(visitor, current)
    if plan.leave is not None:
        plan.leave(visitor, current)


def _only_tokens(annotation: object) -> bool:
    """Whether a field's declared type admits nothing but tokens, strings and sentinels."""
    arguments = typing.get_args(annotation)
    if arguments:
        return all(_only_tokens(argument) for argument in arguments)
    if annotation in (str, type(None), cst.MaybeSentinel):
        return True
    return isinstance(annotation, type) and issubclass(annotation, _TOKEN_BASES)
