"""Functions that build and return a module, summarised once per file.

``def mlp(sizes, activation=nn.Tanh, output_activation=nn.Identity)`` that fills a list in a loop
and returns ``nn.Sequential(*layers)``, or VGG's ``make_layers(cfg, batch_norm=False)``, become a
:class:`BuilderSummary`: the modules appended before the loop, in one iteration (some only in
the last one: the output layer without its activation) and after it. A class passed in as an
argument stays a parameter of the summary and is resolved at each call
(``self.net = mlp(sizes, nn.ReLU)``), as do ``if batch_norm:`` tests. Summaries hold class names,
parameter names and literals, so they can be handed from one file to another.
"""

from __future__ import annotations

import ast
import dataclasses
from dataclasses import dataclass, field
from typing import Iterator, Mapping, Sequence

import libcst as cst

from initaudit import knowledge
from initaudit.knowledge import LayerKind
from initaudit.lint.model.modules import (
    QualifiedNames,
    Submodule,
    SubmoduleBuilder,
    literal_number,
    module_definitions,
    torch_nn_class,
)


@dataclass(frozen=True)
class BuiltStep:
    """One module a builder appends: a torch.nn class, the class a parameter holds, or unknown."""

    class_name: str | None = None  # "Linear", "ReLU"; None for a parameter or something unknown
    parameter: str | None = None  # the builder parameter holding the class (``activation``)
    #: The constructor call written in the builder (its arguments: slope, sizes), if any.
    node: cst.Call | None = field(default=None, compare=False, repr=False)
    #: Appended only in the last iteration (True), only in the others (False), or in every one.
    last: bool | None = None
    #: Appended only when these parameters are truthy (True) or falsy (False): ``if batch_norm:``.
    requires: tuple[tuple[str, bool], ...] = ()
    #: The parameter holds the module itself (``layers.append(activation)``), not its class.
    instance: bool = False

    @property
    def known(self) -> bool:
        return self.class_name is not None or self.parameter is not None


@dataclass(frozen=True)
class BuilderSummary:
    name: str
    parameters: tuple[str, ...]  # positional ones first, in order
    positional: int  # how many of them a positional argument may fill
    #: Parameter defaults that are torch.nn classes (their name) or literals (their source).
    defaults: Mapping[str, str]
    prefix: tuple[BuiltStep, ...]
    body: tuple[BuiltStep, ...]  # one loop iteration; empty without a loop
    suffix: tuple[BuiltStep, ...]
    #: False when the iteration holds the branches of a test on the iterated value one after the
    #: other (VGG's pool or conv): the modules' positions in the Sequential are then not known.
    ordered: bool = True

    def iteration(self, last: bool) -> tuple[BuiltStep, ...]:
        return tuple(s for s in self.body if s.last is None or s.last == last)

    def expand(self, builder: SubmoduleBuilder, path: str, call: cst.Call,
               defaults: Mapping[str, cst.BaseExpression]) -> Submodule:
        return expand(builder, self, path, call, defaults)


class _Unknown(Exception):
    """The function does something a summary cannot describe: it is not summarised."""


def summarise_builders(module: cst.Module, names: QualifiedNames) -> dict[str, BuilderSummary]:
    """Module-level functions returning ``nn.Sequential(*<local list>)`` (or a Sequential of
    their own making) with at least one weight layer, and the subclasses of ``nn.Sequential``
    whose ``__init__`` only registers their modules (``_SequentialInit``), by name."""
    found = {}
    for statement in module_definitions(module):
        try:
            if isinstance(statement, cst.FunctionDef) and isinstance(statement.body, cst.IndentedBlock):
                summary = _Reader(statement, names).summary()
            elif isinstance(statement, cst.ClassDef) and (init := _sequential_init(statement, names)) is not None:
                summary = _SequentialInit(init, names, statement.name.value).summary()
            else:
                continue
        except _Unknown:
            continue
        if summary is not None:
            found[summary.name] = summary
    return found


