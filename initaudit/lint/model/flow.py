"""Where each layer's output goes: a small abstract interpreter over ``forward()``.

A value is the set of layers whose raw (pre-activation) output it still carries. Shape-only
operations keep it; an activation, a normalisation, another layer, a ``return`` or anything
unknown *consumes* it, and the consumer is recorded for each of those layers. Branches are
merged, loops run twice so that a block's output reaches the next block, and helper methods
called from ``forward`` are followed.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import Enum

import libcst as cst

from initaudit import knowledge
from initaudit.knowledge import LayerKind
from initaudit.lint.model.binding import bind, read_names, rebound
from initaudit.lint.model.modules import (
    QualifiedNames,
    Submodule,
    accessed_attribute,
    activation_module,
    keyword_is,
    argument,
    literal_number,
    method_factors,
    parameter_names,
    product_factors,
    target_names,
    tensor_behind,
    torch_nn_class,
)


class ConsumerKind(str, Enum):
    """What a layer's output flows into first."""

    ACTIVATION = "activation"
    NORM = "norm"
    LAYER = "layer"  # another weight layer, directly
    OUTPUT = "output"  # the model's output
    RESIDUAL = "residual"  # a sum with a skip connection
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class Consumer:
    kind: ConsumerKind
    activation: str | None = None
    slope: float | None = None
    #: The output was added to a skip connection on its way (a residual branch's last layer).
    residual: bool = False
    #: A squash's output went on into another weight layer: the layer is a hidden one, not a head.
    then_layer: bool = False


#: Lists and tuples written out: ``+`` with one of them joins sequences, it sums no tensors.
_SEQUENCE_DISPLAYS = (cst.List, cst.ListComp, cst.Tuple)

#: Layers whose output is a new signal, judged by what it flows into.
_SIGNAL_LAYERS = knowledge.WEIGHT_MATRIX_KINDS | {LayerKind.EMBEDDING}

UNKNOWN = Consumer(ConsumerKind.UNKNOWN)
NORM = Consumer(ConsumerKind.NORM)
LAYER = Consumer(ConsumerKind.LAYER)
#: Another weight layer, in a chain of them that ends in neither a norm nor the unknown.
LINEAR_CHAIN = Consumer(ConsumerKind.LAYER, "linear")
OUTPUT = Consumer(ConsumerKind.OUTPUT)
RESIDUAL = Consumer(ConsumerKind.RESIDUAL)


@dataclass(frozen=True)
class Value:
    producers: frozenset[str] = frozenset()
    #: The value went through an addition with another tensor (a skip connection).
    residual: bool = False
    #: Layers whose output reached this value through a squash (``knowledge.SQUASHES``), each with
    #: the squash's consumer: a weight layer it reaches later is recorded as following them.
    squashed: frozenset[tuple[str, Consumer]] = frozenset()
    #: Layers whose raw output reached the value through other weight layers only (a linear map
    #: of a linear map): what ends the chain decides whether their scale matters.
    behind: frozenset[str] = frozenset()
    #: What the value is, unchanged (through shape-only operations): the block's input (INPUT),
    #: what one module makes of it (SHORTCUT), or the value of a name a loop carries from one
    #: stage to the next (that name). Adding it to what was computed from it is a skip connection.
    identity: frozenset[str] = frozenset()
    #: The identities (as above) the value was computed from.
    derived: frozenset[str] = frozenset()
    #: A tuple or a dict written out (``return out, attn``, ``return {"out": out}``): the value
    #: at each position or string key, so that unpacking it (``out, attn = self.attention(x)``)
    #: or reading one item (``outputs["out"]``) gives that item's own; the fields above hold
    #: their union, for what takes the whole.
    items: tuple[tuple[int | str, Value], ...] | None = None

    def union(self, other: Value) -> Value:
        if other == EMPTY:
            return self
        if self == EMPTY:
            return other
        items = None
        if self.items is not None and other.items is not None \
                and [key for key, _ in self.items] == [key for key, _ in other.items]:
            items = tuple((key, mine.union(theirs)) for (key, mine), (_, theirs) in zip(self.items, other.items))
        return Value(self.producers | other.producers, self.residual or other.residual,
                     self.squashed | other.squashed, self.behind | other.behind,
                     self.identity | other.identity, self.derived | other.derived, items)

    def item(self, key: int | str) -> Value | None:
        """The value at ``key`` (a negative position counted from the end), None if unknown."""
        found = dict(self.items or ())
        if isinstance(key, int) and key < 0 and all(isinstance(k, int) for k in found):
            key += len(found)
        return found.get(key)

    def into(self, producers: frozenset[str]) -> Value:
        """The output of weight layers (``producers``) that take this value directly."""
        return Value(producers, behind=self.producers | self.behind)


EMPTY = Value()
#: Stands for a class's forward input while summarising it.
INPUT = "<input>"
#: The identity of what one module makes of the forward input (``self.shortcut(x)``).
SHORTCUT = "<shortcut>"


@dataclass(frozen=True)
class Summary:
    """What a block does as seen from outside: how its input is consumed, and which of its layers'
    raw outputs it returns (paths relative to the block; INPUT when the input passes through)."""

    input_consumers: frozenset[Consumer]
    output: Value
_MAX_INLINE_DEPTH = 3


@dataclass(frozen=True)
class Instance:
    """A block as one construction made it: its forward run with the literals its ``__init__``
    arguments bind to attributes (``Stack(n, last=None)`` leaving ``self.last`` None), what it
    returns and what each of its layers feeds inside it (paths relative to the block)."""

    summary: Summary
    consumers: Mapping[str, set[Consumer]]


@dataclass
class _Frame:
    values: dict[str, Value] = field(default_factory=dict)
    modules: dict[str, list[Submodule]] = field(default_factory=dict)
    returned: Value | None = None  # set when inlining a helper method
    #: A ``return`` or ``raise`` ran on every path so far: what follows does not run.
    ended: bool = False
    #: Names bound to an attribute that holds None (a method's ``norm_layer`` given ``self.norm``).
    absent: set[str] = field(default_factory=set)
    #: Loop variables running over the positions of a container (``for i in range(len(self.fc))``):
    #: ``self.fc[i]`` is each of its children in turn.
    indexes: dict[str, Submodule] = field(default_factory=dict)
    #: Names bound to a bare Parameter, or to rows or a view of one (``w = self.w[ids]``): the
    #: weight a product with that name multiplies by.
    weights: dict[str, str] = field(default_factory=dict)


