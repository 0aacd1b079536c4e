"""Static description of the submodules a class (or a local scope) builds.

``self.fc1 = nn.Linear(...)``, ``nn.Sequential(...)`` (also with an OrderedDict), ``nn.ModuleList``
and activation modules become a tree of :class:`Submodule` values addressed by dotted paths such
as ``net.0`` or ``features.conv1`` — the names ``named_modules()`` would give at run time.
"""

from __future__ import annotations

import contextlib
import itertools
import re
import string
from dataclasses import dataclass, field
from typing import Callable, Iterable, Iterator, Mapping, Protocol, Sequence

import libcst as cst
from libcst.helpers import get_full_name_for_node

from initaudit import knowledge
from initaudit.knowledge import LayerKind

#: Resolves an expression to the qualified names it may refer to.
QualifiedNames = Callable[[cst.CSTNode], frozenset[str]]

TORCH_NN = "torch.nn."


@dataclass
class Submodule:
    path: str
    kind: LayerKind
    class_name: str | None
    node: cst.CSTNode
    activation: str | None = None
    slope: float | None = None
    children: list[Submodule] = field(default_factory=list)
    #: Children are applied one after another (nn.Sequential) rather than held (ModuleList).
    sequential: bool = False
    #: Built by a comprehension: the one child stands for several identical ones in a row.
    repeated: bool = False
    #: Built by a loop of unknown length (a builder function): the children are the first
    #: iteration, named from the start, and the last one, named from the end (``-2``, ``-1``);
    #: other positions are unknown.
    open_length: bool = False
    #: Its children are what each run of one loop appends, unconditionally and in order
    #: (``for ...: layers.append(nn.Linear(...)); layers.append(act)``): iterated, they come
    #: round again (Linear, ReLU, Linear, ReLU, ...).
    cycles: bool = False
    #: Class (or scope) whose code defines this submodule, and its path there: composed blocks
    #: keep the consumers their own forward records.
    origin: str | None = None
    local_path: str | None = None

    def instance_path(self) -> str:
        """For a layer composed from a block's class (``attn.q``): the block instance's path (``attn``)."""
        return self.path[:len(self.path) - len(self.local_path or "")].rstrip(".")

    def rebased(self, prefix: str) -> Submodule:
        """A copy addressed from a parent that holds this module's class under ``prefix``."""
        # Composition copies every layer of a class into each instance: a plain copy of the
        # fields, without dataclasses.replace's call of __init__, takes a third of the time.
        copy = object.__new__(Submodule)
        copy.__dict__.update(self.__dict__, path=f"{prefix}.{self.path}",
                             children=[c.rebased(prefix) for c in self.children])
        return copy

    def with_children(self, children: list[Submodule]) -> Submodule:
        """A copy holding ``children`` (composition: the module as collected is left as it is)."""
        copy = object.__new__(Submodule)
        copy.__dict__.update(self.__dict__, children=children)
        return copy

    def walk(self) -> Iterator[Submodule]:
        """This module and every one below it, parents before children (without a generator per
        level: composed trees can be deep)."""
        pending = [self]
        while pending:
            module = pending.pop()
            yield module
            pending.extend(reversed(module.children))

    def selected(self, access: cst.Attribute | cst.Subscript) -> Submodule | None:
        """The child an access on this module selects: ``.fc``, ``[0]``, ``[-1]``, ``["conv"]``, and
        ``[i]`` of a container a loop fills with copies of one child."""
        if isinstance(access, cst.Attribute):
            return self.child(access.attr.value)
        if len(access.slice) != 1 or not isinstance(access.slice[0].slice, cst.Index):
            return None
        key = access.slice[0].slice.value
        if self.repeated and self.children and not isinstance(key, cst.SimpleString) and (len(self.children) == 1 or (
                literal_number(key) is None and len({(c.class_name, c.kind) for c in self.children}) == 1)):
            # Each position holds a copy of the one child a loop writes, or of one of the children
            # of one class its branches write (``if k == 0: append(LSTM(n, h)) else: append(LSTM(h, h))``).
            return self.children[0]
        number = literal_number(key)
        if number is not None and number == int(number):
            return self.child(str(int(number)))
        return self.child(key.evaluated_value) if isinstance(key, cst.SimpleString) else None

    def child(self, key: str) -> Submodule | None:
        """Child by name or by (possibly negative) integer index."""
        for candidate in self.children:
            if candidate.path.rsplit(".", 1)[-1] == key:
                return candidate
        if self.open_length:
            return None
        try:
            index = int(key)
        except ValueError:
            return None
        if -len(self.children) <= index < len(self.children):
            return self.children[index]
        return None

    @property
    def has_weight_matrix(self) -> bool:
        return self.kind in knowledge.WEIGHT_MATRIX_KINDS


def torch_nn_class(names: frozenset[str]) -> str | None:
    """``torch.nn.Linear`` / ``torch.nn.modules.linear.Linear`` -> ``Linear``."""
    for name in names:
        if name.startswith(TORCH_NN):
            last = name.rsplit(".", 1)[-1]
            if knowledge.layer_kind(last) is not None:
                return last
    return None


def activation_module(class_name: str, node: cst.Call) -> tuple[str, float | None]:
    """The activation a ``torch.nn`` activation class built by ``node`` applies, and its slope
    (a leaky one's, torch's default where none is written)."""
    slope = None
    if class_name in knowledge.ACTIVATION_SLOPE_ARG:
        position, keyword = knowledge.ACTIVATION_SLOPE_ARG[class_name]
        slope = literal_number(argument(node, position, keyword))
        if slope is None and argument(node, position, keyword) is None:
            slope = 0.25 if class_name == "PReLU" else 0.01
    return knowledge.ACTIVATION_MODULES[class_name], slope