def _sequential_init(statement: cst.ClassDef, names: QualifiedNames) -> cst.FunctionDef | None:
    """The ``__init__`` of a class deriving from ``nn.Sequential`` alone that keeps Sequential's
    ``forward`` (its modules run in the order registered)."""
    if len(statement.bases) != 1 or torch_nn_class(names(statement.bases[0].value)) != knowledge.SEQUENTIAL \
            or not isinstance(statement.body, cst.IndentedBlock):
        return None
    methods = {m.name.value: m for m in statement.body.body if isinstance(m, cst.FunctionDef)}
    init = methods.get("__init__")
    if "forward" in methods or init is None or not isinstance(init.body, cst.IndentedBlock):
        return None
    return init


class _Reader:
    """Reads a builder's statements in order: the list it fills, local aliases, one loop, and
    ``if`` tests it can attribute to a parameter or to the loop."""

    def __init__(self, function: cst.FunctionDef, names: QualifiedNames) -> None:
        self._function = function
        self._names = names
        params = function.params
        if isinstance(params.star_arg, cst.Param) or params.posonly_params:
            raise _Unknown
        self._parameters = tuple(p.name.value for p in (*params.params, *params.kwonly_params))
        self._positional = len(params.params)
        self._defaults = {p.name.value: p.default for p in (*params.params, *params.kwonly_params)
                          if p.default is not None}
        self._list: str | None = None
        self._aliases: dict[str, cst.BaseExpression | None] = {}
        self._segments: list[list[BuiltStep]] = [[]]
        self._loop: cst.For | None = None
        self._returned = False
        #: The tests open at the statement being read.
        self._last: bool | None = None
        self._requires: tuple[tuple[str, bool], ...] = ()
        self._ordered = True

    def summary(self) -> BuilderSummary | None:
        assert isinstance(self._function.body, cst.IndentedBlock)
        for statement in self._function.body.body:
            if self._returned:
                raise _Unknown
            self._statement(statement, in_loop=False)
        return self._summarised(self._function.name.value) if self._returned else None

    def _summarised(self, name: str) -> BuilderSummary | None:
        """The modules read, as the builder ``name``; None when none is a weight layer."""
        prefix, body, suffix = (self._segments + [[], []])[:3]
        if not any(_kind(s) in knowledge.WEIGHT_MATRIX_KINDS for s in (*prefix, *body, *suffix)):
            return None
        defaults = {parameter: text for parameter, value in self._defaults.items()
                    if (text := self._default_text(value)) is not None}
        return BuilderSummary(name, self._parameters, self._positional, defaults,
                              tuple(prefix), tuple(body), tuple(suffix), self._ordered)

    # ---------------------------------------------------------------- statements

    def _statement(self, statement: cst.BaseStatement, in_loop: bool) -> None:
        if isinstance(statement, cst.SimpleStatementLine):
            for small in statement.body:
                self._small(small, in_loop)
        elif isinstance(statement, cst.For) and not in_loop and self._loop is None \
                and statement.orelse is None:
            self._loop = statement
            self._segments.append([])
            for inner in _block(statement.body):
                self._statement(inner, in_loop=True)
            self._segments.append([])
        elif isinstance(statement, cst.If) and not isinstance(statement.orelse, cst.If):
            self._if(statement, in_loop)
        else:
            raise _Unknown

    def _if(self, statement: cst.If, in_loop: bool) -> None:
        """``if batch_norm:`` (a parameter, decided at each call), ``if j < len(sizes) - 2:``
        (every iteration but the last; the else branch in the last) or, in the loop, a test on
        the iterated value (VGG's ``if v == "M"``), which picks one branch per iteration: followed
        when each branch closes every layer it makes, so that their order does not matter."""
        orelse = statement.orelse.body if isinstance(statement.orelse, cst.Else) else None
        parameter = self._parameter_test(statement.test)
        branch = self._last_iteration_test(statement.test) if in_loop else None
        if parameter is not None:
            self._branches(statement.body, orelse, in_loop, requires=parameter)
        elif branch is not None and self._last is None:
            self._branches(statement.body, orelse, in_loop, last=branch)
        elif in_loop:
            self._ordered = False
            segment = self._segments[-1]
            before = len(segment)
            for block in (statement.body, orelse):
                start = len(segment)
                for inner in _block(block):
                    self._statement(inner, in_loop)
                if not _closed(segment[start:]):
                    del segment[before:]
                    segment.append(self._open(BuiltStep()))
                    return
        else:
            raise _Unknown

    def _branches(self, body: cst.BaseSuite, orelse: cst.BaseSuite | None, in_loop: bool, *,
                  requires: tuple[str, bool] | None = None, last: bool | None = None) -> None:
        saved = self._last, self._requires
        for block, holds in ((body, True), (orelse, False)):
            if requires is not None:
                self._requires = (*saved[1], (requires[0], requires[1] == holds))
            if last is not None:
                self._last = last if holds else not last
            for inner in _block(block):
                self._statement(inner, in_loop)
        self._last, self._requires = saved

    def _parameter_test(self, test: cst.BaseExpression) -> tuple[str, bool] | None:
        """``if batch_norm:`` -> ("batch_norm", True); ``if not bn:`` -> ("bn", False);
        ``if act is not None:`` -> ("act", True), as a module given is never falsy."""
        if isinstance(test, cst.Name) and test.value in self._parameters:
            return test.value, True
        if isinstance(test, cst.Comparison) and len(test.comparisons) == 1 \
                and isinstance(test.left, cst.Name) and test.left.value in self._parameters \
                and isinstance(test.comparisons[0].operator, (cst.Is, cst.IsNot)) \
                and _is_name(test.comparisons[0].comparator, "None"):
            return test.left.value, isinstance(test.comparisons[0].operator, cst.IsNot)
        if isinstance(test, cst.UnaryOperation) and isinstance(test.operator, cst.Not):
            inner = self._parameter_test(test.expression)
            return (inner[0], not inner[1]) if inner is not None else None
        return None

    def _small(self, small: cst.BaseSmallStatement, in_loop: bool) -> None:
        if isinstance(small, cst.Return):
            self._return(small)
        elif (target := _assigned_name(small)) is not None:
            name, value = target
            if isinstance(value, cst.List) and self._list is None and not in_loop:
                self._list = name
                self._extend(value.elements)
            elif name == self._list:
                raise _Unknown
            else:  # assigned twice (in two branches, say): which value an append sees is unknown
                self._aliases[name] = None if name in self._aliases else value
        elif isinstance(small, cst.AugAssign) and _is_name(small.target, self._list):
            if not isinstance(small.value, (cst.List, cst.Tuple)):
                raise _Unknown
            self._extend(small.value.elements)
        elif isinstance(small, cst.Expr) and isinstance(small.value, cst.Call):
            self._call(small.value)

    def _call(self, call: cst.Call) -> None:
        func = call.func
        if not (isinstance(func, cst.Attribute) and _is_name(func.value, self._list)):
            return
        if func.attr.value == "append" and len(call.args) == 1:
            self._segments[-1].extend(self._step(call.args[0].value))
        elif func.attr.value == "extend" and len(call.args) == 1 \
                and isinstance(call.args[0].value, (cst.List, cst.Tuple)):
            self._extend(call.args[0].value.elements)
        else:
            raise _Unknown

    def _extend(self, elements: Sequence[cst.BaseElement]) -> None:
        for element in elements:
            if isinstance(element, cst.StarredElement):
                raise _Unknown
            self._segments[-1].extend(self._step(element.value))

    def _return(self, node: cst.Return) -> None:
        """``return nn.Sequential(*layers)``, or ``nn.Sequential(a, b)`` built in place."""
        value = node.value
        if not (isinstance(value, cst.Call) and torch_nn_class(self._names(value.func)) == knowledge.SEQUENTIAL):
            raise _Unknown
        if len(value.args) == 1 and value.args[0].star == "*" and _is_name(value.args[0].value, self._list):
            self._returned = True
        elif self._list is None and self._loop is None and value.args \
                and not any(arg.star or arg.keyword for arg in value.args):
            self._extend([cst.Element(arg.value) for arg in value.args])
            self._returned = True
        else:
            raise _Unknown

    # ---------------------------------------------------------------- expressions

    def _step(self, node: cst.BaseExpression) -> tuple[BuiltStep, ...]:
        """What ``layers.append(node)`` adds, under the open tests; an alias chosen by the
        last-iteration test (``act = activation if j < len(sizes) - 2 else output_activation``)
        adds one step for the other iterations and one for the last."""
        if isinstance(node, cst.Name) and self._aliases.get(node.value) is not None:
            return self._step(self._aliases[node.value])  # type: ignore[arg-type]
        if isinstance(node, cst.Name) and node.value in self._parameters and node.value not in self._aliases:
            return (self._open(BuiltStep(parameter=node.value, instance=True)),)
        func = node.func if isinstance(node, cst.Call) else None
        if isinstance(func, cst.Name) and func.value in self._aliases:
            func = self._aliases[func.value]
        if not isinstance(node, cst.Call) or func is None:
            return (self._open(BuiltStep()),)
        if isinstance(func, cst.IfExp) and self._last is None:
            branch = self._last_iteration_test(func.test)
            if branch is not None:
                return (self._open(self._class_step(func.body, node), last=branch),
                        self._open(self._class_step(func.orelse, node), last=not branch))
        return (self._open(self._class_step(func, node)),)

    def _open(self, step: BuiltStep, last: bool | None = None) -> BuiltStep:
        """The step under the tests open where it is appended."""
        return dataclasses.replace(step, last=self._last if last is None else last, requires=self._requires)

    def _class_step(self, func: cst.BaseExpression, call: cst.Call) -> BuiltStep:
        if isinstance(func, cst.Name) and func.value in self._parameters:
            return BuiltStep(parameter=func.value)
        class_name = torch_nn_class(self._names(func))
        return BuiltStep(class_name, node=call if call.func is func else None)

    def _last_iteration_test(self, test: cst.BaseExpression) -> bool | None:
        """True when ``test`` holds in the last iteration only (``j == n - 1``, ``j >= n - 1``),
        False when in every other one (``j < n - 1``, ``j != n - 1``); None otherwise. The loop is
        ``for j in range(n)``."""
        loop = self._loop
        if loop is None or not isinstance(loop.target, cst.Name) or not isinstance(loop.iter, cst.Call) \
                or not _is_name(loop.iter.func, "range") or len(loop.iter.args) != 1:
            return None
        if not (isinstance(test, cst.Comparison) and len(test.comparisons) == 1
                and _is_name(test.left, loop.target.value)):
            return None
        count = _offset(loop.iter.args[0].value)
        bound = _offset(test.comparisons[0].comparator)
        if count[0] != bound[0] or bound[1] != count[1] - 1:
            return None
        operator = test.comparisons[0].operator
        if isinstance(operator, (cst.LessThan, cst.NotEqual)):
            return False
        if isinstance(operator, (cst.Equal, cst.GreaterThanEqual)):
            return True
        return None

    def _default_text(self, value: cst.BaseExpression) -> str | None:
        if isinstance(value, (cst.SimpleString, cst.Integer, cst.Float)) or (
                isinstance(value, cst.Name) and value.value in ("True", "False", "None")):
            return _source(value)
        if isinstance(value, cst.Call):  # a module made once as the default (``act=nn.Tanh()``)
            return torch_nn_class(self._names(value.func))
        return torch_nn_class(self._names(value))


