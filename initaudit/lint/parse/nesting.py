"""Keeping deeply nested but valid code from crashing or stalling the CST parser.

libcst's native parser recurses on the machine stack once per level of nesting (a chain
``a.b.b.b``, ``1+1+1``, ``------1``) and takes time that grows much faster than the chain: a
thousand-link chain of subscripts takes seconds, a few thousand overflow the stack and kill the
process. The interpreter's own parser is linear and bounded, so its syntax tree is measured first
and code nested deeper than :data:`MAX_DEPTH` is not handed to libcst at all. What is handed over
runs on a thread with a large stack and a raised recursion limit, so that the native parser and
the analysis (which recurse too) stay within bounds for every depth below the limit.
"""

from __future__ import annotations

import ast
import sys
import threading
from typing import Callable, TypeVar

from initaudit.lint.files.source import split_lines

#: Levels of expression nesting analysed: the interpreter's own limit for nested brackets. Real
#: code stays far below; libcst parses the costliest chain this deep (calls) in about 0.2 s.
MAX_DEPTH = 200
_STACK_BYTES = 512 * 1024 * 1024  # reserved, not committed: only the depth reached is used
_RECURSION_LIMIT = 60_000

T = TypeVar("T")


class NotAnalysed(Exception):
    """Valid Python that the CST parser cannot take; the message says why (one line)."""


def shallow_text(text: str) -> bool:
    """Whether text the interpreter did not parse is still safe to hand to libcst: brackets
    (strings and comments included, an overestimate) never deeper than :data:`MAX_DEPTH` and no
    line long enough to hold a chain that deep."""
    depth = deepest = 0
    for char in text:
        if char in "([{":
            depth += 1
            deepest = max(deepest, depth)
        elif char in ")]}":
            depth = max(depth - 1, 0)
    return deepest <= MAX_DEPTH and max(map(len, split_lines(text) or [""])) <= 4 * MAX_DEPTH


def check_depth(tree: ast.AST) -> None:
    """Raise :class:`NotAnalysed` when an expression in ``tree`` nests deeper than
    :data:`MAX_DEPTH`. ``a or b or c`` is one node here but a chain for libcst: it counts as one
    level per operator."""
    stack: list[tuple[ast.AST, int]] = [(tree, 0)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, ast.expr):
            if node.lineno == node.end_lineno and node.end_col_offset - node.col_offset + depth <= MAX_DEPTH:
                continue  # each level takes at least a character: most expressions end here
            depth += len(node.values) - 1 if isinstance(node, ast.BoolOp) else 1
            if depth > MAX_DEPTH:
                raise NotAnalysed(f"not analysed: an expression nests more than {MAX_DEPTH} levels "
                                  f"deep (line {node.lineno})")
        stack.extend((child, depth) for child in ast.iter_child_nodes(node))


def on_deep_stack(function: Callable[[], T]) -> T:
    """``function()`` on a thread with a large stack; its exception is raised here."""
    outcome: list = []

    def target() -> None:
        limit = sys.getrecursionlimit()
        sys.setrecursionlimit(max(limit, _RECURSION_LIMIT))
        try:
            outcome.append((True, function()))
        except BaseException as exc:  # re-raised in the calling thread
            outcome.append((False, exc))
        finally:
            sys.setrecursionlimit(limit)

    previous = threading.stack_size(_STACK_BYTES)
    try:
        thread = threading.Thread(target=target, name="initaudit-check", daemon=True)
        thread.start()
    finally:
        threading.stack_size(previous)
    thread.join()
    ok, value = outcome[0]
    if not ok:
        raise value
    return value
