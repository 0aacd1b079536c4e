"""What an expression's name refers to, when it comes from an import: ``nn.init.zeros_`` is
``torch.nn.init.zeros_`` after ``import torch.nn as nn``.

The rules only ever ask about imported names (``torch.*``, ``math.sqrt``, ``functools.partial``),
so bindings are gathered from statements alone, once, and a name is looked up along Python's chain:
its own scope, the enclosing functions, the module (a class body is not visible from its methods
nor from its comprehensions and lambdas). ``global`` and ``nonlocal`` send a name's bindings and
lookups to the scope they name. A name that the scope where it is found binds only otherwise (a
parameter, an assignment, a ``for``/``with``/``except``/``match`` target, ``del``) resolves to
nothing; one bound both ways keeps its imports, as it may be either.

The traversal says where each scope's code starts and ends: a function's parameter defaults and
annotations, its decorators and a class's bases are evaluated in the enclosing scope, and so is a
comprehension's first iterable, while the comprehension's targets are its own. Walrus targets, the
one binding written inside expressions, are bound when the traversal meets them (in the enclosing
function when written in a comprehension), so only questions asked after that see them.

This answers what libcst's QualifiedNameProvider answers for these names, which analyses every
node of the file (tens of times the cost of the whole file model).
``tests/lint/test_names_against_libcst.py`` compares the two on every read of an imported name, in
cases written for each binding rule and in the repository's fixtures and examples (and in any
folder on request, such as an installed ``torch/nn``), and lists where the resolver follows Python
instead of libcst: ``del``, ``nonlocal`` through a function that binds nothing, a walrus in a
comprehension, ``match`` captures, star imports (a name bound nowhere else is taken for one that
``from m import *`` gives; with the project's files, only for one that a project module ``m``
exports). Not followed: the scopes of type parameters (``def f[T]``).
"""

from __future__ import annotations

import builtins
from typing import Callable, Sequence

import libcst as cst
from libcst.helpers import get_full_name_for_node

_NOTHING: frozenset[str] = frozenset()
_BUILTINS = frozenset(dir(builtins))

#: What ``from <level dots><module> import *`` binds a name to (its dotted origin), None when the
#: module does not give it or what it is is unknown.
StarOrigin = Callable[[int, str, str], "str | None"]


def outside_origin(level: int, module: str, name: str) -> str | None:
    """Without the project's files: a star import of an absolute module may give any name but a
    builtin's, as that module's own (``from torch.nn.init import *`` gives ``xavier_uniform``)."""
    return f"{module}.{name}" if not level and module and name not in _BUILTINS else None


class Scope:
    __slots__ = ("parent", "is_class", "is_comprehension", "imports", "assigned", "declared", "stars")

    def __init__(self, parent: Scope | None, is_class: bool = False, is_comprehension: bool = False) -> None:
        self.parent = parent
        self.is_class = is_class
        self.is_comprehension = is_comprehension
        #: Local name -> the dotted names the imports binding it give (``nn`` -> ``torch.nn``).
        self.imports: dict[str, set[str]] = {}
        #: Names bound here by anything but an import.
        self.assigned: set[str] = set()
        #: Names declared ``global`` or ``nonlocal`` here -> the scope they live in.
        self.declared: dict[str, Scope] = {}
        #: ``from <level dots><module> import *`` here, as (level, module), in order.
        self.stars: list[tuple[int, str]] = []

    def binds(self, name: str) -> bool:
        return name in self.imports or name in self.assigned