class _SequentialInit(_Reader):
    """A Sequential subclass's ``__init__`` read as a builder of the class's name: the modules
    handed to ``super().__init__(...)`` (or ``nn.Sequential.__init__(self, ...)``, a list's items
    starred) and those ``self.add_module(name, m)`` and ``self.append(m)`` register, in order.
    One that uses ``self`` otherwise (an attribute, a loop over its modules) or initialises
    anything is a class of its own, left unread."""

    def __init__(self, function: cst.FunctionDef, names: QualifiedNames, name: str) -> None:
        super().__init__(function, names)
        if not self._parameters:
            raise _Unknown
        self._self = self._parameters[0]
        self._parameters, self._positional = self._parameters[1:], self._positional - 1
        self._name = name
        self._registered = False
        if not self._registers_only(function.body):
            raise _Unknown

    def _registers_only(self, body: cst.BaseSuite) -> bool:
        """Whether ``self`` is only the receiver of ``add_module``/``append``, handed to the base's
        ``__init__`` or given plain values, and nothing is initialised in place or through
        ``torch.nn.init``."""
        allowed: set[int] = set()
        # A node comes before the nodes it holds: each use of ``self`` is allowed before it is met.
        for node in _nodes(body):
            if isinstance(node, cst.Call) and isinstance(func := node.func, cst.Attribute):
                if func.attr.value in knowledge.INPLACE_INIT_METHODS:
                    return False
                if func.attr.value in _REGISTERING and _is_name(func.value, self._self):
                    allowed.add(id(func.value))
                elif func.attr.value == "__init__" and self._calls_super(func.value):
                    inner = func.value.args if isinstance(func.value, cst.Call) else ()
                    allowed.update(id(arg.value) for arg in (*inner, *node.args) if _is_name(arg.value, self._self))
            if isinstance(node, cst.Call) and any(n.startswith(knowledge.INIT_PREFIX) for n in self._names(node.func)):
                return False
            if isinstance(node, cst.Assign) and not any(isinstance(n, cst.Call) for n in _nodes(node.value)):
                # ``self.out_channels = out_channels``: a value, not a module
                allowed.update(id(t.target.value) for t in node.targets
                               if isinstance(t.target, cst.Attribute) and _is_name(t.target.value, self._self))
            if _is_name(node, self._self) and id(node) not in allowed:
                return False
        return True

    def summary(self) -> BuilderSummary | None:
        assert isinstance(self._function.body, cst.IndentedBlock)
        for statement in self._function.body.body:
            self._statement(statement, in_loop=False)
        return self._summarised(self._name) if self._registered else None

    def _call(self, call: cst.Call) -> None:
        func = call.func
        if isinstance(func, cst.Attribute) and func.attr.value == "__init__" and self._calls_super(func.value):
            self._super_init([arg for arg in call.args if not _is_name(arg.value, self._self)])
        elif isinstance(func, cst.Attribute) and _is_name(func.value, self._self):
            item = call.args[-1].value if call.args and len(call.args) == _REGISTERING[func.attr.value] else None
            if item is None:
                raise _Unknown
            self._segments[-1].extend(self._step(item))
            self._registered = True
        else:
            super()._call(call)

    def _calls_super(self, node: cst.BaseExpression) -> bool:
        return (isinstance(node, cst.Call) and _is_name(node.func, "super")) \
            or torch_nn_class(self._names(node)) == knowledge.SEQUENTIAL

    def _super_init(self, args: list[cst.Arg]) -> None:
        if len(args) == 1 and args[0].star == "*" and _is_name(args[0].value, self._list):
            pass  # the list's items, read as they were added
        elif any(arg.star or arg.keyword for arg in args) or (self._list is not None and args):
            raise _Unknown
        else:
            self._extend([cst.Element(arg.value) for arg in args])
        self._registered = True


