"""What an expression's name refers to, when it comes from an import: ``nn.init.zeros_`` is
``torch.nn.init.zeros_`` after ``import torch.nn as nn``.

The rules only ever ask about imported names (``torch.*``, ``math.sqrt``, ``functools.partial``),
so bindings are gathered from statements alone, once, and a name is looked up along Python's chain:
its own scope, the enclosing functions, the module (a class body is not visible from its methods).
A name that the scope where it is found binds only otherwise (a parameter, an assignment)
resolves to nothing; one bound both ways keeps its imports, as it may be either. This answers what
libcst's QualifiedNameProvider answers for these names at a fraction of its cost: that provider
analyses every node of the file.

Not followed: ``nonlocal``, walrus targets and comprehension or ``match`` captures, which almost
never shadow a module name.
"""

from __future__ import annotations

from typing import Sequence

import libcst as cst
from libcst.helpers import get_full_name_for_node

_NOTHING: frozenset[str] = frozenset()


class Scope:
    __slots__ = ("parent", "is_class", "imports", "assigned", "global_names")

    def __init__(self, parent: Scope | None, is_class: bool = False) -> None:
        self.parent = parent
        self.is_class = is_class
        #: Local name -> the dotted names the imports binding it give (``nn`` -> ``torch.nn``).
        self.imports: dict[str, set[str]] = {}
        #: Names bound here by anything but an import.
        self.assigned: set[str] = set()
        #: Names declared ``global`` here: they live in the module scope.
        self.global_names: set[str] = set()

    def binds(self, name: str) -> bool:
        return name in self.imports or name in self.assigned