class ForwardFlow:
    """Runs ``forward`` of one class and collects the consumers of every layer's output."""

    def __init__(self, attributes: dict[str, Submodule], methods: dict[str, cst.FunctionDef],
                 names: QualifiedNames, summaries: dict[str, Summary] | None = None, *,
                 parameters: frozenset[str] = frozenset(),
                 functions: Mapping[str, cst.FunctionDef] | None = None,
                 absent: frozenset[str] = frozenset(), variables: bool = False,
                 constants: Mapping[str, cst.BaseExpression] | None = None,
                 instances: Mapping[str, Instance] | None = None,
                 bound: Mapping[str, bool] | None = None,
                 defaults: Mapping[str, cst.BaseExpression] | None = None) -> None:
        """``parameters``: the class's bare Parameters; one multiplying the signal (``x @ self.w``)
        is a weight whose output is recorded under its name, as a layer's under its path.
        ``absent``: attributes that hold None (an optional layer left out). ``variables``: the
        parameters are a script's variables, read by name (``x @ W``) where no function hides them.
        ``constants``: the literals one construction binds to attributes (``self.n = n``, ``n=2``),
        which decide its tests and loop counts. ``instances``: blocks, by path, whose own
        construction decides what their forward does (``Instance``). ``bound``: whether the object
        surely has an attribute, by name, as ``hasattr(self, name)`` finds it (an ``if bn:`` arm
        of ``__init__`` the construction skips leaves ``self.bn`` unbound). ``defaults``: the
        literals ``__init__``'s defaults bind to attributes, read for an activation's slope
        (``negative_slope=self.alpha``) where no construction's own value is known."""
        self._attributes = attributes
        self._constants = constants or {}
        self._defaults = defaults or {}
        self._absent = (absent - self._constants.keys()) | {
            name for name, value in self._constants.items() if isinstance(value, cst.Name) and value.value == "None"}
        self._instances = instances or {}
        self._bound = bound or {}
        self._parameters = parameters
        self._variables = variables
        #: The names each function being run binds itself, innermost last: they hide the script's.
        self._locals: list[frozenset[str]] = []
        self._methods = methods
        #: The file's functions, followed when ``forward`` calls one (``_apply(self.conv, x)``).
        self._functions = functions or {}
        self._names = names
        self._summaries = summaries or {}
        self._depth = 0
        self.consumers: dict[str, set[Consumer]] = {}

    def summarise(self) -> Summary | None:
        """Run ``forward`` with its input marked; None when the class has no forward."""
        forward = self._methods.get("forward")
        if forward is None:
            return None
        output = self._call_method(forward, [Value(frozenset({INPUT}), identity=frozenset({INPUT}))], inline=True)
        return Summary(frozenset(self.consumers.pop(INPUT, set())), output)

    def consume_output(self, value: Value) -> None:
        """What the model returns: a tuple's items each an output of their own (``return skips,
        x + residual``: the sum is a residual output, the skips are not)."""
        for part in _returned_parts(value):
            self._consume(part, OUTPUT)
        self.consumers.pop(INPUT, None)

    def run_sequentials(self) -> dict[str, set[Consumer]]:
        """The order inside each Sequential that no forward ran (a scope without ``forward``, as
        ``net = nn.Sequential(...)`` in a script, or a Sequential that ``forward`` reaches in a
        way not followed): the order inside is known; what follows the last layer is not."""
        for module in self._attributes.values():
            if module.kind is LayerKind.CONTAINER and module.sequential and not self._touched(module):
                self._apply(module, EMPTY)
        return self.consumers

    def _touched(self, module: Submodule) -> bool:
        prefix = module.path + "."
        return any(path == module.path or path.startswith(prefix) for path in self.consumers)

    # ---------------------------------------------------------------- statements

    def _call_method(self, function: cst.FunctionDef, args: list[Value], *, inline: bool) -> Value:
        frame = _Frame(returned=EMPTY if inline else None)
        params = [p.name.value for p in function.params.params][1:]  # drop self
        for name, value in zip(params, args, strict=False):
            frame.values[name] = value
        return self._run(function, frame)

    def run_functions(self, functions: Iterable[cst.FunctionDef]) -> dict[str, set[Consumer]]:
        """Each function of a script run as a forward, its arguments unknown: what the script's
        weights multiply flows on, and what a function returns is the output."""
        for function in functions:
            self._run(function, _Frame())
        return self.consumers

    def _run(self, function: cst.FunctionDef, frame: _Frame) -> Value:
        """``function``'s body on ``frame``, one level deeper; what it returned."""
        self._depth += 1
        if self._variables:
            self._locals.append(frozenset(parameter_names(function)) | rebound(function.body))
        try:
            self._block(function.body, frame)
        finally:
            self._depth -= 1
            if self._variables:
                self._locals.pop()
        return frame.returned or EMPTY

    def _block(self, body: cst.BaseSuite | cst.BaseStatement, frame: _Frame) -> None:
        statements = body.body if isinstance(body, (cst.IndentedBlock, cst.SimpleStatementSuite)) else [body]
        for statement in statements:
            if frame.ended:
                break
            self._statement(statement, frame)

    def _statement(self, node: cst.CSTNode, frame: _Frame) -> None:
        if isinstance(node, cst.SimpleStatementLine):
            for small in node.body:
                self._small_statement(small, frame)
        elif isinstance(node, cst.If):
            self._expr(node.test, frame)
            present = self._present(node.test, frame)
            if present is None:
                self._branches(frame, [node.body] + ([node.orelse] if node.orelse else []),
                               exhaustive=node.orelse is not None)
            elif present:
                self._block(node.body, frame)
            elif node.orelse is not None:
                self._statement(node.orelse, frame)
        elif isinstance(node, cst.Else):
            self._block(node.body, frame)
        elif isinstance(node, (cst.For, cst.While)):
            self._loop(node, frame)
        elif isinstance(node, cst.With):
            for item in node.items:
                self._expr(item.item, frame)
            self._block(node.body, frame)
        elif isinstance(node, cst.Try):
            # A handler may run after the body returned; what follows is followed either way.
            self._block(node.body, frame)
            for handler in node.handlers:
                frame.ended = False
                self._block(handler.body, frame)
            frame.ended = False
            for extra in (node.orelse, node.finalbody):
                if extra is not None:
                    self._block(extra.body, frame)

    def _branches(self, frame: _Frame, bodies: list[cst.CSTNode], *, exhaustive: bool) -> None:
        before = dict(frame.values)
        outcomes = []
        for body in bodies:
            frame.values, frame.ended = dict(before), False
            if isinstance(body, cst.If):
                self._statement(body, frame)
            else:
                self._block(body.body if isinstance(body, cst.Else) else body, frame)
            if not frame.ended:  # a branch that returned hands nothing to what follows
                outcomes.append(frame.values)
        if not exhaustive:
            outcomes.append(before)
        frame.ended = not outcomes
        merged: dict[str, Value] = {}
        for outcome in outcomes:
            for name, value in outcome.items():
                merged[name] = merged[name].union(value) if name in merged else value
        frame.values = merged

    def _present(self, test: cst.BaseExpression, frame: _Frame) -> bool | None:
        """``norm is not None`` / ``norm is None`` where ``norm`` denotes a known module or an
        attribute holding None, or ``norm`` alone for a known module or a container holding
        some: the test Python evaluates (True, False); None for another test.
        ``and``/``or`` evaluate as Python does: one known False operand decides an ``and``
        (``i == last and self.out_act is not None`` with no output activation), a True an ``or``."""
        if isinstance(test, cst.BooleanOperation):
            return _short_circuit(isinstance(test.operator, cst.And),
                                  self._present(test.left, frame), self._present(test.right, frame))
        if isinstance(test, cst.UnaryOperation) and isinstance(test.operator, cst.Not):
            verdict = self._present(test.expression, frame)
            return None if verdict is None else not verdict
        if (named := _self_hasattr(test)) is not None:
            return self._bound.get(named)
        if isinstance(test, (cst.Name, cst.Attribute)):
            # ``if self.bn:``: a module is true, a container while it holds modules (its length).
            modules = self._modules(test, frame)
            known = bool(modules) and all(
                module.kind is not LayerKind.UNKNOWN and (module.kind is not LayerKind.CONTAINER or module.children)
                for module in modules or ())
            return True if known else None
        if not (isinstance(test, cst.Comparison) and len(test.comparisons) == 1):
            return None
        comparison = test.comparisons[0]
        if not (isinstance(comparison.comparator, cst.Name) and comparison.comparator.value == "None"
                and isinstance(comparison.operator, (cst.Is, cst.IsNot))):
            return None
        modules = self._modules(test.left, frame)
        if modules and all(module.kind is not LayerKind.UNKNOWN for module in modules):
            return isinstance(comparison.operator, cst.IsNot)
        if modules is None and self._holds_none(test.left, frame):
            return isinstance(comparison.operator, cst.Is)
        return None

    def _holds_none(self, node: cst.BaseExpression, frame: _Frame) -> bool:
        if isinstance(node, cst.Name):
            return node.value in frame.absent
        return isinstance(node, cst.Attribute) and isinstance(node.value, cst.Name) \
            and node.value.value == "self" and node.attr.value in self._absent

    def _loop(self, node: cst.For | cst.While, frame: _Frame) -> None:
        indexes = self._index_variables(node.iter, node.target, frame) if isinstance(node, cst.For) else []
        frame.indexes.update(indexes)
        self._iterations(node, frame)
        for name, _ in indexes:  # past the loop, the variable holds only the last position
            frame.indexes.pop(name, None)

    def _iterations(self, node: cst.For | cst.While, frame: _Frame) -> None:
        if isinstance(node, cst.For):
            iterated, target = _enumerated(node.iter, node.target)
            modules = self._modules(iterated, frame, iterate=True)
            ordered = self._ordered_children(iterated, frame, modules)
            if ordered is not None and isinstance(target, cst.Name) and not _jumps(node.body):
                # A container of known, distinct children iterated in order: each child's output
                # reaches the ones after it, never one before (the last one's leaves the loop).
                for child in ordered:
                    frame.modules[target.value] = [child]
                    self._stage_inputs(node.body, frame)
                    self._branches(frame, [node.body], exhaustive=True)
                return
            if modules is not None and isinstance(target, cst.Name):
                frame.modules[target.value] = modules
            else:
                self._expr(node.iter, frame)
        else:
            self._expr(node.test, frame)
        runs = self._least_runs(node.iter) if isinstance(node, cst.For) else 0
        # Twice: the value leaving one iteration reaches the next one. An iteration the loop
        # surely makes (``range(1, self.n + 1)`` with ``n=2``) leaves nothing of what came before.
        for turn in range(2):
            self._stage_inputs(node.body, frame)
            self._branches(frame, [node.body], exhaustive=turn < runs)

    def _least_runs(self, iterated: cst.BaseExpression) -> int:
        """How many times a loop over ``range(...)`` (or ``enumerate`` of one) surely runs, read
        from literal bounds and the constants of the construction; 0 when not known."""
        if isinstance(iterated, cst.Call) and isinstance(iterated.func, cst.Name) and iterated.func.value == "enumerate" \
                and len(iterated.args) == 1 and iterated.args[0].keyword is None and not iterated.args[0].star:
            iterated = iterated.args[0].value
        if not (isinstance(iterated, cst.Call) and isinstance(iterated.func, cst.Name) and iterated.func.value == "range"
                and len(iterated.args) in (1, 2) and all(a.keyword is None and not a.star for a in iterated.args)):
            return 0
        bounds = [bound for arg in iterated.args if (bound := self._integer(arg.value)) is not None]
        if len(bounds) != len(iterated.args):
            return 0
        start, stop = (0, bounds[0]) if len(bounds) == 1 else (bounds[0], bounds[1])
        return max(0, stop - start)

    def _slope(self, function: str, node: cst.Call, *, method: bool) -> float | None:
        """The leaky slope of a functional or method activation call, if it takes one: a literal,
        or an attribute holding the construction's value or ``__init__``'s default (``self.alpha``)."""
        where = knowledge.ACTIVATION_SLOPE_ARG.get(function)
        if where is None:
            return None
        position, keyword = where
        given = argument(node, position - 1 if method else position, keyword)
        accessed = accessed_attribute(given) if given is not None else None
        if accessed is not None and isinstance(accessed[0], cst.Name) and accessed[0].value == "self":
            given = self._constants.get(accessed[1], self._defaults.get(accessed[1], given))
        return literal_number(given)

    def _integer(self, node: cst.BaseExpression) -> int | None:
        """An integer expression's value: literals, the construction's constants (``self.n``),
        sums and differences of them; None for anything else."""
        accessed = accessed_attribute(node)
        if accessed is not None and isinstance(accessed[0], cst.Name) and accessed[0].value == "self":
            node = self._constants.get(accessed[1], node)
        if isinstance(node, cst.Integer):
            return int(node.evaluated_value)
        if isinstance(node, cst.BinaryOperation) and isinstance(node.operator, (cst.Add, cst.Subtract)):
            left, right = self._integer(node.left), self._integer(node.right)
            if left is None or right is None:
                return None
            return left + right if isinstance(node.operator, cst.Add) else left - right
        return None

    def _stage_inputs(self, body: cst.BaseSuite, frame: _Frame) -> None:
        """Mark the values of the names the loop body binds again as what enters a stage: one
        added to what the stage computes from it is a skip connection (``x = x + block(x)``)."""
        for name in rebound(body):
            if name in frame.values:
                value = frame.values[name]
                frame.values[name] = dataclasses.replace(value, identity=value.identity | {name})

    def _index_variables(self, iterated: cst.BaseExpression, target: cst.BaseAssignTargetExpression,
                         frame: _Frame) -> list[tuple[str, Submodule]]:
        """The loop variables that run over a container's positions: ``i`` of ``for i in
        range(len(self.fc))``, of ``for i, layer in enumerate(self.fc)``, and both of ``for i, j in
        enumerate(range(len(self.fc)))`` (enumerate counts from 0, as range does)."""
        if isinstance(iterated, cst.Call) and isinstance(iterated.func, cst.Name) and iterated.func.value == "enumerate" \
                and len(iterated.args) == 1 and isinstance(target, cst.Tuple) and len(target.elements) == 2:
            inner = iterated.args[0].value
            counted = self._ranged(inner, frame) or self._container(inner, frame)
            found = self._index_variables(inner, target.elements[1].value, frame)
            first = target.elements[0].value
            return found + ([(first.value, counted)] if counted is not None and isinstance(first, cst.Name) else [])
        container = self._ranged(iterated, frame)
        return [(target.value, container)] if container is not None and isinstance(target, cst.Name) else []

    def _ranged(self, node: cst.BaseExpression, frame: _Frame) -> Submodule | None:
        """The container of ``range(len(<container>))``."""
        if isinstance(node, cst.Call) and isinstance(node.func, cst.Name) and node.func.value == "range" \
                and len(node.args) == 1 and isinstance(length := node.args[0].value, cst.Call) \
                and isinstance(length.func, cst.Name) and length.func.value == "len" and len(length.args) == 1:
            return self._container(length.args[0].value, frame)
        return None

    def _container(self, node: cst.BaseExpression, frame: _Frame) -> Submodule | None:
        modules = self._modules(node, frame)
        return modules[0] if modules and len(modules) == 1 and modules[0].kind is LayerKind.CONTAINER else None

    def _ordered_children(self, iterated: cst.BaseExpression, frame: _Frame,
                          modules: list[Submodule] | None) -> list[Submodule] | None:
        """The children a loop over a whole container visits, in order, when each one is known
        and written once (not a comprehension's or a loop's stand-in); None otherwise."""
        if not modules or len(modules) > _MAX_UNROLLED:
            return None
        parents = self._modules(iterated, frame)
        if parents is None or len(parents) != 1:
            return None
        container = parents[0]
        if (container.repeated and not container.cycles) or container.open_length \
                or container.kind is not LayerKind.CONTAINER or list(container.children) != list(modules) \
                or any(child.kind is LayerKind.UNKNOWN for child in modules):
            return None
        return list(modules) * (2 if container.cycles else 1)  # twice: the last child's output reaches the first

    def _small_statement(self, node: cst.BaseSmallStatement, frame: _Frame) -> None:
        if isinstance(node, cst.Assign):
            modules = self._modules(node.value, frame)
            value = EMPTY if modules is not None else self._expr(node.value, frame)
            weight = self._parameter(node.value, frame)
            for target in node.targets:
                self._bind(target.target, value, modules, frame)
                if weight is not None and isinstance(target.target, cst.Name):
                    frame.weights[target.target.value] = weight
        elif isinstance(node, cst.AnnAssign) and node.value is not None:
            self._bind(node.target, self._expr(node.value, frame), None, frame)
        elif isinstance(node, cst.AugAssign):
            value = self._expr(node.value, frame)
            if isinstance(node.target, cst.Name):
                previous = frame.values.get(node.target.value, EMPTY)
                combined = self._combine(node.operator, previous, value, node.target, node.value)
                frame.values[node.target.value] = combined
        elif isinstance(node, cst.Return) and node.value is not None:
            value = self._expr(node.value, frame)
            if frame.returned is not None:
                frame.returned = frame.returned.union(value)
            else:
                self.consume_output(value)
            frame.ended = True
        elif isinstance(node, (cst.Return, cst.Raise)):
            frame.ended = True
        elif isinstance(node, cst.Expr):
            value = self._expr(node.value, frame)
            written = self._activated_in_place(node.value)
            if written is not None:  # ``x.relu_()``: from here on ``x`` holds what the activation gives
                frame.values[written] = value
            elif not _in_place_passthrough(node.value):  # ``scores.masked_fill_(mask, -inf)``
                self._consume(value, UNKNOWN)

    def _activated_in_place(self, node: cst.BaseExpression) -> str | None:
        """The name an activation call writes its result into: ``x.relu_()``, ``F.relu_(x)``,
        ``F.leaky_relu(x, 0.2, inplace=True)``; None for another expression."""
        if not isinstance(node, cst.Call):
            return None
        if isinstance(node.func, cst.Attribute) and not self._names(node.func):
            method = node.func.attr.value
            in_place = method.endswith("_") and method in knowledge.ACTIVATION_FUNCTIONS
            return node.func.value.value if in_place and isinstance(node.func.value, cst.Name) else None
        function = self._torch_function(node.func)
        if function not in knowledge.ACTIVATION_FUNCTIONS:
            return None
        # ``inplace`` read as a keyword only: its position differs from one function to another.
        if not (function.endswith("_") or keyword_is(node, "inplace", True)):
            return None
        operand = argument(node, 0, "input")
        return operand.value if isinstance(operand, cst.Name) else None

    def _bind(self, target: cst.BaseExpression, value: Value, modules: list[Submodule] | None,
              frame: _Frame) -> None:
        if isinstance(target, cst.Name):
            frame.weights.pop(target.value, None)
            if modules is not None:
                frame.modules[target.value] = modules
            else:
                frame.values[target.value] = value
                frame.modules.pop(target.value, None)
        elif isinstance(target, (cst.Tuple, cst.List)):
            # ``out, attn = self.attention(x)`` with ``return out, attn``: each name its own
            # value; else (``out, hidden = self.lstm(x)``) each name may carry the producers.
            elements = target.elements
            unpacked = value.items is not None and len(value.items) == len(elements) \
                and not any(isinstance(element, cst.StarredElement) for element in elements)
            for position, element in enumerate(elements):
                own = value.item(position) if unpacked else None
                self._bind(element.value, own if own is not None else value, None, frame)

    # ---------------------------------------------------------------- expressions

    def _expr(self, node: cst.BaseExpression, frame: _Frame) -> Value:
        if isinstance(node, cst.Name):
            return frame.values.get(node.value, EMPTY)
        if isinstance(node, cst.Call) and self._keyword_dict(node, frame):
            # ``dict(recon=y)`` is the display ``{"recon": y}``: its keywords are the keys.
            return self._display([self._expr(arg.value, frame) for arg in node.args],
                                 [arg.keyword.value for arg in node.args if arg.keyword is not None])
        if isinstance(node, cst.Call):
            return dataclasses.replace(self._call(node, frame), derived=self._lineage(node, frame))
        if isinstance(node, cst.Subscript):
            whole = self._expr(node.value, frame)
            key = _literal_key(node)
            # ``self.attention(x)[0]`` of ``return out, attn``, ``outputs["out"]`` of a dict
            picked = whole.item(key) if key is not None else None
            if picked is not None:
                return picked
            return _part(whole) if _picks(node) else whole
        if isinstance(node, cst.Attribute):
            base = self._expr(node.value, frame)
            return base if node.attr.value in ("T", "mT", "data") else EMPTY
        if isinstance(node, cst.BinaryOperation) and isinstance(node.operator, cst.MatrixMultiply):
            return self._product([node.left, node.right], [], frame)
        if isinstance(node, cst.BinaryOperation) and isinstance(node.operator, cst.Multiply):
            gated = self._self_gated(node.left, node.right, frame) or self._self_gated(node.right, node.left, frame)
            if gated is not None:
                return gated
        if isinstance(node, cst.BinaryOperation):
            left, right = self._expr(node.left, frame), self._expr(node.right, frame)
            return self._combine(node.operator, left, right, node.left, node.right)
        if isinstance(node, cst.UnaryOperation):
            return self._expr(node.expression, frame)
        if isinstance(node, cst.IfExp):
            self._expr(node.test, frame)
            return self._expr(node.body, frame).union(self._expr(node.orelse, frame))
        if isinstance(node, (cst.ListComp, cst.GeneratorExp, cst.SetComp)):
            return self._comprehension(node, frame)
        if isinstance(node, (cst.Tuple, cst.List, cst.Dict)):
            # ``return loss, logits`` and ``return {"logits": y}`` hand their items on.
            return self._display([self._expr(element.value, frame) for element in node.elements],
                                 _display_keys(node))
        return EMPTY

    @staticmethod
    def _display(values: list[Value], keys: Sequence[int | str] | None) -> Value:
        """A tuple, list or dict made of ``values``: each item is its value; ``keys``: their
        positions or string keys, None where they are not known."""
        result = EMPTY
        for value in values:
            result = result.union(value)
        if keys is not None and values:
            result = dataclasses.replace(result, items=tuple(zip(keys, values)))
        return result

    def _keyword_dict(self, node: cst.Call, frame: _Frame) -> bool:
        """``dict(a=x, b=y)``: the builtin called with keywords only."""
        return self._builtin(node.func, frame) == "dict" and bool(node.args) \
            and all(arg.keyword is not None for arg in node.args)

    def _builtin(self, func: cst.BaseExpression, frame: _Frame) -> str | None:
        """The name of the builtin ``func`` calls, where no name of the file hides it."""
        if not isinstance(func, cst.Name) or self._names(func) or func.value in self._functions \
                or func.value in frame.values or func.value in frame.modules:
            return None
        return func.value

    def _comprehension(self, node: cst.ListComp | cst.GeneratorExp | cst.SetComp, frame: _Frame) -> Value:
        """``[self.head(f) for f in features]``: each item of what is iterated, bound to the target,
        goes through the element; the result is a sequence of what the element gives. The names
        the comprehension binds are its own, as in Python: they are unbound again after it."""
        values, modules_before = dict(frame.values), dict(frame.modules)
        targets: set[str] = set()
        clause: cst.CompFor | None = node.for_in
        while clause is not None:
            modules = self._modules(clause.iter, frame, iterate=True)
            if modules is not None and isinstance(clause.target, cst.Name):
                frame.modules[clause.target.value] = modules
            else:
                iterated = self._expr(clause.iter, frame)
                self._bind(clause.target, dataclasses.replace(iterated, items=None), None, frame)
            targets |= target_names([clause.target])
            for condition in clause.ifs:
                self._expr(condition.test, frame)
            clause = clause.inner_for_in
        result = self._expr(node.elt, frame)
        for name in targets:
            frame.values.pop(name, None)
            frame.modules.pop(name, None)
            if name in values:
                frame.values[name] = values[name]
            if name in modules_before:
                frame.modules[name] = modules_before[name]
        return dataclasses.replace(result, items=None)

    def _lineage(self, node: cst.Call, frame: _Frame) -> frozenset[str]:
        """The identities a call's result is computed from: those of every name it reads."""
        found: frozenset[str] = frozenset()
        for name in read_names(node):
            value = frame.values.get(name)
            if value is not None:
                found |= value.identity | value.derived
        return found

    def _combine(self, operator: cst.CSTNode, left: Value, right: Value,
                 left_node: cst.BaseExpression, right_node: cst.BaseExpression) -> Value:
        if isinstance(operator, (cst.Add, cst.Subtract, cst.AddAssign, cst.SubtractAssign)):
            if literal_number(right_node) is not None or self._parameter(right_node) is not None:
                return left  # a constant or a bias, not a skip connection
            if isinstance(right_node, _SEQUENCE_DISPLAYS):
                return dataclasses.replace(left.union(right), items=None)  # ``outs += [y]``: a longer list
            if literal_number(left_node) is not None:
                # ``1 + scale``: what a signal is multiplied by (``x * (1 + scale)``, a modulation)
                # passes it through unchanged while ``scale`` is zero, a skip connection.
                return dataclasses.replace(right, identity=frozenset(), residual=True)
            # A sum with another tensor (an embedding's, another layer's output) is a linear
            # combination: what follows it decides, as it would for either operand alone.
            summed = left.union(right)
            if _skip(left, right) or _skip(right, left):
                return dataclasses.replace(summed, identity=frozenset(), derived=summed.derived | summed.identity,
                                           residual=True)
            # Modules beside one another on the input (``a(x) + b(y) + c(x)``) stay beside c.
            return dataclasses.replace(summed, identity=summed.identity & {SHORTCUT},
                                       derived=summed.derived | summed.identity)
        if isinstance(operator, (cst.Multiply, cst.Divide, cst.MultiplyAssign, cst.DivideAssign)):
            # Scaling by a constant or a parameter keeps the producer; a product of two
            # signals (gating) does not.
            if not (left.producers and right.producers):
                return left.union(right)
        self._consume(left, UNKNOWN)
        self._consume(right, UNKNOWN)
        return EMPTY

    def _call(self, node: cst.Call, frame: _Frame) -> Value:
        factors = self._factors(node)
        if factors is not None:
            others = [arg.value for arg in node.args if all(arg.value is not f for f in factors)]
            return self._product(factors, others, frame)
        modules = self._modules(node.func, frame) or self._made(node.func)
        args = [self._expr(arg.value, frame) for arg in node.args]
        first = args[0] if args else EMPTY
        if modules is not None:
            result = EMPTY
            for module in modules:
                result = result.union(self._apply(module, first))
            # A module taking the block's input directly is its shortcut path (a projection or an
            # identity, ``self.shortcut(x)``): added to what the block computes, a skip connection.
            return dataclasses.replace(result, identity=frozenset({SHORTCUT}) if INPUT in first.identity else frozenset())
        method = self._self_method(node.func)
        if method is not None:
            return self._call_function(method, node, frame, args, skip_self=True)
        if isinstance(node.func, cst.Name) and node.func.value in self._functions \
                and node.func.value not in frame.values and node.func.value not in frame.modules:
            return self._call_function(self._functions[node.func.value], node, frame, args, skip_self=False)
        function = self._torch_function(node.func)
        if function is not None:
            return self._torch_call(function, node, args)
        if self._builtin(node.func, frame) in knowledge.VALUE_BUILTINS and len(args) == 1:
            return dataclasses.replace(first, items=None)
        if isinstance(node.func, cst.Attribute):
            return self._method_call(node, frame, args)
        for value in args:
            self._consume(value, UNKNOWN)
        return EMPTY

    def _made(self, func: cst.BaseExpression) -> list[Submodule] | None:
        """``nn.ReLU()`` in ``nn.ReLU()(x)``: a module of no parameters, built and called at once,
        applies as one held in an attribute would."""
        if not isinstance(func, cst.Call):
            return None
        class_name = torch_nn_class(self._names(func.func))
        kind = knowledge.layer_kind(class_name) if class_name is not None else None
        if class_name is None or kind not in (LayerKind.ACTIVATION, LayerKind.PASSTHROUGH):
            return None
        module = Submodule("", kind, class_name, func)
        if kind is LayerKind.ACTIVATION:
            module.activation, module.slope = activation_module(class_name, func)
        return [module]

    def _factors(self, node: cst.Call) -> list[cst.BaseExpression] | None:
        """The two factors of a matrix product call (``torch.mm(a, b)``, ``x.mm(w)``,
        ``F.linear(x, w)``); None for another call."""
        names = self._names(node.func)
        if names:
            return product_factors(node, names)
        if isinstance(node.func, cst.Attribute) and self._modules(node.func.value, _Frame()) is not None:
            return None  # a module's own method, not a tensor's
        return method_factors(node)

    def _product(self, factors: list[cst.BaseExpression], others: list[cst.BaseExpression],
                 frame: _Frame) -> Value:
        """A product with a raw weight is that weight's output; one by a fixed matrix (an
        adjacency, attention probabilities) carries the signal on; two signals consume both."""
        for other in others:
            self._consume(self._expr(other, frame), UNKNOWN)
        weights = frozenset(w for f in factors if (w := self._parameter(f, frame)) is not None)
        values = [self._expr(f, frame) for f in factors if self._parameter(f, frame) is None]
        if weights:
            taken = EMPTY
            for value in values:
                taken = taken.union(value)
            return self._into(taken, weights)
        carrying = [value for value in values if value.producers]
        if len(carrying) <= 1:
            return carrying[0] if carrying else EMPTY
        # The block's input as a factor is a matrix it is given (attention probabilities passed
        # in), as any other argument is: a layer's output it multiplies is carried on, unless
        # that output was computed from the input itself (``(x @ w) @ x.t()``: two signals).
        layered = [value for value in carrying if value.producers - {INPUT}]
        if any(INPUT in value.behind for value in layered):
            layered = []
        for value in carrying:
            if len(layered) != 1 or value is not layered[0]:
                self._consume(value, UNKNOWN)
        return layered[0] if len(layered) == 1 else EMPTY

    def _parameter(self, node: cst.BaseExpression, frame: _Frame | None = None) -> str | None:
        """The bare Parameter ``self.w`` an operand is (``self.w.t()``, ``self.w.T``, ``self.w[i]``,
        a name ``frame`` binds to one of those)."""
        node = tensor_behind(node, knowledge.WEIGHT_LAYOUT_METHODS)
        if isinstance(node, cst.Name) and frame is not None and node.value in frame.weights:
            return frame.weights[node.value]
        if isinstance(node, cst.Attribute) and isinstance(node.value, cst.Name) and node.value.value == "self" \
                and node.attr.value in self._parameters:
            return node.attr.value
        if self._variables and isinstance(node, cst.Name) and node.value in self._parameters \
                and not (self._locals and node.value in self._locals[-1]):
            return node.value
        return None

    def _method_call(self, node: cst.Call, frame: _Frame, args: list[Value]) -> Value:
        assert isinstance(node.func, cst.Attribute)
        receiver = self._expr(node.func.value, frame)
        name = node.func.attr.value
        if name in knowledge.COLLECTING_METHODS and isinstance(node.func.value, cst.Name):
            # ``outputs.append(y)``: the list holds what it is given, for what takes the list.
            for value in args:
                receiver = receiver.union(value)
            frame.values[node.func.value.value] = dataclasses.replace(receiver, items=None)
            return EMPTY
        for value in args:
            self._consume(value, UNKNOWN)
        if name in knowledge.ACTIVATION_FUNCTIONS:
            activation = knowledge.ACTIVATION_FUNCTIONS[name]
            return self._activated(receiver, self._activation(activation, self._slope(name, node, method=True)))
        if name in knowledge.PASSTHROUGH_METHODS or name in knowledge.SUM_REDUCTIONS \
                or _range_clamp(name, node, method=True):
            return receiver
        if name in knowledge.SHAPE_METHODS:
            return EMPTY
        self._consume(receiver, UNKNOWN)
        return EMPTY

    def _torch_call(self, function: str, node: cst.Call, args: list[Value]) -> Value:
        first = args[0] if args else EMPTY
        rest = args[1:]
        if function in knowledge.ACTIVATION_FUNCTIONS:
            activation = knowledge.ACTIVATION_FUNCTIONS[function]
            result = self._activated(first, self._activation(activation, self._slope(function, node, method=False)))
        elif function in knowledge.NORM_FUNCTIONS:
            self._consume(first, NORM)
            result = EMPTY
        elif function in knowledge.PASSTHROUGH_FUNCTIONS or function in knowledge.SUM_REDUCTIONS \
                or _range_clamp(function, node, method=False):
            result = first
        elif function in knowledge.JOINING_FUNCTIONS:
            result = dataclasses.replace(first, items=None)  # one tensor of the sequence's items
        elif function in knowledge.SHAPE_FUNCTIONS:
            result = EMPTY  # a fresh tensor of the same shape: the values are not read
        else:
            self._consume(first, UNKNOWN)
            result = EMPTY
        for value in rest:
            self._consume(value, UNKNOWN)
        return result

    def _self_gated(self, signal: cst.BaseExpression, gate: cst.BaseExpression, frame: _Frame) -> Value | None:
        """``x * torch.sigmoid(x)`` / ``x * x.sigmoid()``: the signal through one activation (SiLU);
        None for another product."""
        if not isinstance(signal, cst.Name) or not isinstance(gate, cst.Call):
            return None
        function = self._torch_function(gate.func)
        operand = gate.args[0].value if function is not None and gate.args else None
        if function is None and isinstance(gate.func, cst.Attribute) and not gate.args:
            function, operand = gate.func.attr.value, gate.func.value
        activation = knowledge.SELF_GATED_ACTIVATIONS.get(knowledge.ACTIVATION_FUNCTIONS.get(function or "", ""))
        if activation is None or not isinstance(operand, cst.Name) or operand.value != signal.value:
            return None
        self._consume(self._expr(signal, frame), self._activation(activation, None))
        return EMPTY

    def _activation(self, name: str, slope: float | None) -> Consumer:
        if name == "leaky_relu" and slope is None:
            slope = 0.01
        return Consumer(ConsumerKind.ACTIVATION, name, slope)

    def _activated(self, value: Value, consumer: Consumer) -> Value:
        """``value`` consumed by an activation; what comes out carries no layer's raw output, but
        after a squash it remembers the layers behind it (a head's or a hidden layer's)."""
        self._consume(value, consumer)
        if consumer.activation not in knowledge.SQUASHES:
            return EMPTY
        return Value(squashed=value.squashed | {(producer, consumer) for producer in value.producers})

    def _apply(self, module: Submodule, value: Value) -> Value:
        if module.kind in _SIGNAL_LAYERS:
            return self._into(value, frozenset({module.path}))
        if module.kind is LayerKind.ACTIVATION:
            return self._activated(value, Consumer(ConsumerKind.ACTIVATION, module.activation, module.slope))
        if module.kind is LayerKind.NORM:
            self._consume(value, NORM)
            return EMPTY
        if module.kind is LayerKind.PASSTHROUGH:
            return value
        if module.kind is LayerKind.CONTAINER and module.sequential and module.children:
            for _ in range(2 if module.repeated else 1):
                for child in module.children:
                    value = self._apply(child, value)
            return value
        if module.kind is LayerKind.CUSTOM and module.class_name in self._summaries:
            return self._apply_block(module, value)
        self._consume(value, UNKNOWN)
        return EMPTY

    def _apply_block(self, module: Submodule, value: Value) -> Value:
        """A block of this file: its input consumers take ``value``; its outputs come out. A block
        its construction specialises brings what its layers feed as built there."""
        instance = self._instances.get(module.path)
        summary = self._summaries[module.class_name or ""] if instance is None else instance.summary
        for local, found in (instance.consumers.items() if instance is not None else ()):
            self.consumers.setdefault(f"{module.path}.{local}", set()).update(found)
        for consumer in summary.input_consumers:
            self._consume(value, consumer)
        return _block_output(module.path, summary.output, value)

    def _call_function(self, function: cst.FunctionDef, node: cst.Call, frame: _Frame,
                       args: list[Value], *, skip_self: bool) -> Value:
        """A function of the file, or a method of the class (``skip_self``), called from
        ``forward``, run with its parameters bound as Python binds the call: a module passed in
        stays that module, a tensor keeps its producers. Past a starred argument nothing is
        bound; what it would have carried is consumed."""
        if self._depth > _MAX_INLINE_DEPTH or function.params.posonly_params:
            for value in args:
                self._consume(value, UNKNOWN)
            return EMPTY
        inner = _Frame(returned=EMPTY)
        given = {id(arg.value): value for arg, value in zip(node.args, args, strict=True)}
        for name, expression in bind(function, node, skip_self=skip_self, defaults=False).items():
            value = given.pop(id(expression))
            modules = self._modules(expression, frame)
            if modules is not None:
                inner.modules[name] = modules
            else:
                inner.values[name] = value
                if self._holds_none(expression, frame):
                    inner.absent.add(name)
        for value in given.values():  # past a starred argument, or a keyword no parameter takes
            self._consume(value, UNKNOWN)
        return self._run(function, inner)

    def _consume(self, value: Value, consumer: Consumer) -> None:
        if consumer is OUTPUT and value.residual:
            consumer = RESIDUAL
        elif value.residual and consumer.kind is not ConsumerKind.RESIDUAL:
            consumer = dataclasses.replace(consumer, residual=True)
        for producer in value.producers:
            found = self.consumers.setdefault(producer, set())
            if consumer != LAYER or LINEAR_CHAIN not in found:  # the chain's end says more
                found.add(consumer)
        if consumer.kind is ConsumerKind.LAYER:
            for producer, squash in value.squashed:
                self.consumers.setdefault(producer, set()).add(dataclasses.replace(squash, then_layer=True))
        if consumer.kind not in (ConsumerKind.NORM, ConsumerKind.UNKNOWN):
            # A layer behind others feeds them a linear map, and the chain ends in an activation
            # or the output, not in a norm that resets its scale: its output meets no activation.
            for producer in value.behind:
                found = self.consumers.setdefault(producer, set())
                found.discard(LAYER)
                found.add(LINEAR_CHAIN)

    def _into(self, value: Value, layers: frozenset[str]) -> Value:
        """The output of weight layers taking ``value`` directly."""
        self._consume(dataclasses.replace(value, behind=frozenset()), LAYER)
        if value.residual:  # a sum with a skip connection: its layers are left as marked here
            value = dataclasses.replace(value, producers=frozenset())
        return value.into(layers)

    # ---------------------------------------------------------------- name resolution

    def _modules(self, node: cst.BaseExpression, frame: _Frame, *, iterate: bool = False) -> list[Submodule] | None:
        """Submodules an expression denotes (``self.fc``, ``self.net[0]``, a loop variable)."""
        if isinstance(node, cst.Name):
            return frame.modules.get(node.value)
        accessed = accessed_attribute(node)  # ``self.fc`` or ``getattr(self, f"fc{i}")``
        if accessed is not None and isinstance(accessed[0], cst.Name) and accessed[0].value == "self":
            module = self._attributes.get(accessed[1])
            if module is None:
                return None
            return list(module.children) if iterate else [module]
        if iterate and isinstance(node, cst.Subscript) and _slice_bounds(node) is not None:
            return self._sliced(node, frame)
        if isinstance(node, cst.Subscript) and len(node.slice) == 1 and isinstance(node.slice[0].slice, cst.Index) \
                and isinstance(index := node.slice[0].slice.value, cst.Name) and index.value in frame.indexes:
            # ``self.fc[i]`` with ``i`` running over the positions of ``self.fc``: each child.
            container = frame.indexes[index.value]
            return list(container.children) if self._container(node.value, frame) is container else None
        if isinstance(node, (cst.Attribute, cst.Subscript)):
            parents = self._modules(node.value, frame)
            if parents is not None and len(parents) == 1:
                child = parents[0].selected(node)
                return [child] if child is not None else None
        return None

    def _sliced(self, node: cst.Subscript, frame: _Frame) -> list[Submodule] | None:
        """The children ``self.layers[:-1]`` iterates over, when the list's length is known."""
        parents = self._modules(node.value, frame)
        bounds = _slice_bounds(node)
        if parents is None or len(parents) != 1 or bounds is None or parents[0].open_length:
            return None
        children = parents[0].children
        return children if parents[0].repeated else children[slice(*bounds)]

    def _self_method(self, func: cst.BaseExpression) -> cst.FunctionDef | None:
        if (isinstance(func, cst.Attribute) and isinstance(func.value, cst.Name)
                and func.value.value == "self" and func.attr.value != "forward"):
            return self._methods.get(func.attr.value)
        return None

    def _torch_function(self, func: cst.BaseExpression) -> str | None:
        for name in self._names(func):
            for prefix in knowledge.FUNCTIONAL_NAMESPACES:
                if name.startswith(prefix) and "." not in name[len(prefix):]:
                    return name[len(prefix):]
        return None