#: The methods of a Sequential that register a module, and how many arguments each takes (the
#: module last).
_REGISTERING: dict[str, int] = {"add_module": 2, "append": 1}


def _nodes(node: cst.CSTNode) -> Iterator[cst.CSTNode]:
    yield node
    for child in node.children:
        yield from _nodes(child)


def _assigned_name(small: cst.BaseSmallStatement) -> tuple[str, cst.BaseExpression] | None:
    """``name = value`` or ``name: List[nn.Module] = value``."""
    if isinstance(small, cst.Assign) and len(small.targets) == 1 and isinstance(small.targets[0].target, cst.Name):
        return small.targets[0].target.value, small.value
    if isinstance(small, cst.AnnAssign) and isinstance(small.target, cst.Name) and small.value is not None:
        return small.target.value, small.value
    return None


def _kind(step: BuiltStep) -> LayerKind | None:
    return knowledge.layer_kind(step.class_name) if step.class_name else None


def _closed(steps: Sequence[BuiltStep]) -> bool:
    """Every step is known and every weight layer among them is followed by a module that is
    not a pass-through: what comes after the branch cannot become its consumer."""
    pending = False
    for step in steps:
        if not step.known:
            return False
        kind = _kind(step)
        if kind in knowledge.WEIGHT_MATRIX_KINDS:
            pending = True
        elif kind is not LayerKind.PASSTHROUGH:
            pending = False
    return not pending