class NameResolver:
    """Built once per file; the traversal reports scope entries and exits and the Names it sees,
    so that any expression can be resolved later from its leftmost name."""

    def __init__(self, module: cst.Module) -> None:
        self._module_scope = Scope(None)
        self._scopes: dict[int, Scope] = {}  # by id of the FunctionDef / ClassDef / Lambda
        self._stack = [self._module_scope]
        self._scope_of: dict[int, Scope] = {}  # by id of a Name node
        self._bind_block(self._module_scope, module.body)

    # ---------------------------------------------------------------- traversal hooks

    def enter(self, node: cst.FunctionDef | cst.ClassDef | cst.Lambda) -> None:
        scope = self._scopes.get(id(node))
        if scope is None:  # a lambda (only its parameters bind), or a statement not reached
            scope = Scope(self._stack[-1], is_class=isinstance(node, cst.ClassDef))
            if not isinstance(node, cst.ClassDef):
                self._bind_parameters(scope, node.params)
            self._scopes[id(node)] = scope
        self._stack.append(scope)

    def leave(self) -> None:
        self._stack.pop()

    def note(self, name: cst.Name) -> None:
        self._scope_of[id(name)] = self._stack[-1]

    # ---------------------------------------------------------------- queries

    def knows(self, node: cst.CSTNode) -> bool:
        """Whether the traversal of this file saw the expression's leftmost name."""
        return id(_leftmost(node)) in self._scope_of

    def names(self, node: cst.CSTNode) -> frozenset[str]:
        """The dotted names ``node`` may refer to through imports (empty when unknown)."""
        dotted = get_full_name_for_node(node)
        if dotted is None:
            return _NOTHING
        head, dot, rest = dotted.partition(".")
        # A Name not seen yet is being asked about from the scope the traversal is in.
        scope = self._scope_of.get(id(_leftmost(node)), self._stack[-1])
        return frozenset(origin + dot + rest for origin in self._lookup(scope, head))

    def _lookup(self, scope: Scope, name: str) -> set[str]:
        current: Scope | None = scope
        if name in scope.global_names:
            current = self._module_scope
        first = True
        while current is not None:
            if (first or not current.is_class) and current.binds(name):
                return current.imports.get(name, set())
            first = False
            current = current.parent
        return set()

    # ---------------------------------------------------------------- binding

    def _bind_block(self, scope: Scope, body: Sequence[cst.CSTNode]) -> None:
        for statement in body:
            if isinstance(statement, cst.SimpleStatementLine):
                for small in statement.body:
                    self._bind_small(scope, small)
            elif isinstance(statement, cst.BaseSmallStatement):  # a one-line suite
                self._bind_small(scope, statement)
            else:
                self._bind_compound(scope, statement)

    def _bind_compound(self, scope: Scope, node: cst.CSTNode) -> None:
        if isinstance(node, (cst.FunctionDef, cst.ClassDef)):
            self._assign(scope, node.name.value)
            inner = Scope(scope, is_class=isinstance(node, cst.ClassDef))
            if isinstance(node, cst.FunctionDef):
                self._bind_parameters(inner, node.params)
            self._scopes[id(node)] = inner
            self._bind_block(inner, node.body.body)
            return
        if isinstance(node, cst.For):
            self._bind_target(scope, node.target)
        elif isinstance(node, cst.With):
            for item in node.items:
                if item.asname is not None:
                    self._bind_target(scope, item.asname.name)
        for handler in getattr(node, "handlers", ()):
            if handler.name is not None:
                self._bind_target(scope, handler.name.name)
        for block in _nested_blocks(node):
            self._bind_block(scope, block)

    def _bind_small(self, scope: Scope, node: cst.BaseSmallStatement) -> None:
        if isinstance(node, (cst.Import, cst.LazyImport)):
            for alias in node.names:
                full = get_full_name_for_node(alias.name) or ""
                if alias.asname is not None:
                    self._import(scope, _as_name(alias), full)
                else:  # ``import a.b.c`` binds ``a``
                    head = full.partition(".")[0]
                    self._import(scope, head, head)
        elif isinstance(node, (cst.ImportFrom, cst.LazyImportFrom)) and not isinstance(node.names, cst.ImportStar):
            module = "." * len(node.relative)
            if node.module is not None:
                module += get_full_name_for_node(node.module) or ""
            for alias in node.names:
                name = get_full_name_for_node(alias.name) or ""
                local = _as_name(alias) if alias.asname is not None else name
                separator = "" if module.endswith(".") else "."
                self._import(scope, local, module + separator + name)
        elif isinstance(node, cst.Assign):
            for target in node.targets:
                self._bind_target(scope, target.target)
        elif isinstance(node, (cst.AnnAssign, cst.AugAssign)):
            self._bind_target(scope, node.target)
        elif isinstance(node, cst.Del):
            self._bind_target(scope, node.target)
        elif isinstance(node, cst.Global):
            scope.global_names.update(item.name.value for item in node.names)

    def _bind_parameters(self, scope: Scope, params: cst.Parameters) -> None:
        for param in (*params.posonly_params, *params.params, *params.kwonly_params):
            scope.assigned.add(param.name.value)
        for star in (params.star_arg, params.star_kwarg):
            if isinstance(star, cst.Param):
                scope.assigned.add(star.name.value)

    def _bind_target(self, scope: Scope, target: cst.BaseExpression) -> None:
        if isinstance(target, cst.Name):
            self._assign(scope, target.value)
        elif isinstance(target, (cst.Tuple, cst.List)):
            for element in target.elements:
                self._bind_target(scope, element.value)
        elif isinstance(target, cst.StarredElement):
            self._bind_target(scope, target.value)

    def _assign(self, scope: Scope, name: str) -> None:
        self._owner(scope, name).assigned.add(name)

    def _import(self, scope: Scope, name: str, origin: str) -> None:
        self._owner(scope, name).imports.setdefault(name, set()).add(origin)

    def _owner(self, scope: Scope, name: str) -> Scope:
        return self._module_scope if name in scope.global_names else scope


def _as_name(alias: cst.ImportAlias) -> str:
    assert alias.asname is not None
    return get_full_name_for_node(alias.asname.name) or ""


def _leftmost(node: cst.CSTNode) -> cst.CSTNode:
    while True:
        if isinstance(node, (cst.Attribute, cst.Subscript)):
            node = node.value
        elif isinstance(node, cst.Call):
            node = node.func
        else:
            return node


def _nested_blocks(node: cst.CSTNode) -> list[Sequence[cst.CSTNode]]:
    """The statement lists directly inside a compound statement (branches, handlers, cases)."""
    blocks: list[Sequence[cst.CSTNode]] = []
    for part in (getattr(node, "body", None), getattr(node, "orelse", None),
                 getattr(node, "finalbody", None)):
        if isinstance(part, (cst.IndentedBlock, cst.SimpleStatementSuite)):
            blocks.append(part.body)
        elif isinstance(part, (cst.Else, cst.Finally)):
            blocks.append(part.body.body)
        elif isinstance(part, cst.If):  # elif
            blocks.append([part])
    for handler in getattr(node, "handlers", ()):
        blocks.append(handler.body.body)
    for case in getattr(node, "cases", ()):
        blocks.append(case.body.body)
    return blocks
