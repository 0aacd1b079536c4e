"""Whether a file's syntax tree can hold an init operation: the text prefilter, made exact.

The text prefilter (:mod:`initaudit.lint.files.prefilter`) lets through every file whose code
spells ``init``, ``.copy_(`` or ``Parameter``; in most of them the word is a variable, a keyword
argument or a copy between two tensors. The interpreter's own syntax tree, which the grammar
check builds anyway and in a tenth of the time libcst takes, tells those apart. This screen
keeps every node the file model records an operation from, so a file it rejects has no finding
that an init operation could give; it over-approximates (a ``.fill_`` on any tensor counts).
"""

from __future__ import annotations

import ast

from initaudit import knowledge

#: In-place methods that are an init operation whatever their arguments; ``copy_`` is one only
#: when it copies a call's result (``w.copy_(torch.zeros(...))``), not another tensor.
_DRAWING_METHODS = frozenset(knowledge.INPLACE_INIT_METHODS) - {"copy_"}
_INIT_MODULE = knowledge.INIT_MODULE.rsplit(".", 1)[-1]
_PARAMETER = "Parameter"
_REQUIRES_GRAD = "requires_grad"


def may_initialise(tree: ast.Module) -> bool:
    """Whether ``tree`` imports or reaches the init module or ``Parameter`` (a bare name can only
    be either through an import), calls an in-place init method, copies a call's result into
    a tensor, or makes one trainable (``requires_grad=True``, ``.requires_grad_()``)."""
    return any(_initialises(node) for node in ast.walk(tree))


def _initialises(node: ast.AST) -> bool:
    if isinstance(node, ast.Attribute):
        return node.attr in _DRAWING_METHODS or node.attr in (_INIT_MODULE, _PARAMETER, _REQUIRES_GRAD + "_")
    if isinstance(node, ast.alias):  # a star import may bring either name
        return _INIT_MODULE in node.name.split(".") or node.name in (_PARAMETER, "*")
    if isinstance(node, ast.ImportFrom):
        return node.module is not None and _INIT_MODULE in node.module.split(".")
    if isinstance(node, ast.Call):
        return (isinstance(node.func, ast.Attribute) and node.func.attr == "copy_"
                and any(isinstance(a, ast.Call) for a in [*node.args, *(k.value for k in node.keywords)]))
    if isinstance(node, ast.keyword):  # a trainable tensor: ``Variable(x, requires_grad=True)``
        return node.arg == _REQUIRES_GRAD and isinstance(node.value, ast.Constant) and node.value.value is True
    return False