def _offset(node: cst.BaseExpression) -> tuple[str, float]:
    """``len(s) - 2`` -> ("len(s)", -2); ``n`` -> ("n", 0)."""
    if isinstance(node, cst.BinaryOperation) and isinstance(node.operator, (cst.Add, cst.Subtract)):
        constant = literal_number(node.right)
        if constant is not None:
            base, offset = _offset(node.left)
            return base, offset + (constant if isinstance(node.operator, cst.Add) else -constant)
    return _source(node), 0.0


def _source(node: cst.CSTNode) -> str:
    return cst.Module([]).code_for_node(node)


def _block(body: cst.BaseSuite | None) -> Iterator[cst.BaseStatement]:
    if isinstance(body, cst.IndentedBlock):
        yield from body.body
    elif isinstance(body, cst.SimpleStatementSuite):
        yield cst.SimpleStatementLine(body.body)


def _is_name(node: cst.BaseExpression, value: str | None) -> bool:
    return value is not None and isinstance(node, cst.Name) and node.value == value


def bind_call(summary: BuilderSummary, call: cst.Call) -> dict[str, cst.BaseExpression] | None:
    """The call's arguments by parameter name; None when they cannot be bound (``*args``)."""
    positional = [arg for arg in call.args if arg.keyword is None]
    if any(arg.star for arg in call.args) or len(positional) > summary.positional:
        return None
    bound = {name: arg.value for name, arg in zip(summary.parameters, positional)}
    for arg in call.args:
        if arg.keyword is not None:
            if arg.keyword.value not in summary.parameters:
                return None
            bound[arg.keyword.value] = arg.value
    return bound


