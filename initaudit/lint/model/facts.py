"""The facts a file model records: classes and scopes, init operations, deprecated names."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import Any, Iterator, Mapping, Protocol, Sequence

import libcst as cst

from initaudit.lint.model.flow import Consumer, Summary
from initaudit.lint.model.modules import QualifiedNames, Submodule


class InitVia(str, Enum):
    """How an initialisation is written."""

    INIT = "init"  # a torch.nn.init call
    METHOD = "method"  # an in-place tensor method: w.zero_(), w.fill_(c), w.copy_(...)
    PARAMETER = "parameter"  # nn.Parameter(torch.zeros(...)) and the like
    #: ``layer.weight.data = make(shape)``, ``layer.weight = other.weight``: the tensor is replaced
    #: by a value that does not read it. No scheme is known; it only makes earlier ones void.
    ASSIGN = "assign"
    #: ``init_(self.w)`` where ``init_`` is a parameter defaulting to a ``torch.nn.init``
    #: function: the tensor is initialised in place by whatever the caller passes, the default
    #: only where it passes nothing. No scheme is known; it only makes earlier ones void.
    INJECTED = "injected"
    #: ``w[:, 0::2] = table``: part of the tensor written in place with a value of no known
    #: scheme. It initialises nothing and voids nothing; autograd forbids it on a Parameter.
    SETITEM = "setitem"


#: The path under which a write to a tensor of no known layer (a bare Parameter) is recorded as
#: superseded.
BARE_TENSOR = "<self>"


@dataclass
class ModuleClass:
    """An nn.Module subclass of the file, or a local scope (module body, function) that builds
    layers in variables — for those, ``attributes`` holds the variables."""

    name: str
    node: cst.CSTNode
    is_module: bool = False
    #: Names of the base classes (as written), to find inherited methods defined in this file.
    bases: list[str] = field(default_factory=list)
    attributes: dict[str, Submodule] = field(default_factory=dict)
    #: ``self.w = nn.Parameter(...)``: name -> number of dimensions (None if unknown).
    parameters: dict[str, int | None] = field(default_factory=dict)
    #: Parameters made ``(n, 1)``: which of their dimensions a product contracts, and so their
    #: fan-in, depends on how it is written (``x @ self.w`` or ``t @ self.w.T``).
    column_parameters: set[str] = field(default_factory=set)
    #: Parameters made with ``requires_grad=False`` wherever they are made: autograd does not
    #: guard them, so writing into them in place raises nothing.
    frozen_parameters: set[str] = field(default_factory=set)
    #: Attributes used as a weight: an operand of ``@``, ``matmul``, ``F.linear``, ``F.conv*``.
    matrix_parameters: set[str] = field(default_factory=set)
    #: Attributes a product adds as its bias (``F.linear(x, self.w, self.b)``): never a weight.
    bias_parameters: set[str] = field(default_factory=set)
    #: Bare Parameters that ``forward`` multiplies by (``self.gamma * x``).
    scaling_parameters: set[str] = field(default_factory=set)
    #: ``forward`` divides by the root of a spread statistic (``(x - mean) / torch.sqrt(var)``).
    normalises: bool = False
    #: Parameters whose values an assignment replaces (``self.w.data = kernel_init(shape)``):
    #: what they start from is not known statically.
    data_assigned: set[str] = field(default_factory=set)
    methods: dict[str, cst.FunctionDef] = field(default_factory=dict)
    #: Not built as a submodule by any other class of the file: its output is the model's.
    is_root: bool = True
    #: Sequence number of the first ``self.<method>(...)`` call in ``__init__``, by method.
    init_calls: dict[str, int] = field(default_factory=dict)
    #: ``self.<method>(...)`` calls, by calling method: the method called and the ``if``
    #: statements the call runs under.
    self_calls: dict[str, list[tuple[str, tuple[cst.If, ...]]]] = field(default_factory=dict)
    #: Attributes each method assigns (``self.x = ...``), by method.
    assigned: dict[str, set[str]] = field(default_factory=dict)
    #: ``self.encoder = encoder`` in ``__init__``: attribute -> (parameter, the assigned name).
    argument_attributes: dict[str, tuple[str, cst.Name]] = field(default_factory=dict)
    #: Of those, the attributes that hold None: no construction of the file passes the parameter,
    #: which defaults to None (``norm=None``; ``self.norm = norm``).
    none_attributes: set[str] = field(default_factory=set)
    #: Each binding of an attribute in ``__init__`` itself, as the ``if`` tests (and the arm,
    #: True for the body) and the iterables of the loops it runs under: a construction's
    #: literals may decide them.
    arms: dict[str, list[tuple[tuple[cst.BaseExpression, bool], ...]]] = field(default_factory=dict)
    #: The modules ``__init__`` binds to an attribute in the arms of its ``if`` tests, each with
    #: those tests (``if act == "tanh": self.act = torch.tanh``): what the attribute holds in a
    #: configuration the defaults do not take.
    options: dict[str, list[tuple[tuple[tuple[cst.BaseExpression, bool], ...], Submodule]]] = field(
        default_factory=dict)

    def norm_scales(self) -> frozenset[str]:
        """The Parameters that scale the normalised input: a custom norm layer's weight."""
        if not self.normalises:
            return frozenset()
        return frozenset(p for p in self.scaling_parameters if p in self.parameters)

    def layers(self) -> Iterator[Submodule]:
        """The layers the class's code builds, as written: instances of classes not composed
        (``FileModel.layers`` gives them their class's layers)."""
        for module in self.attributes.values():
            yield from module.walk()