def literal_number(node: cst.CSTNode | None,
                   leaf: Callable[[cst.CSTNode], float | None] | None = None) -> float | None:
    """Value of a numeric literal, with unary minus and simple arithmetic on literals;
    ``leaf``: the value of an operand that is no literal (``math.sqrt(2)``), where it has one."""
    if node is None:
        return None
    if isinstance(node, (cst.Integer, cst.Float)):
        return float(node.evaluated_value)
    if isinstance(node, cst.UnaryOperation) and isinstance(node.operator, cst.Minus):
        inner = literal_number(node.expression, leaf)
        return None if inner is None else -inner
    if isinstance(node, cst.BinaryOperation):
        left, right = literal_number(node.left, leaf), literal_number(node.right, leaf)
        if left is None or right is None:
            return None
        operator = node.operator
        try:
            if isinstance(operator, cst.Divide):
                return left / right
            if isinstance(operator, cst.Multiply):
                return left * right
            if isinstance(operator, cst.Power):
                return float(left**right)
            if isinstance(operator, cst.Add):
                return left + right
            if isinstance(operator, cst.Subtract):
                return left - right
        except (ZeroDivisionError, OverflowError, TypeError):  # TypeError: a complex power
            return None
        return None
    return leaf(node) if leaf is not None else None


def _through(node: cst.BaseExpression, outer: Mapping[str, cst.BaseExpression]) -> cst.BaseExpression:
    return outer.get(node.value, node) if isinstance(node, cst.Name) else node


def constant_test(test: cst.BaseExpression, defaults: Mapping[str, cst.BaseExpression]) -> bool | None:
    """``act == "relu"`` or ``not act == "relu"`` where ``act`` is a parameter with a string
    default: evaluated with the defaults; else None. A string default names the configuration a
    class is written for; a flag's (``use_norm=False``, ``proj=None``) says nothing of how its
    constructions set it, so a test of a flag stays undecided."""
    if isinstance(test, cst.UnaryOperation) and isinstance(test.operator, cst.Not):
        verdict = constant_test(test.expression, defaults)
        return None if verdict is None else not verdict
    if not (isinstance(test, cst.Comparison) and len(test.comparisons) == 1):
        return None
    operator = test.comparisons[0].operator
    if not isinstance(operator, (cst.Equal, cst.NotEqual, cst.Is, cst.IsNot)):
        return None
    values = []
    for side in (test.left, test.comparisons[0].comparator):
        if isinstance(side, cst.Name) and side.value in defaults:
            side = defaults[side.value]
        if not isinstance(side, cst.SimpleString):
            return None
        values.append(side.evaluated_value)
    equal = values[0] == values[1]
    return equal if isinstance(operator, (cst.Equal, cst.Is)) else not equal


def optional_default(node: cst.BaseExpression) -> cst.BaseExpression | None:
    """The default of an option the caller may set: ``D`` in ``opts["act"] if "act" in opts else
    D``, ``opts.get("act", D)`` and ``getattr(opts, "act", D)``. As with a parameter's default,
    the class is judged as written for it; None for another expression."""
    if isinstance(node, cst.IfExp) and isinstance(node.test, cst.Comparison) and len(node.test.comparisons) == 1:
        comparison = node.test.comparisons[0]
        key, options = node.test.left, comparison.comparator
        given, default = {cst.In: (node.body, node.orelse), cst.NotIn: (node.orelse, node.body)}.get(
            type(comparison.operator), (None, None))
        if isinstance(key, cst.SimpleString) and isinstance(given, cst.Subscript) and len(given.slice) == 1 \
                and isinstance(index := given.slice[0].slice, cst.Index) and index.value.deep_equals(key) \
                and given.value.deep_equals(options):
            return default
        return None
    if not isinstance(node, cst.Call) or len(node.args) != (2 if isinstance(node.func, cst.Attribute) else 3) \
            or any(arg.keyword is not None or arg.star for arg in node.args):
        return None
    if isinstance(node.func, cst.Attribute) and node.func.attr.value == "get" and isinstance(node.func.value, cst.Name):
        key, default = node.args[0].value, node.args[1].value
    elif isinstance(node.func, cst.Name) and node.func.value == "getattr":
        key, default = node.args[1].value, node.args[2].value
    else:
        return None
    return default if isinstance(key, cst.SimpleString) else None


def literal_value(node: cst.BaseExpression) -> tuple[bool, object]:
    """(True, the value) of a literal (number, string, True, False, None); (False, None) else."""
    if isinstance(node, (cst.Integer, cst.Float, cst.SimpleString)):
        return True, node.evaluated_value
    if isinstance(node, cst.Name) and node.value in _CONSTANT_NAMES:
        return True, _CONSTANT_NAMES[node.value]
    return False, None


_CONSTANT_NAMES: Mapping[str, object] = {"True": True, "False": False, "None": None}


def tensor_behind(node: cst.BaseExpression, methods: frozenset[str] | None = None,
                  calls: Callable[[cst.Call], cst.BaseExpression | None] | None = None) -> cst.BaseExpression:
    """The tensor an operand reads, through ``.T``, ``.data``, indexing and method calls
    (``self.w.t()``, ``self.w[:, :k]``); ``methods``: the calls looked through (None: every one);
    ``calls``: what a call reads where it knows (``torch.cat([w] * n)`` reads ``w``; the call
    itself: it reads no one tensor), asked first."""
    while True:
        if calls is not None and isinstance(node, cst.Call) and (read := calls(node)) is not None:
            if read is node:
                return node
            node = read
        elif isinstance(node, cst.Call) and isinstance(node.func, cst.Attribute) \
                and (methods is None or node.func.attr.value in methods):
            node = node.func.value
        elif isinstance(node, cst.Attribute) and node.attr.value in ("T", "mT", "data"):
            node = node.value
        elif isinstance(node, cst.Subscript):
            node = node.value
        else:
            return node


def accessed_attribute(node: cst.BaseExpression) -> tuple[cst.BaseExpression, str] | None:
    """(``x``, ``"w"``) for ``x.w`` and for ``getattr(x, "w")``, which Python evaluates alike; the
    name as ``name_text`` gives it."""
    if isinstance(node, cst.Attribute):
        return node.value, node.attr.value
    if not (isinstance(node, cst.Call) and isinstance(node.func, cst.Name) and node.func.value == "getattr"
            and len(node.args) in (2, 3) and all(arg.keyword is None and not arg.star for arg in node.args)):
        return None
    name = name_text(node.args[1].value)
    return (node.args[0].value, name) if name is not None else None


def self_attribute_name(node: cst.BaseExpression) -> str | None:
    """``x`` of ``self.x`` and of ``getattr(self, "x")``."""
    accessed = accessed_attribute(node)
    if accessed is not None and isinstance(accessed[0], cst.Name) and accessed[0].value == "self":
        return accessed[1]
    return None