def _block_output(path: str, output: Value, value: Value) -> Value:
    """A block's ``output`` as its caller sees it: its layers under ``path``, its input replaced
    by ``value``, each position of a returned tuple alike."""
    producers = {f"{path}.{p}" for p in output.producers if p != INPUT}
    squashed = {(f"{path}.{p}", c) for p, c in output.squashed if p != INPUT}
    # The block squashes its input: the layers behind ``value`` come out squashed.
    squashed |= {(p, c) for source, c in output.squashed if source == INPUT for p in value.producers}
    behind = {f"{path}.{p}" for p in output.behind if p != INPUT}
    if INPUT in output.producers:
        producers |= value.producers
        squashed |= value.squashed
        behind |= value.behind
    if INPUT in output.behind:  # the input reaches the output through layers only
        behind |= value.producers | value.behind
    items = tuple((key, _block_output(path, item, value)) for key, item in output.items) \
        if output.items is not None else None
    return Value(frozenset(producers), output.residual, frozenset(squashed), frozenset(behind), items=items)


def _literal_key(node: cst.Subscript) -> int | str | None:
    """The position (``x[1]``, ``x[-1]``) or string key (``x["out"]``) a subscript reads; None
    for a slice or a computed index."""
    if len(node.slice) != 1 or not isinstance(node.slice[0].slice, cst.Index):
        return None
    index = node.slice[0].slice.value
    if isinstance(index, cst.SimpleString):
        key = index.evaluated_value
        return key if isinstance(key, str) else None
    number = literal_number(index) if isinstance(index, (cst.Integer, cst.UnaryOperation)) else None
    return int(number) if number is not None and number.is_integer() else None