@dataclass(frozen=True)
class Target:
    """What an init operation writes: a parameter of one or several layers, or a bare Parameter."""

    owner: ModuleClass
    layers: tuple[Submodule, ...]  # empty for a bare Parameter attribute
    param: str
    #: The layers are known precisely (a direct reference or an isinstance-narrowed loop).
    exact: bool = True
    parameter_ndim: int | None = None
    #: Each layer stands for every layer of its class, built with arguments unknown: a helper's
    #: class tests fix what it writes, judged where it is written (``targets._by_class``).
    by_class: bool = False
    #: Written by a loop that also writes their vectors (biases, under no test): a fan-based
    #: init in the operation's place would raise on the first of them.
    with_vectors: bool = False


@dataclass(frozen=True)
class InitOp:
    """One initialisation of a tensor."""

    node: cst.Call | cst.Assign
    function: str  # canonical torch.nn.init name: "zeros_", "constant_", "xavier_uniform_", ...
    via: InitVia
    args: dict[str, cst.BaseExpression]
    target_node: cst.BaseExpression | None
    owner: ModuleClass | None
    method: str | None
    seq: int
    #: The function or method the operation is written in (None at module level).
    scope_node: cst.FunctionDef | None = None
    #: Every function the operation is written in, outermost first (closures included).
    enclosing: tuple[cst.FunctionDef, ...] = ()
    in_no_grad: bool = False
    target: Target | None = None
    #: Per layer path: a later operation in the same class rewrites this one's result.
    superseded: frozenset[str] = frozenset()
    #: Enclosing ``if`` tests: (node, in the body rather than the else, loops open at that point).
    conditions: tuple[tuple[cst.If, bool, int], ...] = ()
    loops: tuple[cst.For, ...] = ()
    #: The operation as written, where ``node`` is the call in this file that runs it (a helper
    #: of another file): what it writes through (``.data``) is read there.
    written: cst.Call | cst.Assign | None = None
    #: Local names rebound before the operation, and the key of ``attributes`` holding the
    #: binding it sees (``fc = nn.Linear(...)`` twice in a function).
    renamed: dict[str, str] = field(default_factory=dict)
    #: Inside a ``try`` whose handler swallows the error an init raises on too few dimensions:
    #: how many loops were open where it begins (None outside one).
    errors_swallowed: int | None = None
    #: The ``except`` clauses the operation is written in, outermost first: it runs only when
    #: their ``try`` failed, so it does not surely replace what that ``try`` wrote.
    handlers: tuple[cst.CSTNode, ...] = ()
    #: In an ``except`` clause of a ``try`` whose init raises on tensors of fewer than two
    #: dimensions: how many loops were open at that ``try`` (None elsewhere). The clause runs
    #: for the tensors that init rejects.
    rejected: int | None = None
    #: For an operation an ``apply`` or a helper's call runs: the tests around that call.
    call_conditions: tuple[tuple[cst.If, bool, int], ...] = ()
    #: ... and the loops around it, whose variables those tests may read.
    call_loops: tuple[cst.For, ...] = ()
    #: For an operation a helper's call runs: the functions that call is written in, whose
    #: variables the arguments bound to the helper's parameters read (``std=stddev``).
    called_from: tuple[cst.FunctionDef, ...] = ()
    #: For an operation a helper's call runs on a tensor the call hands it (``init(m.weight.data)``):
    #: that argument, which says what the write goes through.
    passed_in: cst.BaseExpression | None = None
    #: For an operation a construction runs again, as written, only because what the layer feeds
    #: is the class's output, which the holder's forward follows: that holder. Its verdict is
    #: the operation's own, so it is reported where the operation is written, naming the holder.
    holder: ModuleClass | None = None
    #: For an operation ``apply`` runs on its receiver itself: that visit comes after the visits
    #: of every module the receiver holds, which the same call runs.
    receiver_visit: bool = False
    #: Local names bound to the tensor the operation writes, whole (``data = p.data`` before
    #: ``data.zero_()``): a test of one of them (``data.dim() == 1``) tests that tensor.
    aliases: frozenset[str] = frozenset()
    #: Tensors of other layers of its owner that the operation writes too, as (path, id of the
    #: layer's node, parameter): tied to the one it writes by an assignment run before it
    #: (``self.head.weight = self.embed.weight``), one tensor under two names.
    tied: frozenset[tuple[str, int, str]] = frozenset()
    #: For an operation a call runs (an ``apply``, a helper's call): its place in the order
    #: of what that call runs, the call's own ``seq`` being ``seq`` (outermost call first).
    within: tuple[int, ...] = ()
    #: Writes a Parameter that the same function makes (``w = nn.Parameter(torch.empty(n, m))``,
    #: or an item of a dict or list of them): made afresh at every call of that function.
    made_here: bool = False
    #: Written where its function last bound the tensor to a fresh untrained one, or cleared its
    #: ``requires_grad`` (``self.mask = torch.ones(h, w)``, made a Parameter only after the
    #: write, or ``w = torch.empty(n, m)`` before ``self.w = nn.Parameter(w)``): autograd does
    #: not guard it there.
    unguarded: bool = False

    @property
    def as_written(self) -> cst.Call | cst.Assign:
        return self.written or self.node

    @property
    def func_node(self) -> cst.BaseExpression | None:
        return self.node.func if isinstance(self.node, cst.Call) else None

    def parameter_default(self, name: str) -> cst.BaseExpression | None:
        """The default value of ``name`` when it is a parameter of a function the operation is
        written in (the innermost such parameter wins); None when it has none or is no parameter."""
        for function in reversed(self.enclosing):
            params = function.params
            for param in (*params.posonly_params, *params.params, *params.kwonly_params):
                if param.name.value == name:
                    return param.default
        return None

    def effective_layers(self) -> tuple[Submodule, ...]:
        if self.target is None:
            return ()
        return tuple(m for m in self.target.layers if m.path not in self.superseded)