def name_text(node: cst.BaseExpression) -> str | None:
    """The attribute name a string expression gives: a literal's value; for a name an f-string or
    ``str.format`` builds (``f"w{i}"``, ``"w{}".format(i)``), its fixed text with each field as the
    expression written for it (``w{i}`` both ways): it stands for the attributes a loop makes
    under that text and reads back with the same expression."""
    if isinstance(node, cst.SimpleString) and isinstance(node.evaluated_value, str):
        return node.evaluated_value
    if isinstance(node, cst.FormattedString):
        return "".join(part.value if isinstance(part, cst.FormattedStringText) else _field(part.expression)
                       for part in node.parts)
    if isinstance(node, cst.BinaryOperation) and isinstance(node.operator, cst.Modulo):
        return _printf_text(node.left, node.right)
    if not (isinstance(node, cst.Call) and isinstance(node.func, cst.Attribute) and node.func.attr.value == "format"
            and isinstance(node.func.value, cst.SimpleString) and isinstance(node.func.value.evaluated_value, str)
            and not any(arg.star for arg in node.args)):
        return None
    positional = [arg.value for arg in node.args if arg.keyword is None]
    keywords = {arg.keyword.value: arg.value for arg in node.args if arg.keyword is not None}
    text: list[str] = []
    try:
        for number, (literal, field_name, _, _) in enumerate(string.Formatter().parse(node.func.value.evaluated_value)):
            text.append(literal)
            if field_name is None:
                continue
            key = field_name or str(number)
            value = positional[int(key)] if key.isdigit() and int(key) < len(positional) else keywords.get(key)
            if value is None:
                return None
            text.append(_field(value))
    except ValueError:
        return None  # a malformed format string: Python raises, no attribute is named
    return "".join(text)


#: A printf-style conversion: ``%d``, ``%03i``, ``%s``, ``%%``; a mapping key or a ``*`` width
#: (which take their value another way) is not matched, and the name is then not read.
_CONVERSION = re.compile(r"%(?:%|[#0 +-]*\d*(?:\.\d+)?[hlL]?[diouxXeEfFgGcrsa])")


def _printf_text(template: cst.BaseExpression, values: cst.BaseExpression) -> str | None:
    """The name ``"conv%d" % i`` builds, as ``name_text`` gives the other spellings (``conv{i}``):
    each conversion replaced by the expression it formats, in order, as ``%`` takes them."""
    if not (isinstance(template, cst.SimpleString) and isinstance(template.evaluated_value, str)):
        return None
    items = [e.value for e in values.elements] if isinstance(values, cst.Tuple) else [values]
    if any(isinstance(item, cst.StarredElement) for item in items) or isinstance(values, cst.Dict):
        return None
    text, fields = template.evaluated_value, iter(items)
    parts, end = [], 0
    for found in _CONVERSION.finditer(text):
        parts.append(text[end:found.start()])
        end = found.end()
        if found.group() == "%%":
            parts.append("%")
            continue
        item = next(fields, None)
        if item is None:
            return None  # too few values: Python raises, no attribute is named
        parts.append(_field(item.with_changes(lpar=[], rpar=[]) if getattr(item, "lpar", None) else item))
    rest = text[end:]
    if "%" in rest or next(fields, None) is not None:
        return None  # a conversion not read, or values left over (a TypeError in Python)
    return "".join(parts) + rest


def _field(expression: cst.BaseExpression) -> str:
    return "{" + cst.Module([]).code_for_node(expression) + "}"


def keyword_is(call: cst.Call, keyword: str, value: bool) -> bool:
    """Whether the call passes ``keyword=True`` (``False``) literally."""
    spelled = str(value)
    return any(arg.keyword is not None and arg.keyword.value == keyword
               and isinstance(arg.value, cst.Name) and arg.value.value == spelled for arg in call.args)


def argument(call: cst.Call, position: int, keyword: str) -> cst.BaseExpression | None:
    """The expression passed for a parameter, by keyword or by position (None if absent)."""
    for arg in call.args:
        if arg.keyword is not None and arg.keyword.value == keyword:
            return arg.value
    positional = [arg for arg in call.args if arg.keyword is None and not arg.star]
    if position < len(positional):
        return positional[position].value
    return None


def product_factors(call: cst.Call, names: Iterable[str]) -> list[cst.BaseExpression] | None:
    """The factors of a matrix product called by one of the qualified ``names``
    (``F.linear(x, w, b)``: ``[x, w]``), each bound as Python binds it; None for another call."""
    for name in names:
        if name in knowledge.PRODUCT_OPERANDS:
            positional = [arg.value for arg in call.args if arg.keyword is None and not arg.star]
            found = (argument(call, i, keyword) if keyword else (positional[i] if i < len(positional) else None)
                     for i, keyword in knowledge.PRODUCT_OPERANDS[name])
            return [factor for factor in found if factor is not None]
    return None


def added_bias(call: cst.Call, names: Iterable[str]) -> cst.BaseExpression | None:
    """The bias a product call adds, as Python binds it: ``F.linear(x, w, b)``'s ``b``,
    ``torch.addmm(b, x, w)``'s and, with no qualified name, a tensor's ``b.addmm(x, w)``."""
    names = list(names)
    for name in names:
        if name in knowledge.PRODUCT_BIAS:
            return argument(call, *knowledge.PRODUCT_BIAS[name])
    func = call.func
    if not names and isinstance(func, cst.Attribute) and knowledge.MATRIX_METHODS.get(func.attr.value) is False:
        return func.value
    return None


def method_factors(call: cst.Call) -> list[cst.BaseExpression] | None:
    """The factors of a tensor's product method: ``x.mm(w)``: ``[x, w]``, ``b.addmm(x, w)``:
    ``[x, w]``; None for another call. The caller makes sure the receiver is a tensor."""
    func = call.func
    if not isinstance(func, cst.Attribute) or func.attr.value not in knowledge.MATRIX_METHODS:
        return None
    positional = [arg.value for arg in call.args if arg.keyword is None and not arg.star]
    return [func.value, *positional[:1]] if knowledge.MATRIX_METHODS[func.attr.value] else positional[:2]


@dataclass
class LocalList:
    """A list of modules built up in a function (``layers = []; layers.append(...)``)."""

    items: list[cst.BaseExpression] = field(default_factory=list)
    #: Some items were appended inside a loop: they stand for several in a row.
    repeated: bool = False