def _display_keys(node: cst.Tuple | cst.List | cst.Dict) -> list[int | str] | None:
    """The keys of a tuple's positions or of a dict's string keys, as written; None for a list
    (it grows), a starred item or another key."""
    if isinstance(node, cst.Tuple):
        plain = not any(isinstance(element, cst.StarredElement) for element in node.elements)
        return list(range(len(node.elements))) if plain else None
    if isinstance(node, cst.Dict):
        keys: list[int | str] = []
        for element in node.elements:
            key = element.key.evaluated_value if isinstance(element, cst.DictElement) \
                and isinstance(element.key, cst.SimpleString) else None
            if not isinstance(key, str):
                return None
            keys.append(key)
        return keys
    return None


#: The most children a loop is followed through one by one.
_MAX_UNROLLED = 16


def _short_circuit(conjunction: bool, left: bool | None, right: bool | None) -> bool | None:
    """The value of ``left and right`` (``conjunction``) or ``left or right``, None where unknown."""
    decisive = not conjunction  # False decides an ``and``, True an ``or``
    if decisive in (left, right):
        return decisive
    return conjunction if left is conjunction and right is conjunction else None


def _jumps(body: cst.CSTNode) -> bool:
    """Whether a loop body holds a ``break``, ``continue`` or ``return`` of its own."""
    pending = [body]
    while pending:
        node = pending.pop()
        if isinstance(node, (cst.Break, cst.Continue, cst.Return)):
            return True
        if not isinstance(node, (cst.FunctionDef, cst.ClassDef, cst.Lambda)):
            pending.extend(node.children)
    return False


