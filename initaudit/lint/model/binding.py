"""How Python binds a call's arguments to a function's parameters, and an expression of the
function read with its parameters replaced by what one call binds to them.

What a starred argument of the call (``f(*xs)``, ``f(**kw)``) may bind is unknown: the parameters
it may fill stay unbound, so that the rules needing their values stay quiet. Without one, a
function's ``*args`` holds the positional arguments past its named parameters and ``**kwargs``
the keywords none of them takes, as written (``packed``).
"""

from __future__ import annotations

import dataclasses
from typing import Sequence

import libcst as cst
from libcst.helpers import get_full_name_for_node

from initaudit import knowledge
from initaudit.lint.model.modules import (
    QualifiedNames,
    loop_names,
    small_statements,
    target_names,
    torch_nn_class,
)

#: Bound expressions by parameter name.
Bound = dict[str, cst.BaseExpression]
#: Expressions made by binding, by id: (the new expression, the written one it stands for).
StandIns = dict[int, tuple[cst.CSTNode, cst.CSTNode]]


def bind(function: cst.FunctionDef, call: cst.Call, *, skip_self: bool, defaults: bool = True,
         packed: bool = False) -> Bound:
    """The argument each parameter of ``function`` receives from ``call`` (by position, by
    keyword, or its default when ``defaults``). Positions after a ``*`` argument, and defaults
    a ``**`` argument may override, are left unbound. With ``packed``, ``*args`` and ``**kwargs``
    are bound too, to a tuple and a dict of what the call gives them (new expressions)."""
    params = function.params
    positional = [p.name.value for p in (*params.posonly_params, *params.params)]
    if skip_self and positional and positional[0] in ("self", "cls"):
        positional = positional[1:]
    keywords = set(positional[len(params.posonly_params):]) | {p.name.value for p in params.kwonly_params}
    bound: Bound = {}
    for name, arg in zip(positional, leading_positional(call.args), strict=False):
        bound[name] = arg.value
    for arg in call.args:
        if arg.keyword is not None and arg.keyword.value in keywords:
            bound[arg.keyword.value] = arg.value
    if defaults and not any(arg.star for arg in call.args):
        for param in (*params.posonly_params, *params.params, *params.kwonly_params):
            if param.default is not None and param.name.value not in bound and param.name.value in (
                    *positional, *keywords):
                bound[param.name.value] = param.default
    if packed:
        bound.update(_packed(params, call, positional, keywords))
    return bound


def _packed(params: cst.Parameters, call: cst.Call, positional: list[str], keywords: set[str]) -> Bound:
    """``*args`` as the tuple of the positional arguments past the named ones, ``**kwargs`` as
    the dict of the keywords no named parameter takes; neither when a starred argument of the
    call may add to it."""
    packed: Bound = {}
    star = params.star_arg
    if isinstance(star, cst.Param) and not any(arg.star == "*" for arg in call.args):
        extra = [arg for arg in call.args if arg.keyword is None and not arg.star][len(positional):]
        packed[star.name.value] = cst.Tuple([cst.Element(arg.value) for arg in extra])
    if params.star_kwarg is not None and not any(arg.star == "**" for arg in call.args):
        named = [arg for arg in call.args if arg.keyword is not None and arg.keyword.value not in keywords]
        packed[params.star_kwarg.name.value] = cst.Dict(
            [cst.DictElement(cst.SimpleString(repr(arg.keyword.value)), arg.value) for arg in named])
    return packed


def leading_positional(args: Sequence[cst.Arg]) -> list[cst.Arg]:
    """The positional arguments before the first starred one (whose length is unknown)."""
    leading = []
    for arg in args:
        if arg.star:
            break
        if arg.keyword is None:
            leading.append(arg)
    return leading


def substitute(node: cst.BaseExpression, bound: Bound, stand_ins: StandIns) -> cst.BaseExpression:
    """``node`` with the names of ``bound`` replaced by their expressions; the parts that do not
    change stay the very nodes written (their names resolve as before). A new expression is noted
    in ``stand_ins`` with the written one, whose position and text it takes."""
    if not bound:
        return node
    result = _substituted(node, bound, stand_ins)
    assert isinstance(result, cst.BaseExpression)
    return result


#: Fields that hold names which are not variables read: ``x.attr``, ``f(keyword=...)``.
_NOT_READ = {(cst.Attribute, "attr"), (cst.Arg, "keyword")}
#: Comprehensions: their loop variables are names of their own, the other names they read are
#: the enclosing function's (``[copy.deepcopy(block) for _ in range(n)]`` reads ``block``).
_COMPREHENSIONS = (cst.ListComp, cst.SetComp, cst.DictComp, cst.GeneratorExp)