# ------------------------------------------------------------------------ at a call


def expand(builder: SubmoduleBuilder, summary: BuilderSummary, path: str, call: cst.Call,
           defaults: Mapping[str, cst.BaseExpression]) -> Submodule:
    """The Sequential a builder returns for ``call``: its modules before the loop, in the first
    iteration (named from the start), in the last one and after the loop (named from the end, a
    loop's count not being known), with the classes and tests of its parameters resolved."""
    unknown = Submodule(path, LayerKind.UNKNOWN, None, call)
    bound = bind_call(summary, call)
    if bound is None:
        return unknown
    looped = bool(summary.body)
    parts = (summary.prefix + (summary.iteration(last=False) if looped else ()),
             (summary.iteration(last=True) if looped else ()) + summary.suffix)
    built: list[list[Submodule]] = [[], []]
    for part, steps in zip(built, parts):
        for step in steps:
            made = _made(summary, step, bound, defaults)
            if made is None:
                return unknown
            if made:
                part.append(_module(builder, summary, step, bound, defaults))
    head, tail = built
    if not summary.ordered:  # named so that no index or name written in the code selects them
        names = [f"{summary.name}:{i}" for i in range(len(head) + len(tail))]
    elif looped:
        names = [str(i) for i in range(len(head))] + [str(i - len(tail)) for i in range(len(tail))]
    else:
        names = [str(i) for i in range(len(head) + len(tail))]
    children = [_placed(m, f"{path}.{name}") for m, name in zip((*head, *tail), names)]
    return Submodule(path, LayerKind.CONTAINER, knowledge.SEQUENTIAL, call, sequential=True,
                     children=children, open_length=looped)