def list_key(node: cst.BaseExpression | None) -> str | None:
    """The key of the list of modules a name or a module's attribute holds while a function
    builds it (``layers``, ``self.blocks = []`` before ``nn.ModuleList(self.blocks)``)."""
    if isinstance(node, cst.Name):
        return node.value
    name = self_attribute_name(node) if node is not None else None
    return f"self.{name}" if name is not None else None


class ModuleFactory(Protocol):
    """A function of the file that returns a module it builds (``lint/model/builders.py``)."""

    def expand(self, builder: SubmoduleBuilder, path: str, call: cst.Call,
               defaults: Mapping[str, cst.BaseExpression]) -> Submodule: ...


class SubmoduleBuilder:
    """Turns constructor expressions into :class:`Submodule` trees."""

    def __init__(self, qualified_names: QualifiedNames, local_classes: frozenset[str],
                 pass_through: Mapping[str, cst.FunctionDef] | None = None,
                 leaf_subclasses: Mapping[str, str] | None = None,
                 builders: Mapping[str, ModuleFactory] | None = None,
                 factories: Mapping[str, tuple[cst.FunctionDef, cst.BaseExpression]] | None = None,
                 tables: Mapping[str, Mapping[str, cst.BaseExpression]] | None = None) -> None:
        self._names = qualified_names
        #: The module's tables from a name to a layer or activation (``ACT2FN = {"gelu": F.gelu}``):
        #: ``ACT2FN["gelu"]`` is ``F.gelu``, ``ACTS[act]()`` with ``act="relu"`` its entry called.
        self._tables = tables or {}
        self._local_classes = local_classes
        #: Classes of the file that only specialise a torch.nn layer (``class LayerNorm2d(nn.LayerNorm)``
        #: with its own forward but no layers of its own): they are what their base is.
        self._leaf_subclasses = leaf_subclasses or {}
        #: Functions of the file that return the module they are given, after initialising it
        #: (``init_layer(nn.Linear(...), std=0.01)``), by name.
        self._pass_through = pass_through or {}
        #: Functions of the file that build and return a Sequential (``mlp(sizes, nn.ReLU)``).
        self._builders = builders or {}
        #: Functions of the file that build a module and return it (``def Conv1d(...): m =
        #: nn.Conv1d(...); init(m.weight); return m``): each with the expression that builds it.
        self._factories = factories or {}
        self._expanding: set[str] = set()
        #: Local lists of the function being read, for ``nn.Sequential(*layers)``.
        self.lists: dict[str, LocalList] = {}
        #: The module each call of a pass-through function built, by id of the call.
        self.passed: dict[int, Submodule] = {}
        #: The modules ``self`` holds where the expression being built is read (``__init__``'s
        #: ``nn.Sequential(self.fc1, nn.ReLU())``): a container takes that very module.
        self.members: Mapping[str, Submodule] = {}

    @contextlib.contextmanager
    def reading(self, members: Mapping[str, Submodule]) -> Iterator[None]:
        """Build with ``self.<name>`` meaning the module ``members`` holds under that name (the
        class's attributes where its ``__init__`` is read)."""
        self.members = members
        try:
            yield
        finally:
            self.members = {}

    def build(self, path: str, node: cst.BaseExpression,
              defaults: Mapping[str, cst.BaseExpression] | None = None) -> Submodule | None:
        """A Submodule if ``node`` constructs a module, else None (not a module at all).

        ``defaults`` are the enclosing function's parameter defaults, so that ``act_layer()``
        with ``act_layer=nn.GELU`` is a GELU and ``nn.ReLU() if act == "relu" else nn.GELU()``
        with ``act="relu"`` is a ReLU.
        """
        defaults = defaults or {}
        if isinstance(node, cst.IfExp):
            return self._choose(path, node, defaults)
        if (entry := self._table_entry(node, defaults)) is not None:
            return self.build(path, entry, defaults)
        if (default := optional_default(node)) is not None:
            return self.build(path, default, defaults)
        if isinstance(node, cst.Call) and (entry := self._table_entry(node.func, defaults)) is not None:
            return self.build(path, node.with_changes(func=entry), defaults)
        if isinstance(node, cst.Name) and node.value in defaults:
            return self.build(path, defaults[node.value])
        if isinstance(node, cst.Call) and isinstance(node.func, cst.Name) and node.func.value in defaults:
            return self.build(path, node.with_changes(func=defaults[node.func.value]))
        if isinstance(node, cst.Attribute) and isinstance(node.value, cst.Name) and node.value.value == "self" \
                and node.attr.value in self.members:
            return placed(self.members[node.attr.value], path)
        if not isinstance(node, cst.Call):
            return self._functional_activation(path, node)
        if self._names(node.func) & knowledge.MODULE_COPIES and node.args and not node.args[0].star:
            return self.build(path, node.args[0].value, defaults)  # a copy has the module's layers
        if isinstance(node.func, cst.Name) and node.func.value in self._pass_through:
            argument_node = returned_argument(self._pass_through[node.func.value], node)
            built = self.build(path, argument_node, defaults) if argument_node is not None else None
            if built is not None:
                self.passed[id(node)] = built
            return built
        if isinstance(node.func, cst.Name) and node.func.value in self._builders:
            return self._builders[node.func.value].expand(self, path, node, defaults)
        imported_builder = getattr(self._local_classes, "imported_builder", None)
        summary = imported_builder(node.func.value) if imported_builder is not None \
            and isinstance(node.func, cst.Name) else None
        if summary is not None:  # a builder of another project file (``from layers import mlp``)
            return summary.expand(self, path, node, defaults)
        torch_class = torch_nn_class(self._names(node.func))
        if torch_class is not None:
            return self.torch_module(path, torch_class, node, defaults)
        if isinstance(node.func, cst.Name) and node.func.value in self._factories \
                and node.func.value not in self._expanding:
            built = self._factory_made(path, node, defaults)
            if built is not None:
                self.passed[id(node)] = built
            return built
        imported = getattr(self._local_classes, "imported_factory", None)
        made = imported(node.func.value) if imported is not None and isinstance(node.func, cst.Name) else None
        if made is not None:  # built by a factory function of another project file
            built = placed(made, path)
            self.passed[id(node)] = built
            return built
        if isinstance(node.func, cst.Name) and node.func.value in self._leaf_subclasses:
            return self.torch_module(path, self._leaf_subclasses[node.func.value], node)
        spelled = get_full_name_for_node(node.func)  # ``Block()``, or ``blocks.Block()`` of an imported module
        if spelled is not None and spelled in self._local_classes:
            base = getattr(self._local_classes, "torch_base", None)
            inherited = base(spelled) if base is not None else None
            if inherited is not None:  # a project class that only specialises a torch.nn layer
                return self.torch_module(path, inherited, node)
            return Submodule(path, LayerKind.CUSTOM, spelled, node)
        return None

    def _factory_made(self, path: str, call: cst.Call,
                      outer: Mapping[str, cst.BaseExpression]) -> Submodule | None:
        """The module a call of a factory function of the file returns: what the factory builds,
        a class it takes as a parameter read from the call's arguments and its defaults. An
        argument naming a parameter of the calling function stands for that one's default
        (``activation_fn(activation)`` in ``__init__(self, activation="relu")``)."""
        name = call.func.value  # type: ignore[attr-defined]
        function, made = self._factories[name]
        values = {p.name.value: p.default for p in (*function.params.params, *function.params.kwonly_params)
                  if p.default is not None}
        positional = [p.name.value for p in (*function.params.posonly_params, *function.params.params)]
        for parameter, arg in zip(positional, (a for a in call.args if a.keyword is None), strict=False):
            if arg.star:
                break
            values[parameter] = _through(arg.value, outer)
        for arg in call.args:
            if arg.keyword is not None:
                values[arg.keyword.value] = _through(arg.value, outer)
        self._expanding.add(name)
        try:
            return self.build(path, made, values)
        finally:
            self._expanding.discard(name)

    def _choose(self, path: str, node: cst.IfExp, defaults: Mapping[str, cst.BaseExpression]) -> Submodule | None:
        if (default := optional_default(node)) is not None:
            return self.build(path, default, defaults)
        verdict = constant_test(node.test, defaults)
        if verdict is not None:
            return self.build(path, node.body if verdict else node.orelse, defaults)
        body, orelse = self.build(path, node.body, defaults), self.build(path, node.orelse, defaults)
        if body is not None and orelse is not None and body.kind is orelse.kind is LayerKind.ACTIVATION \
                and body.activation == orelse.activation:
            return body
        return None if body is None and orelse is None else Submodule(path, LayerKind.UNKNOWN, None, node)

    def torch_module(self, path: str, class_name: str, node: cst.Call,
                     defaults: Mapping[str, cst.BaseExpression] | None = None) -> Submodule:
        """A torch.nn layer; a container's items are built with the enclosing function's
        parameter ``defaults`` (``nn.Sequential(nn.Linear(...), act_layer())``)."""
        defaults = defaults or {}
        kind = knowledge.layer_kind(class_name) or LayerKind.UNKNOWN
        module = Submodule(path, kind, class_name, node)
        if kind is LayerKind.ACTIVATION:
            module.activation, module.slope = activation_module(class_name, node)
        elif class_name == knowledge.SEQUENTIAL:
            module.sequential = True
            module.children = self._sequential_children(path, node, module, defaults)
        elif class_name == "ModuleList":
            items = argument(node, 0, "modules")
            if isinstance(items, (cst.List, cst.Tuple)):
                module.children = self._indexed(path, [e.value for e in items.elements], defaults)
            elif (element := repeated_element(items)) is not None:
                module.children = self._indexed(path, [element[0]], _outside(element[1], defaults))
                module.repeated = True
            elif (key := list_key(items)) in self.lists:
                local = self.lists[key]
                module.children, module.repeated = self._indexed(path, local.items, defaults), local.repeated
        elif class_name in knowledge.LAYER_STACKS:
            module.children = self._stacked(path, node, class_name, defaults)
        elif class_name == "ModuleDict":
            items = argument(node, 0, "modules")
            if isinstance(items, cst.Dict):
                module.children = self._named(path, [
                    (e.key, e.value) for e in items.elements if isinstance(e, cst.DictElement)
                ], defaults)
        return module

    def _stacked(self, path: str, node: cst.Call, class_name: str,
                 defaults: Mapping[str, cst.BaseExpression]) -> list[Submodule]:
        """``nn.TransformerEncoder(layer, n, norm)``: copies of ``layer`` in ``layers`` (the one
        built stands for each), then ``norm``."""
        keyword, norm_position = knowledge.LAYER_STACKS[class_name]
        given = argument(node, 0, keyword)
        layer = self.build(f"{path}.layers.0", given, defaults) if given is not None else None
        if layer is None:
            return []
        layers = Submodule(f"{path}.layers", LayerKind.CONTAINER, "ModuleList", node, children=[layer], repeated=True)
        norm_node = argument(node, norm_position, "norm")
        norm = self.build(f"{path}.norm", norm_node, defaults) if norm_node is not None else None
        return [layers] if norm is None else [layers, norm]

    def _sequential_children(self, path: str, node: cst.Call, module: Submodule,
                             defaults: Mapping[str, cst.BaseExpression]) -> list[Submodule]:
        positional = [arg.value for arg in node.args if arg.keyword is None and not arg.star]
        if any(arg.star for arg in node.args):
            starred = node.args[0].value if len(node.args) == 1 else None
            element = repeated_element(starred) if starred is not None else None
            if element is not None:
                module.repeated = True  # nn.Sequential(*[Block() for _ in range(n)])
                return self._indexed(path, [element[0]], _outside(element[1], defaults))
            if isinstance(starred, (cst.List, cst.Tuple)) and all(isinstance(e, cst.Element) for e in starred.elements):
                return self._indexed(path, [e.value for e in starred.elements], defaults)  # nn.Sequential(*[a, b])
            if (key := list_key(starred)) in self.lists:
                local = self.lists[key]
                module.repeated = local.repeated
                return self._indexed(path, local.items, defaults)
            spread = self._spread(node, defaults) if starred is None else None
            if spread is not None:  # nn.Sequential(a, *[Block() for _ in range(4)], b)
                return [self.build(f"{path}.{i}", item, seen) or Submodule(f"{path}.{i}", LayerKind.UNKNOWN, None, item)
                        for i, (item, seen) in enumerate(spread)]
            return []  # built some other way: unknown
        if len(positional) == 1 and isinstance(positional[0], cst.Call):
            pairs = self._ordered_dict_items(positional[0])
            if pairs is not None:
                return self._named(path, pairs, defaults)
        return self._indexed(path, positional, defaults)

    def _spread(self, node: cst.Call, defaults: Mapping[str, cst.BaseExpression]
                ) -> list[tuple[cst.BaseExpression, Mapping[str, cst.BaseExpression]]] | None:
        """The items positional arguments give, starred ones spread as Python spreads them: a list
        or tuple written out, a comprehension over ``range(n)`` with ``n`` a literal or a default
        (its element ``n`` times, seeing the defaults its own names do not hide); None where how
        many items an argument gives is not known."""
        items: list[tuple[cst.BaseExpression, Mapping[str, cst.BaseExpression]]] = []
        for arg in node.args:
            if arg.keyword is not None:
                continue
            if not arg.star:
                items.append((arg.value, defaults))
            elif isinstance(arg.value, (cst.List, cst.Tuple)) and all(isinstance(e, cst.Element) for e in arg.value.elements):
                items += [(e.value, defaults) for e in arg.value.elements]
            elif arg.star == "*" and (element := repeated_element(arg.value)) is not None \
                    and (count := _range_count(arg.value, defaults)) is not None:
                items += [(element[0], _outside(element[1], defaults))] * count
            else:
                return None
        return items

    def _table_entry(self, node: cst.BaseExpression, defaults: Mapping[str, cst.BaseExpression]
                     ) -> cst.BaseExpression | None:
        """The entry ``TABLE["key"]`` reads from a module-level table, the key a literal or a
        parameter's literal default; None for anything else."""
        if not (isinstance(node, cst.Subscript) and isinstance(node.value, cst.Name) and node.value.value in self._tables
                and len(node.slice) == 1 and isinstance(node.slice[0].slice, cst.Index)):
            return None
        key = node.slice[0].slice.value
        if isinstance(key, cst.Name):
            key = defaults.get(key.value, key)
        text = key.evaluated_value if isinstance(key, cst.SimpleString) else None
        return self._tables[node.value.value].get(text) if isinstance(text, str) else None

    def _ordered_dict_items(self, call: cst.Call) -> list[tuple[cst.BaseExpression, cst.BaseExpression]] | None:
        names = self._names(call.func)
        if not any(n.endswith("OrderedDict") for n in names):
            return None
        items = argument(call, 0, "")
        if not isinstance(items, (cst.List, cst.Tuple)):
            return None
        pairs = []
        for element in items.elements:
            value = element.value
            if isinstance(value, cst.Tuple) and len(value.elements) == 2:
                pairs.append((value.elements[0].value, value.elements[1].value))
        return pairs

    def add_children(self, container: Submodule, nodes: list[cst.BaseExpression],
                     names: list[str] | None = None, repeated: bool = False,
                     defaults: Mapping[str, cst.BaseExpression] | None = None) -> None:
        """``container.append(x)`` / ``add_module(name, x)`` in ``__init__``; ``defaults`` as
        :meth:`build` takes them."""
        for index, node in enumerate(nodes):
            key = names[index] if names else str(len(container.children))
            path = f"{container.path}.{key}"
            container.children.append(self.build(path, node, defaults)
                                      or Submodule(path, LayerKind.UNKNOWN, None, node))
        container.repeated = container.repeated or repeated

    def _indexed(self, path: str, nodes: list[cst.BaseExpression],
                 defaults: Mapping[str, cst.BaseExpression]) -> list[Submodule]:
        return [
            self.build(f"{path}.{i}", n, defaults) or Submodule(f"{path}.{i}", LayerKind.UNKNOWN, None, n)
            for i, n in enumerate(nodes)
        ]

    def _named(self, path: str, pairs: list[tuple[cst.BaseExpression, cst.BaseExpression]],
               defaults: Mapping[str, cst.BaseExpression]) -> list[Submodule]:
        children = []
        for key, value in pairs:
            if not isinstance(key, cst.SimpleString):
                return []
            name = f"{path}.{key.evaluated_value}"
            children.append(self.build(name, value, defaults) or Submodule(name, LayerKind.UNKNOWN, None, value))
        return children

    def _functional_activation(self, path: str, node: cst.CSTNode) -> Submodule | None:
        """``self.act = F.relu`` / ``torch.tanh``: a function used like an activation module."""
        for name in self._names(node):
            if name.startswith(("torch.nn.functional.", "torch.")):
                last = name.rsplit(".", 1)[-1]
                if last in knowledge.ACTIVATION_FUNCTIONS:
                    activation = knowledge.ACTIVATION_FUNCTIONS[last]
                    slope = 0.01 if activation == "leaky_relu" else None
                    return Submodule(path, LayerKind.ACTIVATION, None, node, activation, slope)
        return None