def _substituted(node: cst.CSTNode, bound: Bound, stand_ins: StandIns) -> cst.CSTNode:
    if isinstance(node, cst.Name):
        return bound.get(node.value, node)
    if isinstance(node, cst.Lambda):
        return node
    if isinstance(node, _COMPREHENSIONS):
        own = loop_names(node)
        bound = {name: value for name, value in bound.items() if name not in own}
        if not bound:
            return node
    changes: dict[str, object] = {}
    for field in dataclasses.fields(node):
        if (type(node), field.name) in _NOT_READ:
            continue
        value = getattr(node, field.name)
        if isinstance(value, cst.CSTNode):
            new = _substituted(value, bound, stand_ins)
            if new is not value:
                changes[field.name] = new
        elif isinstance(value, (tuple, list)) and value and isinstance(value[0], cst.CSTNode):
            items = [_substituted(item, bound, stand_ins) for item in value]
            if any(new is not old for new, old in zip(items, value, strict=True)):
                changes[field.name] = type(value)(items)
    if not changes:
        return node
    replaced = node.with_changes(**changes)
    stand_ins[id(replaced)] = (replaced, stand_ins.get(id(node), (node, node))[1])
    return replaced


def unpacked(call: cst.Call, params: Sequence[tuple[int, str, str]]) -> Bound:
    """The arguments of ``call`` by name, for ``params`` given as (position, keyword, name).
    A parameter that a ``*`` or ``**`` argument may fill gets that argument's expression, which
    no rule reads as a number or a name: none judges the parameter's default instead."""
    star = next((arg for arg in call.args if arg.star), None)
    leading = leading_positional(call.args)
    bound: Bound = {}
    for position, keyword, name in params:
        value = next((arg.value for arg in call.args if arg.keyword is not None and arg.keyword.value == keyword), None)
        if value is None and position < len(leading):
            value = leading[position].value
        if value is None and star is not None:
            value = star.value
        if value is not None:
            bound[name] = value
    return bound


def returned_values(function: cst.FunctionDef, call: cst.Call, *, skip_self: bool,
                    stand_ins: StandIns) -> list[cst.BaseExpression] | None:
    """The items of the tuple ``function`` returns (``return (-lim, lim)``), read for ``call``:
    its parameters bound to the call's arguments, its variables assigned once replaced by their
    values. None unless it has one ``return`` of a tuple or list of plain items."""
    returns = [small for small in small_statements(function) if isinstance(small, cst.Return)]
    if len(returns) != 1 or not isinstance(returns[0].value, (cst.Tuple, cst.List)):
        return None
    items = returns[0].value.elements
    if any(isinstance(item, cst.StarredElement) for item in items):
        return None
    values = bind(function, call, skip_self=skip_self)
    assigned: dict[str, list[cst.Assign]] = {}
    for small in small_statements(function):
        if isinstance(small, cst.Assign) and len(small.targets) == 1 and isinstance(small.targets[0].target, cst.Name):
            assigned.setdefault(small.targets[0].target.value, []).append(small)
    for name, assignments in assigned.items():
        if len(assignments) == 1:
            values[name] = substitute(assignments[0].value, values, stand_ins)
        else:
            values.pop(name, None)  # assigned on several paths: which value is returned is unknown
    return [substitute(item.value, values, stand_ins) for item in items]


def ruled_out(conditions: Sequence[tuple[cst.If, bool, int]], bound: Bound,
              shadowed: frozenset[str] = frozenset()) -> bool:
    """Whether a test around a statement (``if init_type == "kaiming":``, in the body or the
    ``else``) decides, with the values one call binds, that the statement does not run. Names in
    ``shadowed`` are bound by an inner function and read nothing of the call's."""
    return any(decided(condition.test, bound, shadowed) is (not positive) for condition, positive, _ in conditions)


def unsettled(conditions: Sequence[tuple[cst.If, bool, int]], bound: Bound,
              shadowed: frozenset[str] = frozenset(), changed: frozenset[str] = frozenset()) -> bool:
    """Whether a test around a statement reads a value the call binds without being decided by
    it (``if init_type == "kaiming":`` with ``init_type`` the caller's own parameter, or a
    parameter the function binds again, ``changed``): the branch follows a choice made
    elsewhere. Names in ``shadowed`` are another function's own."""
    return any(_unsettled(condition.test, bound, shadowed, changed) for condition, _, _ in conditions)