def _made(summary: BuilderSummary, step: BuiltStep, bound: Mapping[str, cst.BaseExpression],
          defaults: Mapping[str, cst.BaseExpression]) -> bool | None:
    """Whether the call makes the step (``if batch_norm:`` with ``batch_norm=True`` passed or as
    the default); None when that is not known."""
    for parameter, truthy in step.requires:
        value = bound.get(parameter)
        if isinstance(value, cst.Name) and value.value in defaults:
            value = defaults[value.value]
        if isinstance(value, cst.Call):  # an object made for the call (``nn.ReLU()``): truthy
            if not truthy:
                return False
            continue
        text = summary.defaults.get(parameter) if value is None else _source(value)
        if text is not None and knowledge.layer_kind(text.rsplit(".", 1)[-1]) is not None:
            if not truthy:  # a layer class (``norm_layer=nn.BatchNorm2d``): truthy
                return False
            continue
        try:
            if text is None or bool(ast.literal_eval(text)) != truthy:
                return None if text is None else False
        except (ValueError, SyntaxError):
            return None
    return True


def _module(builder: SubmoduleBuilder, summary: BuilderSummary, step: BuiltStep,
            bound: Mapping[str, cst.BaseExpression], defaults: Mapping[str, cst.BaseExpression]) -> Submodule:
    if step.class_name is not None:
        return builder.torch_module("", step.class_name, step.node or cst.Call(cst.Name(step.class_name)))
    if step.parameter in bound:
        argument = bound[step.parameter]  # type: ignore[index]
        made = builder.build("", argument if step.instance else cst.Call(argument), defaults)
        if made is not None:
            return made
    elif step.parameter is not None and knowledge.layer_kind(summary.defaults.get(step.parameter, "")):
        name = summary.defaults[step.parameter]
        return builder.torch_module("", name, cst.Call(cst.Name(name)))
    return Submodule("", LayerKind.UNKNOWN, None, step.node or cst.Name(step.parameter or "unknown"))


def _placed(module: Submodule, path: str) -> Submodule:
    """A module built without a place, given ``path`` (its children follow)."""
    return dataclasses.replace(module, path=path, children=[
        _placed(child, path + child.path[len(module.path):]) for child in module.children])


#: What a path that raises or ends without ``return`` gives: no module.
_NOTHING = cst.Name("None")


def chosen_return(function: cst.FunctionDef) -> cst.BaseExpression | None:
    """What a function that picks its result by ``if``/``elif`` tests returns, written as one
    conditional expression (``F.relu if name == "relu" else F.gelu if name == "gelu" else None``)
    that the caller evaluates with the arguments it binds; a path that raises or falls off the
    end gives ``None``. None for a body of another shape, or with fewer than two returns."""
    if not isinstance(function.body, cst.IndentedBlock):
        return None
    statements = list(function.body.body)
    if statements and _docstring(statements[0]):
        statements = statements[1:]
    chosen = _chain(statements)
    return chosen if isinstance(chosen, cst.IfExp) else None


def _chain(statements: Sequence[cst.BaseStatement]) -> cst.BaseExpression | None:
    """The value ``statements`` return: each one an ``if`` whose branches end the function, up to
    a last statement that returns or raises; side-effect-free expressions and calls before a
    ``return`` of a branch are passed over (they do not change what is returned)."""
    if not statements:
        return _NOTHING
    first, rest = statements[0], statements[1:]
    if isinstance(first, cst.If):
        body = _chain(list(_block(first.body)))
        if isinstance(first.orelse, cst.If):
            orelse = _chain([first.orelse, *rest])
        elif isinstance(first.orelse, cst.Else):
            orelse = _chain(list(_block(first.orelse.body))) if not rest else None
        else:
            orelse = _chain(rest)
        if body is None or orelse is None:
            return None
        return cst.IfExp(test=first.test, body=body, orelse=orelse)
    if not isinstance(first, cst.SimpleStatementLine):
        return None
    ending = first.body[-1]
    if not all(isinstance(small, cst.Expr) for small in first.body[:-1]):
        return None
    if isinstance(ending, cst.Return) and not rest:
        return ending.value or _NOTHING
    if isinstance(ending, cst.Raise) and not rest:
        return _NOTHING
    if isinstance(ending, cst.Expr) and rest:
        return _chain(rest)
    return None


def _docstring(statement: cst.BaseStatement) -> bool:
    return isinstance(statement, cst.SimpleStatementLine) and len(statement.body) == 1 \
        and isinstance(statement.body[0], cst.Expr) and isinstance(statement.body[0].value, cst.SimpleString)
