"""Whether a file's syntax tree can hold an init operation: the text prefilter, made exact.

The text prefilter (:mod:`initaudit.lint.files.prefilter`) lets through every file whose code
spells ``init``, ``.zero_(`` or ``Parameter``; in most of them the word is a variable, a keyword
argument, a tensor op's name (``aten.zero_``), a type test (``isinstance(p, nn.Parameter)``) or a
copy between two tensors. The interpreter's own syntax tree, which the grammar check builds
anyway and in a tenth of the time libcst takes, tells those apart. This screen keeps every node
the file model records an operation from (an in-place method is one only where it is called and
not on a gradient, a Parameter only where it is made, or where the class is handed on as a value,
``x.requires_grad_()`` only where its result is assigned, returned or listed), so a file it
rejects has no finding that an init operation could give; it over-approximates (a ``.fill_`` on
any other tensor counts).
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Iterator
from typing import Any

from initaudit import knowledge

#: Calls of in-place methods that initialise whatever their arguments, or make a tensor trainable;
#: ``copy_`` initialises only when it copies what a constant or random factory makes
#: (``w.copy_(torch.zeros(3))``, ``w.copy_(torch.randn(a, b).t())``) or a draw of a local name,
#: whose in-place draw (``t = w.new_empty(s).normal_()``) the screen keeps anyway.
_INPLACE_CALLS = frozenset(knowledge.INPLACE_INIT_METHODS) - {"copy_"}
_MAKES_TRAINED = "requires_grad_"
_INIT_MODULE = knowledge.INIT_MODULE.rsplit(".", 1)[-1]
_PARAMETER = "Parameter"
_REQUIRES_GRAD = "requires_grad"
#: Calls whose arguments name a class without using it (``isinstance(p, nn.Parameter)``).
_TYPE_TESTS = frozenset({"isinstance", "issubclass"})


def may_initialise(tree: ast.Module) -> bool:
    """Whether ``tree`` reaches the init module, calls an in-place init method, makes a Parameter
    (or hands the class on), copies a factory's result into a tensor, or makes one
    trainable (``requires_grad=True``, ``.requires_grad_()``)."""
    return _Screen(tree).initialises()


class _Screen:
    def __init__(self, tree: ast.Module) -> None:
        self._tree = tree
        imports = [alias for node in _statements(tree.body) if isinstance(node, ast.ImportFrom) for alias in node.names]
        star = any(alias.name == "*" for alias in imports)
        #: The bare names that may be the Parameter class or the init module (a star import
        #: may bring either under its own name), and those of constant factories.
        self._parameters = {alias.asname or alias.name for alias in imports if alias.name == _PARAMETER}
        self._init_module = {_INIT_MODULE} if star else set()
        if star:
            self._parameters.add(_PARAMETER)
        factories = {*knowledge.CONSTANT_FACTORIES, *knowledge.UNIT_RANDOM_FACTORIES}
        self._factories = {*factories, *(alias.asname or alias.name for alias in imports if alias.name in factories)}
        #: Parameter references that only name the class: type tests, annotations, comparisons.
        self._named_only: set[int] = set()
        #: Values a name, an attribute or a caller receives (assigned, returned, or an item of
        #: a list, tuple or dict so handed on): where ``x.requires_grad_()`` makes a trained tensor.
        self._handed_on: set[int] = set()
        #: By node type, what tells whether a node initialises (most nodes have none: one lookup).
        self._handlers: dict[type, Callable[[Any], bool]] = {
            ast.alias: lambda node: _INIT_MODULE in node.name.split("."),
            ast.ImportFrom: lambda node: node.module is not None and _INIT_MODULE in node.module.split("."),
            ast.Call: self._call_initialises,
            ast.Attribute: lambda node: node.attr == _INIT_MODULE or (
                node.attr == _PARAMETER and id(node) not in self._named_only),
            ast.Name: lambda node: node.id in self._init_module or (
                node.id in self._parameters and id(node) not in self._named_only),
            # a trainable tensor: ``Variable(x, requires_grad=True)``
            ast.keyword: lambda node: node.arg == _REQUIRES_GRAD and isinstance(node.value, ast.Constant)
            and node.value.value is True,
            ast.Compare: lambda node: self._named_only_in(node.left, *node.comparators, whole=False),
            ast.Assign: lambda node: self._hand_on(node.value),
            ast.Return: lambda node: self._hand_on(node.value),
            ast.AnnAssign: lambda node: self._named_only_in(node.annotation) or self._hand_on(node.value),
            ast.arg: lambda node: self._named_only_in(node.annotation),
            **dict.fromkeys((ast.FunctionDef, ast.AsyncFunctionDef), lambda node: self._named_only_in(node.returns)),
        }

    def initialises(self) -> bool:
        # ``ast.walk`` yields a node before its children, so marks on children come first.
        handlers = self._handlers
        return any((handler := handlers.get(type(node))) is not None and handler(node)
                   for node in ast.walk(self._tree))

    def _call_initialises(self, call: ast.Call) -> bool:
        func = call.func
        if isinstance(func, ast.Name) and func.id in _TYPE_TESTS and len(call.args) == 2:
            self._named_only.update(map(id, ast.walk(call.args[1])))
        if not isinstance(func, ast.Attribute) or _into_gradient(func.value):
            return False
        if func.attr == _MAKES_TRAINED:
            # the collector makes a trained tensor of ``x.requires_grad_()`` only where it is handed on
            return not call.args and id(call) in self._handed_on
        if func.attr in _INPLACE_CALLS:
            return True
        sources = [*call.args[:1], *(k.value for k in call.keywords if k.arg == "src")]
        return func.attr == "copy_" and any(self._factory(node) for source in sources for node in ast.walk(source))

    def _factory(self, node: ast.AST) -> bool:
        if not isinstance(node, ast.Call):
            return False
        callee = node.func
        name = callee.attr if isinstance(callee, ast.Attribute) else callee.id if isinstance(callee, ast.Name) else None
        return name in self._factories

    def _hand_on(self, value: ast.expr | None) -> bool:
        """Mark ``value``, and the items of a list, tuple, set or dict display it is, as handed on."""
        if value is not None:
            items = value.elts if isinstance(value, (ast.List, ast.Tuple, ast.Set)) else \
                value.values if isinstance(value, ast.Dict) else []
            self._handed_on.update(map(id, (value, *items)))
        return False

    def _named_only_in(self, *nodes: ast.AST | None, whole: bool = True) -> bool:
        """Mark ``nodes`` (with all they hold, when ``whole``) as naming a class only; never an
        init itself."""
        for node in nodes:
            if node is not None:
                self._named_only.update(map(id, ast.walk(node)) if whole else (id(node),))
        return False


def _into_gradient(node: ast.expr) -> bool:
    """Whether an in-place call's receiver is a gradient (``p.grad.zero_()``,
    ``p.grad.data.fill_(0)``): never an initial value."""
    while isinstance(node, (ast.Attribute, ast.Subscript, ast.Call)):
        if isinstance(node, ast.Attribute) and node.attr == "grad":
            return True
        node = node.func if isinstance(node, ast.Call) else node.value
    return False


def _statements(body: list[ast.stmt]) -> Iterator[ast.stmt]:
    """Every statement of ``body`` and of the blocks nested in it (imports are statements): a
    walk that skips expressions, most of a tree."""
    for statement in body:
        yield statement
        for field in ("body", "orelse", "finalbody"):
            inner = getattr(statement, field, None)
            if isinstance(inner, list):
                yield from _statements(inner)
        for clause in (*getattr(statement, "handlers", ()), *getattr(statement, "cases", ())):
            yield from _statements(clause.body)