def _unsettled(test: cst.BaseExpression, bound: Bound, shadowed: frozenset[str], changed: frozenset[str]) -> bool:
    if isinstance(test, cst.BooleanOperation) and isinstance(test.operator, cst.And):
        return _unsettled(test.left, bound, shadowed, changed) or _unsettled(test.right, bound, shadowed, changed)
    return bool(read_names(test) & (bound.keys() - shadowed)) and decided(test, bound, shadowed | changed) is None


def rebound(body: cst.CSTNode) -> frozenset[str]:
    """The names a body binds (``init_type = init_type.lower()``, ``x = x + block(x)``), not
    those of the functions it defines: in a function's body, a test reading one of them after
    that reads no longer what the call passed; in a loop's, the name carries a value from one
    iteration to the next."""
    found = _Rebound()
    body.visit(found)
    return frozenset(found.names)


class _Rebound(cst.CSTVisitor):
    def __init__(self) -> None:
        self.names: set[str] = set()

    def _target(self, node: cst.BaseExpression) -> None:
        self.names |= target_names([node])

    def visit_AssignTarget(self, node: cst.AssignTarget) -> None:
        self._target(node.target)

    def visit_AugAssign(self, node: cst.AugAssign) -> None:
        self._target(node.target)

    def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
        if node.value is not None:
            self._target(node.target)

    def visit_For(self, node: cst.For) -> None:
        self._target(node.target)

    def visit_NamedExpr(self, node: cst.NamedExpr) -> None:
        self._target(node.target)

    def visit_AsName(self, node: cst.AsName) -> None:
        if isinstance(node.name, (cst.Name, cst.Tuple, cst.List)):
            self._target(node.name)

    def visit_FunctionDef(self, node: cst.FunctionDef) -> bool:
        self.names.add(node.name.value)
        return False  # its own scope

    def visit_ClassDef(self, node: cst.ClassDef) -> bool:
        self.names.add(node.name.value)
        return False

    def visit_Lambda(self, node: cst.Lambda) -> bool:
        return False


def read_names(node: cst.CSTNode) -> set[str]:
    """The variable names an expression reads (not attribute names nor keywords)."""
    reader = _Names()
    node.visit(reader)
    return reader.found


class _Names(cst.CSTVisitor):
    def __init__(self) -> None:
        self.found: set[str] = set()

    def visit_Name(self, node: cst.Name) -> None:
        self.found.add(node.value)

    def visit_Attribute(self, node: cst.Attribute) -> bool:
        node.value.visit(self)
        return False

    def visit_Arg(self, node: cst.Arg) -> bool:
        node.value.visit(self)
        return False


def decided(test: cst.BaseExpression, bound: Bound, shadowed: frozenset[str] = frozenset()) -> bool | None:
    """The value of a test over bound string, number and ``True``/``False``/``None`` constants
    (``==``, ``!=``, ``in``, ``not in``, ``is``, ``and``, ``or``, ``not``, truth); None when it
    reads anything else."""
    if isinstance(test, cst.UnaryOperation) and isinstance(test.operator, cst.Not):
        inner = decided(test.expression, bound, shadowed)
        return None if inner is None else not inner
    if isinstance(test, cst.BooleanOperation):
        left, right = decided(test.left, bound, shadowed), decided(test.right, bound, shadowed)
        if isinstance(test.operator, cst.And):
            return False if False in (left, right) else (None if None in (left, right) else True)
        return True if True in (left, right) else (None if None in (left, right) else False)
    if isinstance(test, cst.Comparison) and len(test.comparisons) == 1:
        return _compared(test.left, test.comparisons[0], bound, shadowed)
    found = _constant(test, bound, shadowed)
    return None if found is _UNKNOWN else bool(found)


_UNKNOWN = object()


def _compared(left: cst.BaseExpression, comparison: cst.ComparisonTarget, bound: Bound,
              shadowed: frozenset[str]) -> bool | None:
    first = _constant(left, bound, shadowed)
    operator = comparison.operator
    if isinstance(operator, (cst.In, cst.NotIn)) and isinstance(comparison.comparator, (cst.Tuple, cst.List, cst.Set)):
        items = [_constant(e.value, bound, shadowed) for e in comparison.comparator.elements
                 if not isinstance(e, cst.StarredElement)]
        if first is _UNKNOWN or _UNKNOWN in items or len(items) != len(comparison.comparator.elements):
            return None
        return (first in items) == isinstance(operator, cst.In)
    second = _constant(comparison.comparator, bound, shadowed)
    if first is _UNKNOWN or second is _UNKNOWN:
        return None
    if isinstance(operator, (cst.Equal, cst.NotEqual)):
        return (first == second) == isinstance(operator, cst.Equal)
    # ``is`` is decided for the singletons None, True and False only: other equal constants may
    # be distinct objects.
    if isinstance(operator, (cst.Is, cst.IsNot)) and any(v is None or isinstance(v, bool) for v in (first, second)):
        return (first is second) == isinstance(operator, cst.Is)
    return None