@dataclass(frozen=True)
class DeprecatedRef:
    """A reference to a deprecated torch.nn.init name (``nn.init.xavier_uniform``)."""

    node: cst.BaseExpression
    alias: str  # deprecated name, e.g. "xavier_uniform"
    rename: cst.Name  # the name token a fix rewrites
    imported: bool  # bound by ``from torch.nn.init import <alias>`` (without ``as``)


@dataclass(frozen=True)
class ApplyCall:
    """``<modules>.apply(<function>)``: the function runs on every module of the receiver."""

    node: cst.Call
    owner: ModuleClass
    receiver: cst.BaseExpression
    function: cst.BaseExpression
    method: str | None
    seq: int
    #: The loops around the call, outermost first (``for net in (G, D): net.apply(init)``).
    loops: tuple[cst.For, ...] = ()
    #: The tests around the call, as ``HelperCall.conditions``.
    conditions: tuple[tuple[cst.If, bool, int], ...] = ()


@dataclass(frozen=True)
class HelperCall:
    """A call of a function or method of this file with arguments (``init_layer(self.fc1)``):
    init operations inside it are resolved with its parameters bound to these arguments."""

    node: cst.Call
    owner: ModuleClass
    function: cst.BaseExpression
    method: str | None
    seq: int
    loops: tuple[cst.For, ...] = ()
    conditions: tuple[tuple[cst.If, bool, int], ...] = ()
    #: For a function that returns the module it is given (``self.fc = init_layer(nn.Linear(...))``):
    #: the module that call built and handed on.
    passed: Submodule | None = None
    #: Every function the call is written in, outermost first: whose variables its arguments read.
    enclosing: tuple[cst.FunctionDef, ...] = ()
    #: Made under ``torch.no_grad()``: what the helper writes in place is not guarded by autograd.
    in_no_grad: bool = False
    #: For a call written in another helper and run by that helper's call: its place in what
    #: that call runs (``InitOp.within``).
    within: tuple[int, ...] = ()