def loop_names(comprehension: cst.ListComp | cst.SetComp | cst.DictComp | cst.GeneratorExp) -> set[str]:
    """The names a comprehension's loops bind: its own, not the enclosing function's."""
    names: set[str] = set()
    clause: cst.CompFor | None = comprehension.for_in
    while clause is not None:
        names |= target_names([clause.target])
        clause = clause.inner_for_in
    return names


def repeated_element(items: cst.BaseExpression | None) -> tuple[cst.BaseExpression, set[str]] | None:
    """The expression an iterable makes each of its items with, and the names it binds for it:
    a comprehension's element (``[Block(c) for c in dims]``), a lambda's body that ``map`` calls
    on each item (``map(lambda d: nn.Linear(*d), pairs)``), either through ``list(...)`` or
    ``tuple(...)``, which keep the items; None for another expression."""
    items = _listed(items)
    if isinstance(items, (cst.ListComp, cst.GeneratorExp)):
        return items.elt, loop_names(items)
    if isinstance(items, cst.Call) and isinstance(items.func, cst.Name) and items.func.value == "map" \
            and len(items.args) >= 2 and isinstance(items.args[0].value, cst.Lambda):
        function = items.args[0].value
        return function.body, set(parameter_names(function))
    return None


def _listed(items: cst.BaseExpression | None) -> cst.BaseExpression | None:
    """The iterable ``list(...)`` or ``tuple(...)`` copies (which keeps its items), unwrapped."""
    while isinstance(items, cst.Call) and isinstance(items.func, cst.Name) and items.func.value in ("list", "tuple") \
            and len(items.args) == 1 and not items.args[0].star and items.args[0].keyword is None:
        items = items.args[0].value
    return items