def _constant(node: cst.BaseExpression, bound: Bound, shadowed: frozenset[str]) -> object:
    """The constant an expression is, read through the bound names (one step), or ``_UNKNOWN``.
    An attribute is bound by its dotted name (``m.flag``: what the object ``m`` holds there)."""
    if isinstance(node, cst.Name) and node.value not in shadowed and node.value in bound:
        node = bound[node.value]
    elif isinstance(node, cst.Attribute) and (dotted := get_full_name_for_node(node)) in bound \
            and dotted.partition(".")[0] not in shadowed:
        node = bound[dotted]
    if isinstance(node, cst.SimpleString):
        return node.evaluated_value
    if isinstance(node, (cst.Integer, cst.Float)):
        return node.evaluated_value
    if isinstance(node, cst.Name) and node.value in ("True", "False", "None"):
        return {"True": True, "False": False, "None": None}[node.value]
    return _UNKNOWN


def appended_sequential(function: cst.FunctionDef, call: cst.Call, names: QualifiedNames,
                        stand_ins: StandIns) -> cst.Call | None:
    """The ``nn.Sequential`` a method returns (``return nn.Sequential(*layers)``) written out with
    the modules it appends to that list (``layers = []``, ``layers.append(block(...))``, in a
    loop too), read for ``call``: its parameters bound to the call's arguments. None unless the
    list is made empty once and only grown by ``append``."""
    returns = [small for small in small_statements(function) if isinstance(small, cst.Return)]
    made = returns[0].value if len(returns) == 1 else None
    if not isinstance(made, cst.Call) or torch_nn_class(names(made.func)) != knowledge.SEQUENTIAL \
            or len(made.args) != 1 or made.args[0].star != "*" or not isinstance(made.args[0].value, cst.Name):
        return None
    listed = made.args[0].value.value
    items: list[cst.BaseExpression] = []
    for small in small_statements(function):
        if isinstance(small, (cst.Assign, cst.AugAssign, cst.AnnAssign)) and listed in target_names(
                [t.target for t in small.targets] if isinstance(small, cst.Assign) else [small.target]):
            if not (isinstance(small, cst.Assign) and isinstance(small.value, cst.List) and not small.value.elements):
                return None
        elif isinstance(small, cst.Expr) and isinstance(small.value, cst.Call) \
                and isinstance(small.value.func, cst.Attribute) and isinstance(small.value.func.value, cst.Name) \
                and small.value.func.value.value == listed:
            if small.value.func.attr.value != "append" or len(small.value.args) != 1:
                return None
            items.append(small.value.args[0].value)
    if not items:
        return None
    values = bind(function, call, skip_self=True)
    written = made.with_changes(args=[cst.Arg(substitute(item, values, stand_ins)) for item in items])
    stand_ins[id(written)] = (written, call)  # placed where the method is called
    return written


def returned_construction(function: cst.FunctionDef, call: cst.Call, names: QualifiedNames,
                            stand_ins: StandIns) -> cst.BaseExpression | None:
    """The ``torch.nn`` module a method builds in its one statement, ``return
    nn.Sequential(nn.Conv2d(self.width, c, 3))`` (a docstring aside), read for ``call``: its
    parameters bound to the call's arguments. None for a body of another shape: a name it binds
    first may hold anything."""
    body = [statement for statement in function.body.body if not _docstring(statement)] \
        if isinstance(function.body, cst.IndentedBlock) else []
    line = body[0] if len(body) == 1 else None
    made = line.body[0].value if isinstance(line, cst.SimpleStatementLine) and len(line.body) == 1 \
        and isinstance(line.body[0], cst.Return) else None
    if not isinstance(made, cst.Call) or torch_nn_class(names(made.func)) is None:
        return None
    return substitute(made, bind(function, call, skip_self=True), stand_ins)


def _docstring(statement: cst.BaseStatement) -> bool:
    return isinstance(statement, cst.SimpleStatementLine) and len(statement.body) == 1 \
        and isinstance(statement.body[0], cst.Expr) and isinstance(statement.body[0].value, cst.SimpleString)