def _enumerated(iterated: cst.BaseExpression, target: cst.BaseAssignTargetExpression
                ) -> tuple[cst.BaseExpression, cst.BaseExpression]:
    """``for i, layer in enumerate(xs)`` iterates over ``xs`` with ``layer``."""
    if isinstance(iterated, cst.Call) and isinstance(iterated.func, cst.Name) \
            and iterated.func.value == "enumerate" and iterated.args \
            and isinstance(target, cst.Tuple) and len(target.elements) == 2:
        return iterated.args[0].value, target.elements[1].value
    return iterated, target


def _slice_bounds(node: cst.Subscript) -> tuple[int | None, int | None] | None:
    """The literal bounds of ``xs[a:b]`` (no step); None for another subscript."""
    if len(node.slice) != 1 or not isinstance(node.slice[0].slice, cst.Slice):
        return None
    part = node.slice[0].slice
    if part.step is not None:
        return None
    bounds = []
    for bound in (part.lower, part.upper):
        number = literal_number(bound) if bound is not None else None
        if bound is not None and (number is None or number != int(number)):
            return None
        bounds.append(None if number is None else int(number))
    return bounds[0], bounds[1]


def _skip(carried: Value, other: Value) -> bool:
    """Whether adding ``carried`` to ``other`` is a skip connection (``x + f(x)``): ``carried`` is
    the block's input (itself or through the one module of a shortcut) and ``other`` is computed
    from it, or ``carried`` is a loop's stage input and ``other`` is computed from it."""
    if (carried.identity - {INPUT, SHORTCUT}) & other.derived:
        return True
    if INPUT not in other.derived or INPUT in other.identity:
        return False
    # A shortcut's module beside another module taking the input (two embeddings) is no skip.
    return INPUT in carried.identity or (SHORTCUT in carried.identity and SHORTCUT not in other.identity)