@dataclass(frozen=True)
class ForeignOrigin:
    """The class of another file that composed layers come from, and whether its output is the
    model's here (built at module level or in a function) or a block's (built by a module)."""

    owner: ModuleClass
    is_root: bool
    #: What each layer of that class feeds there (``FileModel.consumers``).
    consumers: Mapping[str, set[Consumer]]


class CollectedFile(Protocol):
    """A file's facts as resolution reads them, in the file being resolved or in another
    project file, whose model is finished: ``targets._Resolving`` and ``FileModel`` answer."""

    names: QualifiedNames
    #: ``initaudit.lint.model.project.Links`` (the project is built on this module).
    links: Any
    classes: Mapping[str, ModuleClass]
    imported_classes: dict[str, tuple[ModuleClass, CollectedFile]]
    foreign_origins: Mapping[str, ForeignOrigin]
    summaries: Mapping[str, Summary]
    #: The init operations written in the file (resolved, in a finished model).
    written_ops: Sequence[InitOp]
    scopes: Sequence[ModuleClass]
    init_ops: Sequence[InitOp]
    functions: Mapping[str, cst.FunctionDef]
    apply_calls: Sequence[ApplyCall]
    helper_calls: Sequence[HelperCall]
    factory_chain: Mapping[str, str]

    def foreign_models(self) -> Iterator[CollectedFile]: ...

    def attributes(self, owner: ModuleClass) -> Mapping[str, Submodule]:
        """The class's attributes, each instance of a project class composed."""

    def layers(self, owner: ModuleClass) -> Iterator[Submodule]:
        """Every layer of the composed attributes, parents before children."""

    def consumers(self, owner: ModuleClass) -> Mapping[str, set[Consumer]]:
        """What each layer (by path) and raw weight (by name) of the class feeds."""

    def cut(self, owner: ModuleClass) -> str | None:
        """Why layers inside the class's instances were left out, if some were (``bounds.REASONS``)."""

    def size(self, owner: ModuleClass) -> int | None:
        """How many layers the composed attributes hold."""