#: More copies than this of one element stand for "many": each is the same layer as built.
_MAX_SPREAD = 64


def _range_count(items: cst.BaseExpression, defaults: Mapping[str, cst.BaseExpression]) -> int | None:
    """How many items a comprehension makes when it runs one ``for`` over ``range(n)`` (or
    ``range(a, b)``) under no ``if``, its bounds literals or parameters' literal defaults."""
    items = _listed(items)
    if not isinstance(items, (cst.ListComp, cst.GeneratorExp)):
        return None
    loop = items.for_in
    if loop.inner_for_in is not None or loop.ifs or not isinstance(loop.iter, cst.Call) \
            or not (isinstance(loop.iter.func, cst.Name) and loop.iter.func.value == "range") \
            or not 1 <= len(loop.iter.args) <= 2 or any(arg.star or arg.keyword for arg in loop.iter.args):
        return None
    bounds = [literal_number(defaults.get(arg.value.value, arg.value) if isinstance(arg.value, cst.Name) else arg.value)
              for arg in loop.iter.args]
    if any(bound is None or not bound.is_integer() for bound in bounds):
        return None
    count = int(bounds[-1] - (bounds[0] if len(bounds) == 2 else 0))  # type: ignore[operator]
    return min(max(count, 0), _MAX_SPREAD)