def _in_place_passthrough(node: cst.BaseExpression) -> bool:
    if not (isinstance(node, cst.Call) and isinstance(node.func, cst.Attribute) and node.func.attr.value.endswith("_")):
        return False
    method = node.func.attr.value
    return method in knowledge.PASSTHROUGH_METHODS or _range_clamp(method, node, method=True)


def _returned_parts(value: Value) -> list[Value]:
    """A returned tuple's items, where they make up the whole value; any other value whole."""
    items = [item for _, item in value.items or ()]
    covered = frozenset().union(*(item.producers for item in items)) if items else frozenset()
    return items if items and covered == value.producers else [value]


def _range_clamp(function: str, node: cst.Call, *, method: bool) -> bool:
    """Whether a call clamps into a range given by both bounds (``torch.clamp(y, 0, 1)``,
    ``y.clamp_(min=-1, max=1)``): the values inside pass unchanged. ``method``: the tensor is the
    receiver, so the bounds come one position earlier."""
    if function not in knowledge.RANGE_CLAMPS:
        return False
    shift = 0 if method else 1
    bounds = (argument(node, shift, "min"), argument(node, shift + 1, "max"))
    return all(bound is not None and not (isinstance(bound, cst.Name) and bound.value == "None") for bound in bounds)


def _picks(node: cst.Subscript) -> bool:
    """Whether a subscript picks positions along a dimension (``x[:, -1]``, ``x[i]``): what it gives
    is a part of the tensor, not the tensor cropped (``x[:, :, 2:]``) or reshaped (``x[:, None]``)."""
    return any(isinstance(element.slice, cst.Index)
               and not isinstance(element.slice.value, cst.Ellipsis)
               and not (isinstance(element.slice.value, cst.Name) and element.slice.value.value == "None")
               for element in node.slice)


def _part(whole: Value) -> Value:
    """A part of ``whole`` (``past[:, -1]``): it carries the same layers' outputs, but it is not the
    value it was taken from, so a sum of it and what is computed from that value is no skip
    connection (a position plus a predicted offset); a sum with what is computed from the part
    itself is."""
    parts = frozenset(f"{identity}[]" for identity in whole.identity)
    return dataclasses.replace(whole, identity=parts, derived=whole.derived | whole.identity)


def _self_hasattr(test: cst.BaseExpression) -> str | None:
    """The attribute ``hasattr(self, "name")`` asks about; None for another test."""
    if not (isinstance(test, cst.Call) and isinstance(test.func, cst.Name) and test.func.value == "hasattr"
            and len(test.args) == 2 and isinstance(test.args[0].value, cst.Name)
            and test.args[0].value.value == "self" and isinstance(test.args[1].value, cst.SimpleString)):
        return None
    named = test.args[1].value.evaluated_value
    return named if isinstance(named, str) else None