class NameResolver:
    """Built once per file; the traversal reports scope entries and exits and the Names it sees,
    so that any expression can be resolved later from its leftmost name."""

    def __init__(self, module: cst.Module, star_origin: StarOrigin = outside_origin) -> None:
        self._star_origin = star_origin
        self._module_scope = Scope(None)
        self._scopes: dict[int, Scope] = {}  # by id of the FunctionDef, ClassDef, Lambda, comprehension
        self._stack = [self._module_scope]
        self._scope_of: dict[int, Scope] = {}  # by id of a Name node
        self._nonlocals: list[tuple[Scope, str]] = []
        self._first_fors: set[int] = set()  # ids of the CompFor holding a comprehension's first iterable
        self._bind_block(self._module_scope, module.body)
        self._link_nonlocals()

    # ---------------------------------------------------------------- traversal hooks

    def enter(self, node: cst.CSTNode) -> None:
        """Called where the code a scope evaluates starts: a function's or lambda's parameters
        and body, a class's body, a comprehension; and where code inside them is evaluated
        outside them: a parameter's default and annotation, a comprehension's first iterable
        (each ``for`` clause's iterable is reported, the others stay inside)."""
        current = self._stack[-1]
        if isinstance(node, (cst.Param, cst.CompFor)):
            outside = isinstance(node, cst.Param) or id(node) in self._first_fors
            self._stack.append(current.parent if outside and current.parent is not None else current)
            return
        scope = self._scopes.get(id(node))
        if scope is None:  # a lambda or comprehension (bound here, as only its own parts bind)
            scope = self._new_scope(node, current)
        self._stack.append(scope)

    def leave(self) -> None:
        self._stack.pop()

    def note(self, name: cst.Name) -> None:
        self._scope_of[id(name)] = self._stack[-1]

    def bind(self, node: cst.NamedExpr) -> None:
        """A walrus target: it binds in the scope the traversal is in, or the one holding the
        comprehension it is written in."""
        scope = self._stack[-1]
        while scope.is_comprehension and scope.parent is not None:
            scope = scope.parent
        self._bind_target(scope, node.target)

    def _new_scope(self, node: cst.CSTNode, parent: Scope) -> Scope:
        if isinstance(node, cst.BaseComp):
            scope = Scope(parent, is_comprehension=True)
            self._first_fors.add(id(node.for_in))
            clause: cst.CompFor | None = node.for_in
            while clause is not None:
                self._bind_target(scope, clause.target)
                clause = clause.inner_for_in
        else:
            scope = Scope(parent, is_class=isinstance(node, cst.ClassDef))
            if isinstance(node, (cst.FunctionDef, cst.Lambda)):
                self._bind_parameters(scope, node.params)
        self._scopes[id(node)] = scope
        return scope

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

    def global_names(self, name: str) -> set[str]:
        """The dotted names a module-level read of ``name`` may refer to."""
        return self._lookup(self._module_scope, name)

    def _lookup(self, scope: Scope, name: str) -> set[str]:
        current: Scope | None = scope.declared.get(name, scope)
        first = True
        while current is not None:
            if (first or not current.is_class) and current.binds(name):
                return current.imports.get(name, set())
            first = False
            current = current.parent
        # Bound nowhere: a name the module's star imports give (the last one giving it wins).
        for level, module in reversed(self._module_scope.stars):
            origin = self._star_origin(level, module, name)
            if origin is not None:
                return {origin}
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
            inner = self._new_scope(node, scope)
            self._bind_block(inner, node.body.body)
            return
        if isinstance(node, cst.For):
            self._bind_target(scope, node.target)
        elif isinstance(node, cst.With):
            for item in node.items:
                if item.asname is not None:
                    self._bind_target(scope, item.asname.name)
        elif isinstance(node, cst.Match):
            for case in node.cases:
                for name in _captures(case.pattern):
                    self._assign(scope, name)
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
        elif isinstance(node, (cst.ImportFrom, cst.LazyImportFrom)) and isinstance(node.names, cst.ImportStar):
            dotted = (get_full_name_for_node(node.module) or "") if node.module is not None else ""
            scope.stars.append((len(node.relative), dotted))
        elif isinstance(node, (cst.ImportFrom, cst.LazyImportFrom)):
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
        elif isinstance(node, cst.TypeAlias):
            self._assign(scope, node.name.value)
        elif isinstance(node, cst.Global):
            for item in node.names:
                scope.declared[item.name.value] = self._module_scope
        elif isinstance(node, cst.Nonlocal):
            self._nonlocals.extend((scope, item.name.value) for item in node.names)

    def _link_nonlocals(self) -> None:
        """Send each ``nonlocal`` name's bindings to the nearest enclosing function binding it,
        known once every scope is bound; outer declarations first, as inner ones may go through
        them."""
        for scope, name in sorted(self._nonlocals, key=lambda pair: _depth(pair[0])):
            target = scope.parent
            while target is not None and target is not self._module_scope:
                if target.is_class:
                    target = target.parent
                    continue
                if name in target.declared:
                    target = target.declared[name]
                    break
                if target.binds(name):
                    break
                target = target.parent
            if target is None or target is self._module_scope:
                continue  # a syntax error in Python
            if name in scope.imports:
                target.imports.setdefault(name, set()).update(scope.imports.pop(name))
            if name in scope.assigned:
                scope.assigned.discard(name)
                target.assigned.add(name)
            scope.declared[name] = target

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
        return scope.declared.get(name, scope)


def _as_name(alias: cst.ImportAlias) -> str:
    assert alias.asname is not None
    return get_full_name_for_node(alias.asname.name) or ""


def _depth(scope: Scope) -> int:
    depth = 0
    while scope.parent is not None:
        scope, depth = scope.parent, depth + 1
    return depth


def _captures(pattern: cst.MatchPattern) -> list[str]:
    """The names a ``case`` pattern binds."""
    names: list[str] = []
    pending: list[cst.CSTNode] = [pattern]
    while pending:
        node = pending.pop()
        if isinstance(node, (cst.MatchAs, cst.MatchStar)) and node.name is not None:
            names.append(node.name.value)
        if isinstance(node, cst.MatchAs) and node.pattern is not None:
            pending.append(node.pattern)
        elif isinstance(node, cst.MatchMapping):
            if node.rest is not None:
                names.append(node.rest.value)
            pending.extend(element.pattern for element in node.elements)
        elif isinstance(node, cst.MatchClass):
            pending.extend(element.value for element in node.patterns)
            pending.extend(element.pattern for element in node.kwds)
        elif isinstance(node, (cst.MatchList, cst.MatchTuple)):
            pending.extend(element if isinstance(element, cst.MatchStar) else element.value
                           for element in node.patterns)
        elif isinstance(node, cst.MatchOr):
            pending.extend(element.pattern for element in node.patterns)
    return names


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