def _outside(own: set[str], defaults: Mapping[str, cst.BaseExpression]) -> Mapping[str, cst.BaseExpression]:
    """The defaults an element sees: those the names it binds itself (``own``) do not hide."""
    return {name: value for name, value in defaults.items() if name not in own} if own & defaults.keys() else defaults


def placed(module: Submodule, path: str) -> Submodule:
    """A copy of a module built without a place (or elsewhere), given ``path``."""
    copy = object.__new__(Submodule)
    copy.__dict__.update(module.__dict__, path=path, children=[
        placed(child, path + child.path[len(module.path):]) for child in module.children])
    return copy


def small_statements(function: cst.FunctionDef) -> Iterator[cst.BaseSmallStatement]:
    """The simple statements of a function's body and of the bodies of its compound statements
    (``if``/``elif``/``else``, ``for``/``while``, ``with``, ``try`` and its clauses); nested
    functions are their own."""
    # In the order they are written: the statements appended to a list are its items in order.
    pending: list[Iterator[cst.BaseStatement]] = [iter(function.body.body)] \
        if isinstance(function.body, cst.IndentedBlock) else []
    while pending:
        statement = next(pending[-1], None)
        if statement is None:
            pending.pop()
        elif isinstance(statement, cst.SimpleStatementLine):
            yield from statement.body
        elif isinstance(statement, (cst.If, cst.For, cst.While, cst.With, cst.Try)):
            pending.append(itertools.chain.from_iterable(_clauses(statement)))


def module_definitions(module: cst.Module) -> Iterator[cst.FunctionDef | cst.ClassDef]:
    """The classes and functions a module's own code defines: at its top level and in the blocks
    its top level runs (``if __name__ == "__main__":``, ``try:``/``except``, ``with``, loops),
    which bind module-level names as well; not those inside a class or a function. A later
    definition of a name comes later, as Python binds it."""
    return (statement for statement in _module_statements(module.body)
            if isinstance(statement, (cst.FunctionDef, cst.ClassDef)))


def module_tables(module: cst.Module) -> dict[str, dict[str, cst.BaseExpression]]:
    """The dicts written out with string keys that the module's top level binds to a name once
    (``ACT2FN = {"gelu": F.gelu, "relu": nn.ReLU}``), by name."""
    bound: dict[str, list[cst.BaseExpression]] = {}
    for statement in _module_statements(module.body):
        for small in statement.body if isinstance(statement, cst.SimpleStatementLine) else ():
            if isinstance(small, (cst.Assign, cst.AugAssign, cst.AnnAssign)):
                targets = [t.target for t in small.targets] if isinstance(small, cst.Assign) else [small.target]
                for target in targets:
                    if isinstance(target, cst.Name) and small.value is not None:
                        bound.setdefault(target.value, []).append(small.value)
    tables = {}
    for name, values in bound.items():
        table = values[0] if len(values) == 1 else None
        if isinstance(table, cst.Dict) and all(
                isinstance(e, cst.DictElement) and isinstance(e.key, cst.SimpleString) for e in table.elements):
            tables[name] = {e.key.evaluated_value: e.value for e in table.elements  # type: ignore[union-attr]
                            if isinstance(e.key.evaluated_value, str)}  # type: ignore[union-attr]
    return tables


def _module_statements(body: Sequence[cst.BaseStatement]) -> Iterator[cst.BaseStatement]:
    for statement in body:
        yield statement
        if isinstance(statement, (cst.If, cst.For, cst.While, cst.With, cst.Try)):
            for suite in _clauses(statement):
                yield from _module_statements(suite)


def _clauses(statement: cst.If | cst.For | cst.While | cst.With | cst.Try) -> Iterator[Sequence[cst.BaseStatement]]:
    """The statements of each suite a compound statement runs, in the order they are written:
    its body, its ``except`` clauses, its ``elif`` (an ``if`` of its own) or ``else``, its
    ``finally``."""
    suites: list[cst.BaseSuite | cst.If] = [statement.body]
    if isinstance(statement, cst.Try):
        suites += [handler.body for handler in statement.handlers]
    orelse = getattr(statement, "orelse", None)
    if orelse is not None:
        suites.append(orelse if isinstance(orelse, cst.If) else orelse.body)
    if isinstance(statement, cst.Try) and statement.finalbody is not None:
        suites.append(statement.finalbody.body)
    for suite in suites:
        if isinstance(suite, cst.If):
            yield [suite]
        elif isinstance(suite, cst.IndentedBlock):
            yield suite.body


def returned_parameter(function: cst.FunctionDef) -> str | None:
    """The parameter a function returns on every path (``def init_layer(layer, std): ...;
    return layer``), or None."""
    names = {p.name.value for p in (*function.params.posonly_params, *function.params.params)}
    returned = {small.value.value if isinstance(small.value, cst.Name) else ""
                for small in small_statements(function) if isinstance(small, cst.Return)}
    if len(returned) != 1:
        return None
    name = returned.pop()
    return name if name in names else None


#: torch functions that return the module they are given, its tensors' values kept (a weight
#: norm starts from the weight it finds: ``g`` is set to its norm, ``v`` to the weight itself).
_MODULE_RETURNING = frozenset({"torch.nn.utils.weight_norm", "torch.nn.utils.weight_norm.weight_norm",
                               "torch.nn.utils.parametrizations.weight_norm",
                               "torch.nn.utils.spectral_norm", "torch.nn.utils.spectral_norm.spectral_norm",
                               "torch.nn.utils.parametrizations.spectral_norm"})


def returned_module(function: cst.FunctionDef, names: QualifiedNames
                    ) -> tuple[str | None, cst.BaseExpression] | None:
    """What a function that makes a module returns on every path, looked through calls that
    return the module they are given (``return nn.utils.weight_norm(m)``, a pass-through helper
    of the file): the local name holding it, assigned once (``m = nn.Conv1d(...)``), with the
    expression that built it; or (None, the call) for ``return Conv1d(...)``. None for anything
    else: a parameter returned, several values, a name bound more than once."""
    smalls = list(small_statements(function))
    returns = [small.value for small in smalls if isinstance(small, cst.Return)]
    if not returns or any(value is None or not value.deep_equals(returns[0]) for value in returns):
        return None
    value = returns[0]
    parameters = {p.name.value for p in (*function.params.posonly_params, *function.params.params,
                                         *function.params.kwonly_params)}
    for _ in range(4):
        if not (isinstance(value, cst.Call) and value.args and not value.args[0].star
                and value.args[0].keyword is None and names(value.func) & _MODULE_RETURNING):
            break
        value = value.args[0].value
    if isinstance(value, cst.Call):
        return None, value
    if not isinstance(value, cst.Name) or value.value in parameters:
        return None
    assigned = [small for small in smalls if (
        isinstance(small, (cst.Assign, cst.AugAssign, cst.AnnAssign)) and value.value in _bound_names(small))]
    if len(assigned) != 1 or not isinstance(assigned[0], cst.Assign) or len(assigned[0].targets) != 1 \
            or not isinstance(assigned[0].targets[0].target, cst.Name):
        return None
    return value.value, assigned[0].value


def _bound_names(small: cst.Assign | cst.AugAssign | cst.AnnAssign) -> set[str]:
    return target_names([t.target for t in small.targets] if isinstance(small, cst.Assign) else [small.target])


def parameter_names(function: cst.FunctionDef | cst.Lambda) -> Iterator[str]:
    """The names of every parameter of ``function``, ``*args`` and ``**kwargs`` included."""
    params = function.params
    for param in (*params.posonly_params, *params.params, *params.kwonly_params):
        yield param.name.value
    for star in (params.star_arg, params.star_kwarg):
        if isinstance(star, cst.Param):
            yield star.name.value


def receiver_root(node: cst.BaseExpression) -> cst.BaseExpression:
    """``m`` of ``m.weight.data``, ``m.layers[0]`` and ``m.parameters()``."""
    while True:
        if isinstance(node, (cst.Attribute, cst.Subscript)):
            node = node.value
        elif isinstance(node, cst.Call) and isinstance(node.func, cst.Attribute):
            node = node.func.value
        else:
            return node


def target_names(targets: list[cst.BaseExpression]) -> set[str]:
    """The names assignment targets bind, unpacking included (``a, (b, *c) = ...``)."""
    found = set()
    while targets:
        target = targets.pop()
        if isinstance(target, cst.Name):
            found.add(target.value)
        elif isinstance(target, (cst.Tuple, cst.List)):
            targets.extend(e.value for e in target.elements)
        elif isinstance(target, cst.StarredElement):
            targets.append(target.value)
    return found


def returned_argument(function: cst.FunctionDef, call: cst.Call) -> cst.BaseExpression | None:
    """The argument of ``call`` bound to the parameter ``function`` returns."""
    name = returned_parameter(function)
    params = [p.name.value for p in (*function.params.posonly_params, *function.params.params)]
    if name is None:
        return None
    return argument(call, params.index(name), name)


#: Kinds a class takes from its torch.nn base when it adds no layers of its own.
INHERITED_KINDS = frozenset({LayerKind.NORM, LayerKind.ACTIVATION, LayerKind.DENSE, LayerKind.EMBEDDING})


def leaf_subclasses(module: cst.Module, names: QualifiedNames) -> dict[str, str]:
    """Classes of the file deriving from a torch.nn norm, activation, dense or embedding layer
    without assigning any ``self.<attribute>`` (so without layers of their own), mapped to
    that torch.nn class."""
    found = {}
    for statement in module_definitions(module):
        if not isinstance(statement, cst.ClassDef) or not statement.bases:
            continue
        base = torch_nn_class(names(statement.bases[0].value))
        if base is None or knowledge.layer_kind(base) not in INHERITED_KINDS:
            continue
        if not any(isinstance(node, cst.Attribute) and isinstance(node.value, cst.Name)
                   and node.value.value == "self" for node in _assigned(statement)):
            found[statement.name.value] = base
    return found


def _assigned(node: cst.CSTNode) -> Iterator[cst.BaseExpression]:
    """Targets of every assignment below ``node``."""
    for child in node.children:
        if isinstance(child, cst.Assign):
            yield from (target.target for target in child.targets)
        elif isinstance(child, (cst.AugAssign, cst.AnnAssign)):
            yield child.target
        yield from _assigned(child)


def viewed_name(node: cst.BaseExpression) -> str | None:
    """``p`` of ``p.data`` or ``p.detach()``: the name whose tensor an expression is, whole and
    in the same storage (None for an attribute, an index, a call or arithmetic)."""
    node = written_tensor(node)
    return node.value if isinstance(node, cst.Name) else None


def written_tensor(node: cst.BaseExpression) -> cst.BaseExpression:
    """``w`` of ``w.data`` / ``w.detach()``: the same storage, written whole (not ``w[0]``)."""
    while True:
        if isinstance(node, cst.Attribute) and node.attr.value == "data":
            node = node.value
        elif (isinstance(node, cst.Call) and not node.args and isinstance(node.func, cst.Attribute)
              and node.func.attr.value == "detach"):
            node = node.func.value
        else:
            return node
