"""Resolution: what a file's collected facts amount to, made without changing them.

Classes are composed (each instance of a project class gets a copy of its class's layers), each
forward is followed (``flow.py``), and each init operation gets its target and what voids it:
those ``apply`` and helper calls run are derived at the call. ``resolve`` returns one immutable
:class:`Resolution`; the file model serves both to the rules.

An operation's target is an expression such as ``self.fc.weight``, ``self.net[0].weight``, ``m.weight``
with ``m`` a loop variable over ``self.modules()`` or the argument of a function given to
``apply``, or ``p`` in ``for p in self.parameters()``. Loop and ``apply`` targets are narrowed by the
``isinstance`` / class-name / ``p.dim() > 1`` / parameter-name tests that guard the operation.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Callable, Iterable, Iterator, Mapping, Protocol, Sequence, cast

import libcst as cst
from libcst.helpers import get_full_name_for_node

from initaudit import knowledge
from initaudit.knowledge import LayerKind
from initaudit.lint.model.binding import bind, decided, read_names, rebound, ruled_out, substitute, unsettled
from initaudit.lint.model.bounds import CONFIGURATIONS, Budget, Cut
from initaudit.lint.model.collect import Collection
from initaudit.lint.model.facts import (
    BARE_TENSOR,
    ApplyCall,
    CollectedFile,
    ForeignOrigin,
    HelperCall,
    InitOp,
    InitVia,
    ModuleClass,
    Target,
)
from initaudit.lint.model.flow import LINEAR_CHAIN, Consumer, ConsumerKind, ForwardFlow, Instance, Summary
from initaudit.lint.model.conditions import (
    class_name_aliases,
    class_test,
    combined,
    is_name,
    name_predicate,
    parameter_test,
)
from initaudit.lint.model.modules import (
    Submodule, accessed_attribute, literal_value, parameter_names, returned_module, returned_parameter,
    small_statements, written_tensor,
)

#: A set of submodules, and whether it is known precisely.
Reach = tuple[list[Submodule], bool]

_PARAMETER_METHODS = ("parameters", "named_parameters")
_MODULE_METHODS = ("modules", "named_modules")
_CHILDREN_METHODS = ("children", "named_children")


@dataclass(frozen=True)
class Resolution:
    """What resolution made of a file's collection: nothing in the collection is changed."""

    #: The written operations with their targets, then those that ``apply`` and helper calls
    #: and constructions of the file run, each with what it writes and what voids it.
    init_ops: tuple[InitOp, ...]
    #: The collection's overwrites, with their targets.
    overwrites: tuple[InitOp, ...]
    #: The collection's partial writes with their targets, then those the file's helper calls
    #: run on a tensor they hand a function of the file.
    partial_writes: tuple[InitOp, ...]
    #: What the classes of other files run on their own layers in ``__init__``, carried onto
    #: the instances composed here (written there, never judged here but as overwritten).
    inherited_ops: tuple[InitOp, ...]
    #: Each class's (and scope's) attributes with every instance of a class of the project
    #: given that class's layers, by id of the class.
    attributes: Mapping[int, Mapping[str, Submodule]]
    #: How many layers those hold, and why layers inside the instances were left out, if some were.
    sizes: Mapping[int, int]
    class_cuts: Mapping[int, str]
    #: What each layer's output flows into, per class (by id) and layer path (``flow.py``).
    consumers: Mapping[int, Mapping[str, set[Consumer]]]
    #: Per class (by id), the paths of its blocks that their own construction specialises
    #: (``flow.Instance``): what their layers feed there is this class's consumers'.
    specialised: Mapping[int, frozenset[str]]
    #: What each module class's forward does, seen from outside.
    summaries: Mapping[str, Summary]
    #: For an operation in an arm of an option that also picks what its class's layers feed
    #: (``option_binding``), by id of its node: what each layer and raw weight feeds in that
    #: configuration, None where that is not known.
    configured: Mapping[int, Mapping[str, set[Consumer]] | None]
    #: Scopes of other files that layers composed here come from, by origin key.
    foreign_origins: Mapping[str, ForeignOrigin]
    #: Ids of the calls here at which init operations of another file's function are reported.
    imported_sites: frozenset[int]
    #: Expressions made by binding a function's parameters to a call's arguments, by id: the
    #: written expression each stands for (its position and text).
    stand_ins: Mapping[int, tuple[cst.CSTNode, cst.CSTNode]]
    #: What composing the classes left out (``bounds.py``), and how many layers it copied.
    cuts: tuple[Cut, ...]
    layers_used: int


class _Resolving:
    """The working state of one file's resolution: the collection, read only, and what is being
    made of it. Its reads have the names a finished ``FileModel`` answers (``CollectedFile``),
    so that the same code reads this file and the other files of the project."""

    def __init__(self, file: ResolvedFile, collection: Collection, budget: Budget, cuts: list[Cut]) -> None:
        self.file = file
        self.links = file.links
        self.names = file.names
        self.imported_classes = file.imported_classes
        self.classes = collection.classes
        self.scopes = collection.scopes
        self.functions = collection.functions
        self.components = collection.components
        self.apply_calls = collection.apply_calls
        self.helper_calls = collection.helper_calls
        self.call_sites = collection.call_sites
        self.factory_chain = collection.factory_chain
        self._written = len(collection.init_ops)
        self.init_ops: list[InitOp] = list(collection.init_ops)
        self.overwrites: list[InitOp] = list(collection.overwrites)
        self.partial_writes: list[InitOp] = list(collection.partial_writes)
        self.budget = budget
        self.cuts = cuts
        self.stand_ins: dict[int, tuple[cst.CSTNode, cst.CSTNode]] = dict(collection.stand_ins)
        self.imported_sites: set[int] = set()
        self.foreign_origins: dict[str, ForeignOrigin] = {}
        self.summaries: dict[str, Summary] = {}
        self.composed: dict[int, dict[str, Submodule]] = {}
        self.sizes: dict[int, int] = {}
        self.class_cuts: dict[int, str] = {}
        self.consumer_sets: dict[int, dict[str, set[Consumer]]] = {}
        #: Per class (by id), its blocks of this file that their construction specialises, by path.
        self.instances: dict[int, dict[str, Instance]] = {}

    @property
    def written_ops(self) -> list[InitOp]:
        """The operations written in the file, as far as they are resolved."""
        return self.init_ops[:self._written]

    def foreign_models(self) -> Iterator[CollectedFile]:
        return self.file.foreign_models()

    def attributes(self, owner: ModuleClass) -> Mapping[str, Submodule]:
        return self.composed.get(id(owner), owner.attributes)

    def layers(self, owner: ModuleClass) -> Iterator[Submodule]:
        for module in self.attributes(owner).values():
            yield from module.walk()

    def consumers(self, owner: ModuleClass) -> Mapping[str, set[Consumer]]:
        return self.consumer_sets.get(id(owner), {})

    def cut(self, owner: ModuleClass) -> str | None:
        return self.class_cuts.get(id(owner))

    def size(self, owner: ModuleClass) -> int | None:
        return self.sizes.get(id(owner))


class ResolvedFile(Protocol):
    """What resolution asks of the file it resolves: its names and its project."""

    links: Any
    imported_classes: dict[str, tuple[ModuleClass, CollectedFile]]

    def names(self, node: cst.CSTNode) -> frozenset[str]: ...

    def foreign_models(self) -> Iterator[CollectedFile]: ...


def resolve(file: ResolvedFile, collection: Collection, budget: Budget, cuts: Sequence[Cut], *,
            init_targets: bool = True) -> Resolution:
    """Composition, forward flow, init targets (``apply`` included) and supersession, made from
    the collection without changing it. ``budget``: what composition may still copy; ``cuts``:
    what was left out before (too deep an import)."""
    model = _Resolving(file, collection, budget, list(cuts))
    if cuts:  # the classes of an unfollowed file are built here: every class may miss layers
        model.class_cuts.update((id(owner), "depth") for owner in collection.classes.values())
    _compose(model)
    _run_flows(model)
    inherited: list[InitOp] = []
    configured: dict[int, Mapping[str, set[Consumer]] | None] = {}
    if init_targets:
        inherited = _resolve_targets(model)
        configured = _configured(model)
    return Resolution(
        init_ops=tuple(model.init_ops), overwrites=tuple(model.overwrites),
        partial_writes=tuple(model.partial_writes), inherited_ops=tuple(inherited),
        attributes=MappingProxyType(model.composed), sizes=MappingProxyType(model.sizes),
        class_cuts=MappingProxyType(model.class_cuts), consumers=MappingProxyType(model.consumer_sets),
        specialised=MappingProxyType({owner: frozenset(found) for owner, found in model.instances.items()}),
        summaries=MappingProxyType(model.summaries), configured=MappingProxyType(configured),
        foreign_origins=MappingProxyType(model.foreign_origins),
        imported_sites=frozenset(model.imported_sites), stand_ins=MappingProxyType(model.stand_ins),
        cuts=tuple(model.cuts), layers_used=budget.used)


def _resolve_targets(model: _Resolving) -> list[InitOp]:
    """The init operations' targets and what voids them; returns the inherited operations."""
    model.init_ops.extend(_applied_ops(model))
    model.init_ops.extend(_helper_ops(model))
    model.init_ops[:] = [_with_target(model, op) for op in model.init_ops]
    model.overwrites[:] = [_with_target(model, op) for op in model.overwrites]
    model.partial_writes[:] = [_with_target(model, op) for op in model.partial_writes] + _helper_partial_writes(model)
    constructed = _constructed_ops(model)
    model.init_ops.extend(constructed)
    ties = _ties(model, model.overwrites)
    model.init_ops[:] = [_tied(op, ties) for op in model.init_ops]
    model.overwrites[:] = [_tied(op, ties) for op in model.overwrites]
    superseded = _superseded(model, [*model.init_ops, *model.overwrites])
    model.init_ops[:] = [_voided(op, superseded) for op in model.init_ops]
    model.overwrites[:] = [_voided(op, superseded) for op in model.overwrites]
    model.init_ops[:] = _judged_alone(model)
    inherited = _inherited_ops(model)
    voided = _inherited_superseded(model, inherited, [*model.init_ops, *model.overwrites],
                                   {id(op.node) for op in constructed})
    return [_voided(op, voided) for op in inherited]


def _with_target(model: CollectedFile, op: InitOp) -> InitOp:
    if op.owner is not None and op.target_node is not None and op.target is None:
        return dataclasses.replace(op, target=_target(model, op))
    return op


def _voided(op: InitOp, superseded: Mapping[int, frozenset[str]]) -> InitOp:
    paths = superseded.get(id(op))
    return dataclasses.replace(op, superseded=op.superseded | paths) if paths else op


# ------------------------------------------------------------------------ composition


def _compose(model: _Resolving) -> None:
    """Give every submodule built from a class of the file, or of another project file, that
    class's submodules as children, within the file's budget (``bounds.py``)."""
    composer = _Composer(model)
    for owner in (*model.classes.values(), *model.scopes):
        composer.compose(owner)


class _Composer:
    """Composes each class once: its own layers first, then a copy of each instance's class's
    layers (composed already), as long as the budget lasts. A class met again while it is being
    composed (one that holds itself, directly or through others) is not expanded there. The
    collected modules are not changed: an instance, and every container above one, is copied."""

    def __init__(self, model: _Resolving) -> None:
        self._model = model
        self._open: list[str] = []

    def compose(self, owner: ModuleClass) -> None:
        model = self._model
        if id(owner) in model.sizes:
            return
        model.sizes[id(owner)] = 0  # being composed
        self._open.append(owner.name)
        size = sum(1 for _ in owner.layers())  # the class's own layers, before any is expanded
        composed: dict[str, Submodule] = {}
        for name, module in owner.attributes.items():
            composed[name], gained = self._expanded(owner, module)
            size += gained
        for name, module in self._inherited(owner).items():
            if name not in composed:  # what the class's own ``__init__`` binds replaces it
                composed[name] = module
                size += sum(1 for _ in module.walk())
        model.composed[id(owner)] = composed
        model.sizes[id(owner)] = size
        self._open.pop()

    def _inherited(self, owner: ModuleClass) -> dict[str, Submodule]:
        """The layers the ``__init__`` of the class's bases of this file bind on its instances,
        which run it: through ``super().__init__(...)`` (or ``Base.__init__(self, ...)``), or
        having no ``__init__`` of their own."""
        bases = [base for name in owner.bases if (base := self._model.classes.get(name)) is not None
                 and base is not owner and base.name not in self._open]
        init = owner.methods.get("__init__")
        if not bases or (init is not None and not _runs_base_init(init, owner.bases)):
            return {}
        found: dict[str, Submodule] = {}
        for base in bases:
            self.compose(base)
            for attribute, module in self._model.attributes(base).items():
                found.setdefault(attribute, module)
        return found

    def _expanded(self, owner: ModuleClass, module: Submodule) -> tuple[Submodule, int]:
        """The module with its instances expanded, parents before children; how many layers it gained."""
        if module.kind is LayerKind.CUSTOM and (instance := self._instance(owner, module)) is not None:
            return instance
        gained = 0
        children = []
        for child in module.children:
            expanded, size = self._expanded(owner, child)
            children.append(expanded)
            gained += size
        return (module.with_children(children), gained) if gained else (module, 0)

    def _instance(self, owner: ModuleClass, module: Submodule) -> tuple[Submodule, int] | None:
        """An instance of a class of the project, given its class's layers; None when its class
        is not known here, is being composed, or did not fit in the budget."""
        name = module.class_name
        if name is None or name in self._open:
            return None
        model = self._model
        if name in model.classes:
            child, source = model.classes[name], None
            self.compose(child)
            size, child_cut, attributes = model.sizes[id(child)], model.cut(child), model.attributes(child)
        elif name in model.imported_classes:
            child, source = model.imported_classes[name]
            size, child_cut, attributes = source.size(child) or 0, source.cut(child), source.attributes(child)
        else:
            return None
        refused = model.budget.take(size)
        cut = refused or child_cut  # the instance gets none of its class's layers, or only some
        if cut is not None:
            model.class_cuts.setdefault(id(owner), cut)
            if refused is not None or source is not None:  # a class of this file was noted where cut
                model.cuts.append(Cut(module.node, _described(owner, module, source), cut))
        if refused is not None:
            return None
        instance = module.with_children([m.rebased(module.path) for m in attributes.values()])
        if source is not None:
            _imported_origins(model, instance, source, inside_module=owner.is_module)
        return instance, size


def _runs_base_init(init: cst.FunctionDef, bases: Sequence[str]) -> bool:
    """Whether ``__init__`` calls a base's: ``super().__init__(...)``, ``Base.__init__(self, ...)``."""
    for small in small_statements(init):
        func = small.value.func if isinstance(small, cst.Expr) and isinstance(small.value, cst.Call) else None
        if isinstance(func, cst.Attribute) and func.attr.value == "__init__" and (
                get_full_name_for_node(func.value) in bases
                or (isinstance(func.value, cst.Call) and is_name(func.value.func, "super"))):
            return True
    return False


def _described(owner: ModuleClass, module: Submodule, source: CollectedFile | None) -> str:
    """``Net.blocks.0 (Block)``, ``Net.blocks.0 (Block of pkg/blocks.py)`` for another file's class."""
    where = "" if source is None else f" of {source.links.project.display(source.links.path)}"
    return f"{owner.name}.{module.path} ({module.class_name}{where})"


def _imported_origins(model: _Resolving, module: Submodule, source: CollectedFile, *,
                      inside_module: bool) -> None:
    """The layers of another project file's class (composed there already, copied here) keep
    origins keyed by that file, so that their consumers are looked up in its classes. Built
    inside a module class, it is a block whose output is not the model's."""
    assert source.links is not None
    for layer in (m for top in module.children for m in top.walk()):
        origin = layer.origin or ""
        if origin in source.foreign_origins:
            model.foreign_origins[origin] = source.foreign_origins[origin]
        elif origin in source.classes:
            layer.origin = f"{source.links.path}::{origin}" + ("::block" if inside_module else "")
            built = source.classes[origin]
            model.foreign_origins[layer.origin] = ForeignOrigin(built, not inside_module, source.consumers(built))


def _run_flows(model: _Resolving) -> None:
    """Each class's forward, summarised bottom-up so that a parent sees what its blocks do."""
    summaries = model.summaries
    summaries.update((local, source.summaries[child.name]) for local, (child, source) in model.imported_classes.items()
                     if child.name in source.summaries)
    visiting: set[str] = set()
    for owner in model.classes.values():
        if owner.is_module:
            _run_flow(model, owner, summaries, visiting)
    for scope in model.scopes:
        flow = ForwardFlow(dict(model.attributes(scope)), {}, model.names, summaries,
                           parameters=frozenset(scope.parameters), functions=model.functions, variables=True)
        if scope.matrix_parameters & scope.parameters.keys() and isinstance(scope.node, cst.Module):
            # A script's weights multiply the signal in its functions: each is a forward.
            flow.run_functions(n for n in scope.node.body if isinstance(n, cst.FunctionDef))
        model.consumer_sets[id(scope)] = flow.run_sequentials()


def _own_layers(model: CollectedFile, owner: ModuleClass) -> Iterator[Submodule]:
    """The layers the class's code builds: an instance's class has its own flow, run first."""
    pending = list(reversed(model.attributes(owner).values()))
    while pending:
        module = pending.pop()
        yield module
        if module.kind is not LayerKind.CUSTOM:
            pending.extend(reversed(module.children))


def _run_flow(model: _Resolving, owner: ModuleClass, summaries: dict[str, Summary], visiting: set[str]) -> None:
    if owner.name in summaries or owner.name in visiting:
        return
    visiting.add(owner.name)
    for module in _own_layers(model, owner):
        if module.kind is LayerKind.CUSTOM and module.class_name in model.classes:
            _run_flow(model, model.classes[module.class_name], summaries, visiting)
    defaults = _construction_literals(None, owner, cst.Call(func=cst.Name(owner.name)))
    flow = ForwardFlow(dict(model.attributes(owner)), owner.methods, model.names, summaries,
                       parameters=_inherited_parameters(model, owner), functions=model.functions,
                       absent=frozenset(owner.none_attributes), instances=_instances(model, owner, summaries),
                       bound=_arms_taken(owner, {}),
                       defaults={attribute: value for attribute, (param, _) in owner.argument_attributes.items()
                                 if (value := defaults.get(param)) is not None})
    summary = flow.summarise()
    if summary is not None:
        summaries[owner.name] = summary
        if owner.is_root:
            flow.consume_output(summary.output)
    # Without a forward here, Sequential order still holds.
    model.consumer_sets[id(owner)] = flow.run_sequentials()
    visiting.discard(owner.name)


def _instances(model: _Resolving, owner: ModuleClass, summaries: dict[str, Summary]) -> dict[str, Instance]:
    """The blocks of this file that ``owner`` builds with literals bound to their attributes
    (``Stack(n, last=None)``, a default ``n=2`` read as ``self.n``): each one's forward run as that
    construction made it, since Python binds each call's arguments anew."""
    found: dict[str, Instance] = {}
    for module in _own_layers(model, owner):
        built = model.classes.get(module.class_name or "") if module.kind is LayerKind.CUSTOM else None
        if built is None or built.name not in summaries or not isinstance(module.node, cst.Call):
            continue
        literals = _construction_literals(owner, built, module.node)
        constants = {attribute: value for attribute, (param, _) in built.argument_attributes.items()
                     if (value := literals.get(param)) is not None}
        taken = _arms_taken(built, literals)
        if not constants and taken == _arms_taken(built, {}):
            continue
        flow = ForwardFlow(dict(model.attributes(built)), built.methods, model.names, summaries,
                           parameters=_inherited_parameters(model, built), functions=model.functions,
                           absent=frozenset(built.none_attributes), constants=constants,
                           instances=model.instances.get(id(built)), bound=taken)
        summary = flow.summarise()
        if summary is not None:
            found[module.path] = Instance(summary, flow.run_sequentials())
    model.instances[id(owner)] = found
    return found


def _construction_literals(owner: ModuleClass | None, built: ModuleClass, call: cst.Call) -> dict[str, cst.BaseExpression]:
    """The literals (numbers, strings, True, False, None) that ``call`` binds, given or by
    default, to the parameters of ``built.__init__`` it never rebinds; ``self.flag`` given stands
    for the literal default of the parameter ``owner.__init__``, the holder building it when
    known, stores there (``self.flag = flag``)."""
    init = built.methods.get("__init__")
    if init is None:
        return {}
    rebound = {target.value for small in small_statements(init) if isinstance(small, (cst.Assign, cst.AugAssign))
               for target in _assigned_names(small)}
    found: dict[str, cst.BaseExpression] = {}
    for param, value in bind(init, call, skip_self=True).items():
        value = _holder_default(owner, value) if owner is not None else value
        if param not in rebound and literal_value(value)[0]:
            found[param] = value
    return found


def _assigned_names(small: cst.Assign | cst.AugAssign) -> Iterator[cst.Name]:
    targets = [t.target for t in small.targets] if isinstance(small, cst.Assign) else [small.target]
    return (target for target in targets if isinstance(target, cst.Name))


def _holder_default(owner: ModuleClass, value: cst.BaseExpression) -> cst.BaseExpression:
    """``self.flag`` with ``owner.__init__`` storing its parameter ``flag``: that parameter's
    default (the literal the holder's own construction by default binds); ``value`` otherwise."""
    accessed = accessed_attribute(value)
    init = owner.methods.get("__init__")
    if accessed is None or init is None or not (isinstance(accessed[0], cst.Name) and accessed[0].value == "self") \
            or accessed[1] not in owner.argument_attributes:
        return value
    param = owner.argument_attributes[accessed[1]][0]
    return next((p.default for p in (*init.params.params, *init.params.kwonly_params)
                 if p.name.value == param and p.default is not None), value)


def _deciding(bound: Mapping[str, cst.BaseExpression]) -> Callable[[cst.BaseExpression], bool | None]:
    """``decided`` with ``bound``, each test worked out once: an ``elif`` chain repeats its
    earlier tests in the conditions of every later arm."""
    found: dict[int, bool | None] = {}

    def verdict(test: cst.BaseExpression) -> bool | None:
        if id(test) not in found:
            found[id(test)] = decided(test, bound)
        return found[id(test)]

    return verdict


def _arm_verdicts(tests: Sequence[tuple[cst.BaseExpression, bool]],
                  verdict: Callable[[cst.BaseExpression], bool | None]) -> list[bool | None]:
    """For each test around a binding (and the arm it sits in): whether the binding's arm is
    taken there, None where the test is not decided."""
    return [None if (held := verdict(test)) is None else held == arm for test, arm in tests]


def _arms_taken(built: ModuleClass, literals: Mapping[str, cst.BaseExpression]) -> dict[str, bool]:
    """Whether the object surely has each attribute ``__init__`` binds, with its parameters
    holding ``literals``: True where a binding runs under tests all taken, False where a test
    the literals decide skips every binding; unknown (absent) otherwise."""
    found: dict[str, bool] = {}
    verdict = _deciding(literals)
    for name, bindings in built.arms.items():
        verdicts = [_arm_verdicts(tests, verdict) for tests in bindings]
        if any(all(verdict is True for verdict in tests) for tests in verdicts):
            found[name] = True
        elif all(False in tests for tests in verdicts):
            found[name] = False
    return found


def option_binding(op: InitOp) -> dict[str, cst.BaseExpression] | None:
    """For an operation in an arm of ``__init__`` that the parameters' defaults skip, in a class
    that also binds an attribute under a test of the same parameter (``if act == "tanh":
    init...`` beside ``if act == "tanh": self.act = torch.tanh``): the literals that arm runs
    with, the values its tests compare the parameters to (``{"act": "tanh"}``) over the
    defaults; empty where they name no one value. None for an operation in no such arm: the
    defaults' configuration is the one it runs in."""
    owner = op.owner
    if owner is None or op.method != "__init__" or "__init__" not in owner.methods or not op.conditions:
        return None
    defaults = _construction_literals(None, owner, cst.Call(func=cst.Name(owner.name)))
    if not ruled_out(op.conditions, defaults):
        return None
    tested = set().union(*(read_names(condition.test) for condition, _, _ in op.conditions)) & defaults.keys()
    if not any(read_names(test) & tested for bindings in owner.arms.values() for tests in bindings for test, _ in tests):
        return None
    chosen: dict[str, cst.BaseExpression] = {}
    for condition, positive, _ in op.conditions:
        test = condition.test
        if positive and isinstance(test, cst.Comparison) and len(test.comparisons) == 1 \
                and isinstance(test.comparisons[0].operator, cst.Equal):
            sides = (test.left, test.comparisons[0].comparator)
            for name, value in (sides, sides[::-1]):
                if isinstance(name, cst.Name) and name.value in tested and literal_value(value)[0]:
                    chosen[name.value] = value
    bound = {**defaults, **chosen}
    return bound if chosen and not ruled_out(op.conditions, bound) else {}


def _configured(model: _Resolving) -> dict[int, Mapping[str, set[Consumer]] | None]:
    """``Resolution.configured``: each operation in another configuration of its class, with what
    the class's layers feed there where its arm names that configuration and every attribute the
    options bind is decided."""
    found: dict[int, Mapping[str, set[Consumer]] | None] = {}
    # One run per class and configuration, however many operations its arms hold.
    runs: dict[tuple[int, tuple[tuple[str, str], ...]], Mapping[str, set[Consumer]] | None] = {}
    for op in model.init_ops:
        bound = option_binding(op)
        if bound is None or op.owner is None:
            continue
        found[id(op.node)] = None
        if not bound or op.target is None or op.target.owner is not op.owner:
            continue
        key = (id(op.owner), tuple(sorted((name, repr(literal_value(value)[1])) for name, value in bound.items())))
        if key not in runs and len(runs) < CONFIGURATIONS:
            runs[key] = _consumers_with(model, op.owner, bound)
        found[id(op.node)] = runs.get(key)
    return found


def _consumers_with(model: _Resolving, owner: ModuleClass,
                    bound: Mapping[str, cst.BaseExpression]) -> Mapping[str, set[Consumer]] | None:
    """What ``owner``'s layers feed when ``__init__``'s parameters hold ``bound``: each attribute
    bound in arms of tests (``ModuleClass.options``) holds the module of the one binding those
    values take; None when that is not decided for one of them."""
    attributes = dict(model.attributes(owner))
    absent = set(owner.none_attributes)
    verdict = _deciding(bound)
    for name, options in owner.options.items():
        verdicts = [_arm_verdicts(tests, verdict) for tests, _ in options]
        taken = [module for (_, module), tests in zip(options, verdicts) if all(v is True for v in tests)]
        if len(taken) == 1:
            attributes[name] = taken[0]
        elif not taken and all(False in tests for tests in verdicts):
            attributes.pop(name, None)
            absent.add(name)
        else:
            return None
    flow = ForwardFlow(attributes, owner.methods, model.names, model.summaries,
                       parameters=_inherited_parameters(model, owner), functions=model.functions,
                       absent=frozenset(absent), instances=model.instances.get(id(owner)),
                       bound=_arms_taken(owner, bound),
                       constants={attribute: value for attribute, (param, _) in owner.argument_attributes.items()
                                  if (value := bound.get(param)) is not None})
    summary = flow.summarise()
    if summary is not None and owner.is_root:
        flow.consume_output(summary.output)
    return flow.run_sequentials()


def _inherited_parameters(model: _Resolving, owner: ModuleClass) -> frozenset[str]:
    """The bare Parameters of the class and of its base classes defined in this file: a
    subclass's ``forward`` multiplies those its base's ``__init__`` makes."""
    found: set[str] = set()
    pending, seen = [owner], set()
    while pending:
        current = pending.pop()
        if current.name not in seen:
            seen.add(current.name)
            found.update(current.parameters)
            pending.extend(model.classes[b] for b in current.bases if b in model.classes)
    return frozenset(found)


# ------------------------------------------------------------------------ constructions


#: Schemes whose right gain depends on what the layer feeds.
_GAIN_SCHEMES = ("xavier", "kaiming", "orthogonal")


def _constructed_ops(model: CollectedFile) -> list[InitOp]:
    """The init operations of a module class's construction, run again at each construction
    written here (``LinearNorm(i, o, bias=False)``) with the ``__init__`` parameters bound to the
    call's arguments and defaults, and reported there: what the instance's layers feed is known
    where it is built. An operation is derived where it may be judged differently than where it
    is written: its arguments name a parameter, or (for a gain-bearing scheme) a layer it writes
    feeds the class's own output, which only the builder's forward follows."""
    derived: list[InitOp] = []
    by_owner = _OpsByOwner(model)
    for owner in (*model.classes.values(), *model.scopes):
        for module in _own_layers(model, owner):
            if module.kind is LayerKind.CUSTOM and isinstance(module.node, cst.Call) and module.children:
                derived.extend(_construction_ops(model, owner, module, by_owner))
    return derived


class _OpsByOwner:
    """The written operations of each class of the files asked about, grouped once per file, and
    those a helper's call runs in a class (``self.out = conv(c, 2 * c, 1)``, ``init_xavier(
    self.skip)`` with ``init_xavier`` imported): resolved here for another file's model, which
    resolves none itself."""

    def __init__(self, model: CollectedFile) -> None:
        self._model = model
        self._files: set[int] = set()
        self._ops: dict[int, list[InitOp]] = {}

    def of(self, source: CollectedFile, owner: ModuleClass) -> list[InitOp]:
        if id(source) not in self._files:
            self._files.add(id(source))
            helpers = [op for op in source.init_ops if op.called_from] if source is self._model \
                else _helper_ops(_Reading(source))
            for op in (*source.written_ops, *helpers):
                if op.owner is not None:
                    self._ops.setdefault(id(op.owner), []).append(op)
        return self._ops.get(id(owner), [])


def _construction_ops(model: CollectedFile, owner: ModuleClass, module: Submodule,
                      by_owner: _OpsByOwner) -> Iterator[InitOp]:
    found = _built_class(model, module.class_name or "")
    call = module.node
    assert isinstance(call, cst.Call)
    if found is None or "__init__" not in found[0].methods:
        return
    built, source = found
    bound = bind(built.methods["__init__"], call, skip_self=True)
    seq, method = model.call_sites.get(id(call), (0, None))
    instance = {m.path: m for m in module.walk()}
    for op in by_owner.of(source, built):
        if op.target_node is None or op.via is InitVia.PARAMETER \
                or not (op.method == "__init__" or op.method in built.init_calls):
            continue
        target = op.target or _target(source, op)
        if target is None or target.owner is not built or not target.layers:
            continue
        args = {key: substitute(value, bound, model.stand_ins) for key, value in op.args.items()}
        changed = any(args[key] is not value for key, value in op.args.items())
        pairs = [(instance[f"{module.path}.{m.path}"], m) for m in target.layers
                 if f"{module.path}.{m.path}" in instance]
        if not changed:
            if knowledge.INIT_FUNCTIONS[op.function].scheme not in _GAIN_SCHEMES or target.param != "weight":
                continue
            # A class its own file builds nowhere is judged there as the model's output: a holder
            # taking the layer's output to its own output only says that again.
            judged_there = source is not model and built.is_root
            pairs = [(m, inner) for m, inner in pairs
                     if (used := model.consumers(owner).get(m.path)) and _feeds_the_class_output(source, built, inner)
                     and not (judged_there and all(c.kind is ConsumerKind.OUTPUT or c == LINEAR_CHAIN for c in used))]
        if not pairs:
            continue
        model.imported_sites.add(id(call))
        yield dataclasses.replace(op, node=call, written=op.as_written, args=args, owner=owner, method=method,
                                  seq=seq, target=Target(owner, tuple(m for m, _ in pairs), target.param,
                                                         target.exact), holder=None if changed else owner)


def _built_class(model: CollectedFile, name: str) -> tuple[ModuleClass, CollectedFile] | None:
    if name in model.classes:
        return model.classes[name], model
    return model.imported_classes.get(name)


def _feeds_the_class_output(source: CollectedFile, built: ModuleClass, layer: Submodule) -> bool:
    """What the layer feeds inside its class is the class's output, or not followed there."""
    return all(c.kind is ConsumerKind.OUTPUT for c in source.consumers(built).get(layer.path, ()))


# ------------------------------------------------------------------------ inherited inits


def _inherited_ops(model: CollectedFile) -> list[InitOp]:
    """The init operations a class of this file or of another project file runs whenever it is
    built (``_built_with``), as run on the copies of its layers composed into this file's
    other classes: they come first, so that a later write there voids them. Each instance
    runs its own (``self.actor = MLP(...)``, ``self.q = MLP(...)``): a write of one instance
    voids nothing of the other's."""
    derived = []
    scale_writes = _scale_writes(model)
    loops: dict[str, list[InitOp]] = {}
    for owner in (*model.classes.values(), *model.scopes):
        by_instance: dict[tuple[str, str], dict[str, list[Submodule]]] = {}
        for layer in model.layers(owner):
            if layer.local_path is not None and layer.origin != owner.name \
                    and (layer.origin in model.foreign_origins or layer.origin in model.classes):
                instance = layer.instance_path()
                by_instance.setdefault((layer.origin, instance), {}).setdefault(layer.local_path, []).append(layer)
        if scale_writes:
            derived.extend(_inherited_scale_writes(owner, model.layers(owner), scale_writes))
        derived.extend(_inherited_parameter_loops(model, owner, loops))
        for (origin, _), layers in by_instance.items():
            for source, op, target in _built_with(model, origin):
                reached = tuple(m for layer in target.layers for m in layers.get(layer.path, []))
                if reached:
                    # Run by the holder's construction, before its own code: what the class's
                    # later code voids there is for the class's own instances to tell.
                    derived.append(dataclasses.replace(
                        op, owner=owner, method="__init__", seq=0, superseded=frozenset(),
                        target=Target(owner, reached, target.param), written=op.as_written))
    return derived


def _inherited_parameter_loops(model: CollectedFile, owner: ModuleClass,
                               known: dict[str, list[InitOp]]) -> Iterator[InitOp]:
    """``for w in self.parameters(): w.data.uniform_(-s, s)`` run whenever a class is built
    writes each Parameter the class holds itself (``self.weight_ih = Parameter(...)``): on each
    instance composed into ``owner``, one write per Parameter, which the holder may write again.
    ``known``: by class name, those loops of the class, found once."""
    for layer in model.layers(owner):
        if layer.kind is not LayerKind.CUSTOM or layer.class_name is None:
            continue
        if layer.class_name not in known:
            known[layer.class_name] = _own_parameter_loops(model, layer.class_name)
        for op in known[layer.class_name]:
            assert op.owner is not None
            for name in op.owner.parameters:
                yield dataclasses.replace(op, owner=owner, method="__init__", seq=0, superseded=frozenset(),
                                          target=Target(owner, (layer,), name), written=op.as_written)


def _own_parameter_loops(model: CollectedFile, class_name: str) -> list[InitOp]:
    """The writes of the class ``class_name`` (of this file or another) that every construction
    runs on each of its own parameters, under no test: ``for w in self.parameters(): ...``."""
    built = _built_class(model, class_name)
    if built is None or not built[0].parameters:
        return []
    built_by, source = built
    found = []
    for op in source.written_ops:
        if op.owner is not built_by or op.conditions or len(op.loops) != 1 or op.target_node is None \
                or op.via is InitVia.PARAMETER or not _runs_when_built(built_by, op):
            continue
        loop, tensor = op.loops[0], written_tensor(op.target_node)
        if isinstance(loop.iter, cst.Call) and not loop.iter.args \
                and _self_method(loop.iter.func) in _PARAMETER_METHODS \
                and isinstance(tensor, cst.Name) and tensor.value == loop_target(loop):
            found.append(op)
    return found


def _scale_writes(model: CollectedFile) -> dict[str, list[InitOp]]:
    """By custom norm class of this file: the writes of its scale Parameter it runs whenever it
    is built (``self.gamma.data.fill_(1)``)."""
    found: dict[str, list[InitOp]] = {}
    for op in model.init_ops:
        built_by, target = op.owner, op.target
        if built_by is None or target is None or target.layers or not target.exact \
                or model.classes.get(built_by.name) is not built_by or target.param not in built_by.norm_scales() \
                or BARE_TENSOR in op.superseded or op.conditions or not _runs_when_built(built_by, op):
            continue
        found.setdefault(built_by.name, []).append(op)
    return found


def _inherited_scale_writes(owner: ModuleClass, layers: Iterable[Submodule],
                            writes: dict[str, list[InitOp]]) -> list[InitOp]:
    """The scale writes of the custom norms composed into ``owner``: on each instance, a write
    of its weight, which a loop over ``owner``'s parameters may write again."""
    return [dataclasses.replace(op, owner=owner, method="__init__", seq=0, superseded=frozenset(),
                                target=Target(owner, (layer,), "weight"), written=op.as_written)
            for layer in layers if layer.kind is LayerKind.CUSTOM
            for op in writes.get(layer.class_name or "", ())]


# ------------------------------------------------------------------------ apply(fn)


def _built_with(model: CollectedFile, origin: str) -> Iterator[tuple[CollectedFile, InitOp, Target]]:
    """The init operations the class ``origin`` (of this file, or of another project file) runs
    on its own layers whenever it is built, each with its file and exact target: in ``__init__``
    (an ``apply`` there included), in no loop, under no test but of the class of the module."""
    source: CollectedFile | None
    ops: Sequence[InitOp]
    if origin in model.foreign_origins:
        built_by = model.foreign_origins[origin].owner
        source = next((m for m in model.foreign_models() if built_by in m.classes.values()), None)
        # The file may have been parsed again for a later name: the parse this file imports the
        # class from holds the nodes its constructions here run (``_constructed_ops``).
        built_by, source = next(((c, m) for c, m in model.imported_classes.values() if c.name == built_by.name
                                 and source is not None and _same_file(m, source)), (built_by, source))
        # Another file's model resolves no targets: its written operations and its ``apply``
        # calls are resolved here.
        ops = [*(_with_target(source, op) for op in source.written_ops),
               *_applied_when_built(source, built_by), *_helped_when_built(source, built_by)] \
            if source is not None else []
    else:
        source, built_by = model, model.classes[origin]
        ops = model.init_ops
    if source is None:
        return
    for op in ops:
        # An applied helper's class tests are read in the file that writes them.
        if op.owner is not built_by or not _runs_when_built(built_by, op) or op.target_node is None \
                or op.via is InitVia.PARAMETER or not _runs_on_its_target(source, op):
            continue
        target = op.target
        # An init its own class writes again later voids nothing more where it is composed.
        if target is not None and target.exact and target.layers and not target.by_class \
                and not {m.path for m in target.layers} <= op.superseded:
            yield source, op, target


def _runs_when_built(built_by: ModuleClass, op: InitOp) -> bool:
    """Whether every construction runs ``op``: written in ``__init__`` or in a method that
    ``__init__`` calls in no test nor loop (``self.initialize()``), in no loop but over items
    written out (``for m in [self.q, self.k]``) or over the class's own modules or parameters
    (``for m in self.children()``), each of which it visits."""
    if not all(_visits_all(loop.iter) for loop in (*op.loops, *op.call_loops)):
        return False
    return op.method == "__init__" or (op.method is not None and _called_by_init(built_by, op.method))


def _runs_on_its_target(source: CollectedFile, op: InitOp) -> bool:
    """Whether the tests around ``op`` (and around the call that runs it) only pick what it
    writes, which its target says: the class of an applied helper's module, or the element of a
    loop (``isinstance(m, nn.Conv2d)``)."""
    at_call = dataclasses.replace(op, loops=op.call_loops)
    return (not op.conditions or guarded_by_class_only(source, op)
            or all(tests_element(source, op, condition) for condition, _, _ in op.conditions)) \
        and all(tests_element(source, at_call, condition) for condition, _, _ in op.call_conditions)


def _visits_all(iterated: cst.BaseExpression) -> bool:
    if isinstance(iterated, (cst.List, cst.Tuple)):
        return bool(iterated.elements)
    return isinstance(iterated, cst.Call) and not iterated.args \
        and _self_method(iterated.func) in (*_MODULE_METHODS, *_CHILDREN_METHODS, *_PARAMETER_METHODS)


def _called_by_init(owner: ModuleClass, method: str) -> bool:
    """``self.<method>()`` is a statement of ``__init__``'s own body (under no test, loop or ``try``)."""
    init = owner.methods.get("__init__")
    if init is None or not isinstance(init.body, cst.IndentedBlock):
        return False
    return any(isinstance(line, cst.SimpleStatementLine) and any(
        isinstance(small, cst.Expr) and isinstance(small.value, cst.Call)
        and _self_method(small.value.func) == method for small in line.body) for line in init.body.body)


def _self_method(func: cst.BaseExpression) -> str | None:
    if isinstance(func, cst.Attribute) and is_name(func.value, "self"):
        return func.attr.value
    return None


def _same_file(one: CollectedFile, other: CollectedFile) -> bool:
    return one is other or (one.links is not None and other.links is not None and one.links.path == other.links.path)


def _applied_when_built(source: CollectedFile, built_by: ModuleClass) -> Iterator[InitOp]:
    """What the ``apply`` calls written in the ``__init__`` of a class of another file run on
    its own layers (``self.apply(self._init_weights)``), with a function of that file or one it
    imports (``from utils import init_weights``), as ``_applied_ops`` resolves them there."""
    for call in source.apply_calls:
        if call.owner is not built_by or call.loops or call.conditions or not (
                call.method == "__init__" or (call.method is not None and _called_by_init(built_by, call.method))):
            continue
        callee = _applied_function(source, call)
        reach = _modules(source, call.owner, call.receiver)
        if callee is None or reach is None or not callee[0].params.params:
            continue
        function, ops, _ = callee
        parameter = _module_parameter(function)
        if parameter is None:
            continue
        modules = [m for root in reach[0] for m in root.walk()]
        for op in ops:
            if op.scope_node is function and op.target_node is not None:
                target = _applied_target(source, op, call.owner, parameter, modules)
                if target is not None:
                    yield dataclasses.replace(op, owner=call.owner, method=call.method, seq=call.seq, target=target)


def _helped_when_built(source: CollectedFile, built_by: ModuleClass) -> Iterator[InitOp]:
    """What the helper calls written in a class of another file run on its own layers when it is
    built (``for m in self.children(): init_weights(m, "kaiming")``, the helper applying a
    function the string picks), resolved there with the call's arguments as ``_helper_ops``
    resolves them."""
    calls = [call for call in source.helper_calls if call.owner is built_by]
    if not calls:
        return
    written_in: dict[int, list[HelperCall]] = {}
    for call in source.helper_calls:
        written_in.setdefault(id(call.owner.node), []).append(call)
    reading = _Reading(source)
    for call in calls:
        yield from _called_ops(cast(CollectedFile, reading), call, call, 1, written_in)


class _Reading:
    """Another file's finished model, read to resolve a call written there: the call sites and
    stand-in expressions that resolution records stay with this reading, the model unchanged."""

    def __init__(self, model: CollectedFile) -> None:
        self._model = model
        self.imported_sites: set[int] = set()
        self.stand_ins: dict[int, tuple[cst.CSTNode, cst.CSTNode]] = dict(getattr(model, "stand_ins", {}))

    def __getattr__(self, name: str) -> Any:
        return getattr(self._model, name)


def _applied_ops(model: CollectedFile) -> list[InitOp]:
    """One derived operation per (``apply`` call, init operation of the applied function or of a
    function it hands a tensor to)."""
    derived = []
    for call in model.apply_calls:
        applied = _applied(model, call)
        reach = _modules(model, call.owner, call.receiver) or _looped_modules(model, call)
        if applied is None or reach is None or not applied[0][0].params.params:
            continue
        (function, ops, source), factory = applied
        parameter = _module_parameter(function)
        if parameter is None:
            continue
        modules = [m for root in reach[0] for m in root.walk()]
        if factory is None:
            values = _partial_values(model, call, function)
        else:  # a closure reads its factory's parameters as the factory's call binds them
            assert isinstance(call.function, cst.Call)
            values = bind(factory, call.function, skip_self=False)
        own = frozenset(parameter_names(function))
        for op in (*ops, *_wrapped_ops(model, source, function, ops)):
            # A test the factory's call leaves open follows a choice made elsewhere, judged there.
            if factory is not None and (ruled_out(op.conditions, values, own) or unsettled(op.conditions, values, own)):
                continue
            if op.scope_node is function and op.target_node is not None:
                target = _applied_target(model, op, call.owner, parameter, modules, call.receiver, source)
                if target is not None:
                    at_call = _at_call(model, op, call, target, ops)
                    if isinstance(variable := written_tensor(op.target_node), cst.Name):
                        # The tests of the module were decided by the receiver's class.
                        at_call = dataclasses.replace(at_call, receiver_visit=True,
                                                      conditions=_in_loop_of(op, variable.value))
                    derived.append(_with_values(model, at_call, call, values))
    return derived


def _looped_modules(model: CollectedFile, call: ApplyCall) -> Reach | None:
    """``for net in (self.G, self.D): net.apply(init)``: the receiver is a loop variable over a
    tuple or list written out, each of whose items denotes modules; every item's modules."""
    if not isinstance(call.receiver, cst.Name):
        return None
    loop = next((loop for loop in reversed(call.loops) if loop_target(loop) == call.receiver.value), None)
    if loop is None or not isinstance(loop.target, cst.Name) or not isinstance(loop.iter, (cst.Tuple, cst.List)):
        return None
    modules: list[Submodule] = []
    exact = True
    for element in loop.iter.elements:
        reach = None if isinstance(element, cst.StarredElement) else _modules(model, call.owner, element.value)
        if reach is None:
            return None
        modules += reach[0]
        exact = exact and reach[1]
    return modules, exact


def _partial_values(model: CollectedFile, call: ApplyCall, function: cst.FunctionDef) -> dict[str, cst.BaseExpression]:
    """What ``apply(partial(init_fn, gain=0.5))`` binds to the parameters of ``init_fn`` by keyword
    (the module is passed after any positional ones, which are left alone)."""
    node = call.function
    if not (_is_partial(model, node) and isinstance(node, cst.Call) and node.args):
        return {}
    keywords = cst.Call(func=node.args[0].value, args=[arg for arg in node.args[1:] if arg.keyword is not None])
    return bind(function, keywords, skip_self=False, defaults=False)


def _at_call(model: CollectedFile, op: InitOp, call: ApplyCall | HelperCall, target: Target,
             ops: list[InitOp]) -> InitOp:
    """``op`` as run by ``call``; one written in another file is reported at the call."""
    derived = dataclasses.replace(op, owner=call.owner, method=call.method, seq=call.seq, target=target,
                                  within=(*(call.within if isinstance(call, HelperCall) else ()), op.seq, *op.within),
                                  called_from=call.enclosing if isinstance(call, HelperCall) else (),
                                  call_conditions=call.conditions, call_loops=call.loops,
                                  in_no_grad=op.in_no_grad or (isinstance(call, HelperCall) and call.in_no_grad))
    if ops is not model.init_ops:
        model.imported_sites.add(id(_site(call)))
        derived = dataclasses.replace(derived, node=_site(call), written=op.as_written)
    return derived


def _helper_ops(model: CollectedFile) -> list[InitOp]:
    """Init operations of helper functions, resolved at each call with its arguments:
    ``self._init_layer(self.fc1)``, ``init_weight(self.conv.weight)``, and through the helpers
    of the file that a helper calls (up to ``_HELPER_DEPTH`` calls deep)."""
    derived: list[InitOp] = []
    written_in: dict[int, list[HelperCall]] = {}
    for call in model.helper_calls:
        written_in.setdefault(id(call.owner.node), []).append(call)
    for call in model.helper_calls:
        derived.extend(_called_ops(model, call, call, 1, written_in))
        derived.extend(_submodule_method_ops(model, call))
    return derived


def _helper_partial_writes(model: _Resolving) -> list[InitOp]:
    """``def fill(n, out): out[:, 0::2] = table`` called as ``fill(n, out=self.emb.weight)``:
    the partial writes of a function of the file into a tensor its call hands it, written into
    what the call passes, where the call runs."""
    found: list[InitOp] = []
    for call in model.helper_calls:
        callee = _callee_in(model, call.owner, call.function, call.enclosing)
        if callee is None or callee[2] is not model:
            continue
        function = callee[0]
        skip_self = isinstance(call.function, cst.Attribute) and _class_attribute(model, call.function) is None
        bound = _bind(function, call.node, skip_self=skip_self)
        for op in model.partial_writes:
            tensor = op.target_node
            if op.scope_node is not function or not isinstance(tensor, cst.Name) or tensor.value not in bound:
                continue
            at_call = dataclasses.replace(op, owner=call.owner, method=call.method, target_node=bound[tensor.value],
                                          loops=call.loops, conditions=call.conditions)
            target = _target(model, at_call)
            if target is not None:
                found.append(dataclasses.replace(at_call, target=target, passed_in=bound[tensor.value],
                                                 in_no_grad=op.in_no_grad or call.in_no_grad))
    return found


def _submodule_method_ops(model: CollectedFile, call: HelperCall) -> Iterator[InitOp]:
    """``self.mlp.init_weight()``: the init operations of a method of the class of a module the
    caller holds, written in another project file, run with ``self`` bound to that module (and
    its other parameters to the call's arguments) and reported at the call. A class of this file
    has its method judged where it is written, on its own layers, once."""
    found = _submodule_method(model, call)
    if found is None:
        return
    function, ops = found
    assert isinstance(call.function, cst.Attribute)
    bound = {**_bind(function, call.node, skip_self=True), "self": call.function.value}
    for op in ops:
        if op.scope_node is not function or op.target_node is None:
            continue
        loops = _unrolled(tuple(_substituted(loop, bound) for loop in op.loops))
        run = dataclasses.replace(op, owner=call.owner, loops=loops,
                                  target_node=cast(cst.BaseExpression, op.target_node.visit(_Substitute(bound))))
        target = _target(model, run)
        if target is not None:
            yield _at_call(model, dataclasses.replace(op, loops=loops), call, target, ops)


def _submodule_method(model: CollectedFile, call: HelperCall) -> tuple[cst.FunctionDef, list[InitOp]] | None:
    """The method that ``self.mlp.init_weight(...)`` runs, of the class of another file that
    ``self.mlp`` was built from, with the init operations to look for in it."""
    func = call.function
    if not isinstance(func, cst.Attribute) or is_name(func.value, "self"):
        return None
    reach = _modules(model, call.owner, func.value)
    built = _built_class(model, reach[0][0].class_name) \
        if reach is not None and len(reach[0]) == 1 and reach[0][0].class_name is not None else None
    method = _method(built[1], built[0], func.attr.value) if built is not None and built[1] is not model else None
    if built is None or method is None:
        return None
    return method, list(built[1].written_ops)


#: A function a call runs, the init operations to look for in it and the file that writes it.
_Callee = tuple[cst.FunctionDef, list[InitOp], CollectedFile]

#: How many helper calls deep an init operation is followed from the call written in a scope.
_HELPER_DEPTH = 3


def _called_ops(model: CollectedFile, call: HelperCall, site: HelperCall, depth: int,
                written_in: dict[int, list[HelperCall]], home: CollectedFile | None = None,
                callee: _Callee | None = None) -> Iterator[InitOp]:
    """The operations ``call`` runs, reported at ``site`` (the call the chain starts from) when
    it is not the call itself; ``written_in``: the helper calls of each function, by its id;
    ``home``: the other project file whose helper wrote the call, where its name is read;
    ``callee``: what the call runs, where already known."""
    if callee is None:
        callee = _callee_in(model, call.owner, call.function, call.enclosing) if home is None \
            else _function_in(home, call.function)
    if callee is None or callee[0].name.value == "forward" or (site is not call and callee[2] is not (home or model)):
        return  # a chain of helpers is followed inside the file that writes it
    function, ops, source = callee
    # A method read from its class (``Base.init(self, m)``) is handed every argument as written.
    skip_self = isinstance(call.function, cst.Attribute) and _class_attribute(model, call.function) is None
    bound = _bind(function, call.node, skip_self=skip_self)
    if not bound and call.passed is None:
        return
    values = bind(function, call.node, skip_self=skip_self, packed=True)
    shadowed = rebound(function.body) if any(op.scope_node is function and op.conditions for op in ops) else frozenset()
    for op in ops:
        if op.scope_node is not function or op.target_node is None or ruled_out(op.conditions, values, shadowed):
            continue
        target = _bound_target(model, op, call, bound) or _by_class_at_call(model, op, call, bound)
        if target is None:
            continue
        found = _with_values(model, _at_call(model, op, call, target, ops), call, values)
        tensor = written_tensor(op.target_node)
        if isinstance(tensor, cst.Name) and tensor.value in bound:
            found = dataclasses.replace(found, passed_in=bound[tensor.value])
        if site is not call and found.node is not op.node:  # moved to the call: to the first one
            model.imported_sites.add(id(site.node))
            found = dataclasses.replace(found, node=site.node)
        yield found
    for found in _applied_by_helper(model, call, function, source, bound, values):
        if site is not call and found.node is not found.as_written:
            model.imported_sites.add(id(site.node))
            found = dataclasses.replace(found, node=site.node)
        yield found
    if call.passed is not None and ops is not model.init_ops and isinstance(call.function, cst.Name):
        yield from _chained_factory_ops(model, call, ops)
    if depth < _HELPER_DEPTH and ops is model.init_ops:
        for inner in written_in.get(id(function), ()):
            # Resolved as the helper's call runs it (the caller's class and scopes); most calls
            # in a helper run nothing that initialises, and are dropped before being rewritten.
            runs = _callee_in(model, call.owner, inner.function, call.enclosing)
            if runs is not None and runs[2] is model and _may_initialise(model, runs[0], written_in):
                yield from _called_ops(model, _passed_on(model, inner, call, values, function), site, depth + 1,
                                       written_in, callee=runs)
    elif depth < _HELPER_DEPTH:  # a helper of another file, through the functions of its file it calls
        for inner in source.helper_calls:
            if inner.enclosing and inner.enclosing[-1] is function:
                yield from _called_ops(model, _passed_on(model, inner, call, values, function), site, depth + 1,
                                       written_in, source)


def _may_initialise(model: CollectedFile, function: cst.FunctionDef, written_in: dict[int, list[HelperCall]]) -> bool:
    """Whether a function of the file runs an init operation or an ``apply`` of its own, or
    calls another function (which ``_called_ops`` then follows)."""
    return (id(function) in written_in or any(op.scope_node is function for op in model.init_ops)
            or any(applied.owner.node is function for applied in model.apply_calls))


def _function_in(source: CollectedFile, func: cst.BaseExpression
                 ) -> tuple[cst.FunctionDef, list[InitOp], CollectedFile] | None:
    """The top-level function of another project file that a call written in it names."""
    function = source.functions.get(func.value) if isinstance(func, cst.Name) else None
    return None if function is None else (function, list(source.written_ops), source)


def _applied_by_helper(model: CollectedFile, call: HelperCall, function: cst.FunctionDef, source: CollectedFile,
                       bound: dict[str, cst.BaseExpression], values: dict[str, cst.BaseExpression]
                       ) -> Iterator[InitOp]:
    """``def init_weights(net, kind): ... if kind == "kaiming": net.apply(init_kaiming)``: what an
    ``apply`` the helper runs on a module its caller passes does, as this call runs it: on the
    modules the argument denotes here, in the branches the call's values take (a closure
    applied reads the helper's parameters too), reported at the call."""
    applies = [inner for inner in source.apply_calls if inner.owner.node is function and not inner.loops
               and isinstance(inner.receiver, cst.Name) and inner.receiver.value in bound]
    helper_rebound = rebound(function.body) if applies else frozenset()
    for inner in applies:
        receiver = inner.receiver
        assert isinstance(receiver, cst.Name)
        if ruled_out(inner.conditions, values, helper_rebound) \
                or unsettled(inner.conditions, values, changed=helper_rebound):
            continue
        callee = _applied_function(source, inner)
        applied = callee[0] if callee is not None else None
        parameter = _module_parameter(applied) if applied is not None else None
        if callee is None or applied is None or parameter is None:
            continue
        ops = callee[1] if callee[2] is model else list(callee[2].written_ops)
        found = [op for op in ops if op.scope_node is applied and op.target_node is not None]
        if not found:
            continue
        at_call = dataclasses.replace(found[0], owner=call.owner, loops=call.loops, conditions=call.conditions,
                                      enclosing=call.enclosing, scope_node=call.enclosing[-1] if call.enclosing else None)
        reach = _modules(model, call.owner, bound[receiver.value], at_call)
        if reach is None:
            continue
        modules = [m for root in reach[0] for m in root.walk()]
        # Tests of the caller's loop element pick the modules reached, and the helper's tests
        # that the call's values decide pick this branch: neither is a condition of the run.
        caller_tests = tuple(c for c in call.conditions if not tests_element(model, at_call, c[0]))
        helper_tests = tuple(c for c in inner.conditions if decided(c[0].test, values, helper_rebound) is None)
        # The applied function's own names are not the helper's; the helper's rebound ones no
        # longer hold what the call passed.
        own = frozenset(parameter_names(applied)) | rebound(applied.body)
        for op in found:
            # A branch the call's values leave open is another caller's choice: judged where made.
            if ruled_out(op.conditions, values, own | helper_rebound) \
                    or unsettled(op.conditions, values, own, helper_rebound):
                continue
            target = _applied_target(model, op, call.owner, parameter, modules)
            if target is not None:
                derived = _at_call(model, op, call, target, ops)
                derived = dataclasses.replace(derived, call_conditions=(*caller_tests, *helper_tests))
                yield _with_values(model, derived, call, values)


def _chained_factory_ops(model: CollectedFile, call: HelperCall, ops: list[InitOp]) -> Iterator[InitOp]:
    """An imported factory that returns what another factory of its file builds (``return
    Conv1d(...)``, up the chain): the inits that one runs on the module it builds, reported at
    the call here."""
    imported = model.links.function(call.function.value) if model.links is not None else None  # type: ignore[attr-defined]
    if imported is None or call.passed is None:
        return
    function, source = imported
    name = source.factory_chain.get(function.name.value)
    seen: set[str] = set()
    while name is not None and name not in seen:
        seen.add(name)
        inner = source.functions.get(name)
        if inner is None:
            return
        local = _returned_name(source, inner)
        for op in ops:
            node = written_tensor(op.target_node) if op.scope_node is inner and op.target_node is not None else None
            if isinstance(node, cst.Attribute) and isinstance(node.value, cst.Name) and node.value.value == local:
                yield _at_call(model, op, call, Target(call.owner, (call.passed,), node.attr.value), ops)
        name = source.factory_chain.get(name)


def _passed_on(model: CollectedFile, inner: HelperCall, call: HelperCall,
               values: dict[str, cst.BaseExpression], function: cst.FunctionDef) -> HelperCall:
    """A call written in a helper, as the helper's call runs it: its arguments read with the
    helper's parameters bound, in the caller's scope. The call whose module the helper returns
    (``return Conv1d(...)``) built the module the helper's call did."""
    made = returned_module(function, model.names) if call.passed is not None else None
    passed = call.passed if made is not None and made[0] is None and made[1] is inner.node else None
    args = [arg.with_changes(value=substitute(arg.value, values, model.stand_ins)) for arg in inner.node.args]
    node = inner.node.with_changes(args=args)
    model.stand_ins[id(node)] = (node, inner.node)
    # Written in the helper's loop (``for p in m.modules(): glorot(p.weight)``), the call runs in
    # that loop over what the caller passes, under the helper's tests as well as the caller's.
    loops = (*call.loops, *_unrolled(tuple(_substituted(loop, values) for loop in inner.loops)))
    conditions = (*call.conditions, *((test, positive, open_loops + len(call.loops))
                                      for test, positive, open_loops in inner.conditions))
    return dataclasses.replace(inner, node=node, owner=call.owner, method=call.method, seq=call.seq,
                               within=(inner.seq, *inner.within), loops=loops, conditions=conditions, passed=passed,
                               enclosing=call.enclosing)


def _with_values(model: CollectedFile, op: InitOp, call: ApplyCall | HelperCall,
                 values: dict[str, cst.BaseExpression]) -> InitOp:
    """``op`` with the values the call binds to the helper's parameters (defaults included) in its
    arguments; one whose arguments they change is reported at the call, where they are written."""
    args = {key: substitute(value, values, model.stand_ins) for key, value in op.args.items()}
    if all(args[key] is value for key, value in op.args.items()):
        return op
    model.imported_sites.add(id(_site(call)))
    return dataclasses.replace(op, node=_site(call), written=op.as_written, args=args)


def _site(call: ApplyCall | HelperCall) -> cst.CSTNode:
    """Where an operation a call runs is reported: the call, or for ``apply`` chained on the
    module an assignment builds (``nn.Sequential(...).apply(init)``, many lines long) its
    ``apply``."""
    if isinstance(call, ApplyCall) and isinstance(call.node.func, cst.Attribute) \
            and call.receiver is not call.node.func.value:
        return call.node.func.attr
    return call.node


def _bind(function: cst.FunctionDef, call: cst.Call, skip_self: bool) -> dict[str, cst.BaseExpression]:
    """What the call gives the helper's parameters, ``*args`` and ``**kwargs`` included (a loop
    over ``args`` visits each argument); what a starred argument fills is unknown, but not what
    the positional arguments before it and the keywords fill: Python refuses a parameter given
    twice."""
    return bind(function, call, skip_self=skip_self, defaults=False, packed=True)


def _bound_target(model: CollectedFile, op: InitOp, call: HelperCall,
                  bound: dict[str, cst.BaseExpression]) -> Target | None:
    """The target of ``op`` with the helper's parameters replaced by the call's arguments."""
    node = written_tensor(op.target_node) if op.target_node is not None else None
    at_call = dataclasses.replace(op, owner=call.owner, loops=call.loops, conditions=call.conditions)
    if call.passed is not None and isinstance(node, cst.Attribute) and isinstance(node.value, cst.Name) \
            and isinstance(op.scope_node, cst.FunctionDef) and node.value.value == _returned_name(model, op.scope_node):
        # ``init_layer(nn.Linear(...))``, or ``Conv1d(...)`` that builds ``m``, initialises it and
        # returns it: the helper initialises the very module the call built.
        return Target(call.owner, (call.passed,), node.attr.value)
    if isinstance(node, cst.Name) and node.value in bound:
        return _target(model, dataclasses.replace(at_call, target_node=bound[node.value]))
    if isinstance(node, cst.Name) and (every := _every_parameter_of_argument(
            model, op, at_call, call, bound, node.value)) is not None:
        return every
    if isinstance(node, cst.Attribute) and isinstance(node.value, cst.Name) and node.value.value in bound:
        reach = _modules(model, call.owner, bound[node.value.value], at_call)
        if reach is None:
            return None
        modules, narrowed = _narrow(model, op, node.value.value, reach[0], depth=0)
        if not modules:
            return None
        return Target(call.owner, tuple(modules), node.attr.value, reach[1] or narrowed)
    variable = node.value if isinstance(node, cst.Attribute) else node
    if isinstance(variable, cst.Name) and _enclosing_loop(op, variable.value) is not None:
        # ``for m in net.modules(): ...`` with ``net`` a parameter: the loop over the argument.
        loops = _unrolled(tuple(_substituted(loop, bound) for loop in op.loops))
        if loops != op.loops:
            return _target(model, dataclasses.replace(op, owner=call.owner, loops=loops))
    return None


def _by_class_at_call(model: CollectedFile, op: InitOp, call: HelperCall,
                      bound: dict[str, cst.BaseExpression]) -> Target | None:
    """A helper called by a function that tests its module's class (``if isinstance(m, nn.Linear):
    init_normal(m.weight, std=s)``) writes, through the tensor the call hands it, the layers of
    the classes tested there, as if the caller wrote it (``_by_class``)."""
    node = written_tensor(op.target_node) if op.target_node is not None else None
    if not call.enclosing or not isinstance(node, cst.Name) or node.value not in bound:
        return None
    written_there = dataclasses.replace(op, owner=call.owner, method=call.method, target_node=bound[node.value],
                                        scope_node=call.enclosing[-1], enclosing=call.enclosing,
                                        conditions=call.conditions, loops=call.loops)
    return _by_class(model, written_there)


def _returned_name(model: CollectedFile, function: cst.FunctionDef) -> str | None:
    """The parameter a function returns, or the local name holding the module it builds and returns."""
    parameter = returned_parameter(function)
    if parameter is not None:
        return parameter
    made = returned_module(function, model.names)
    return made[0] if made is not None else None


def _every_parameter_of_argument(model: CollectedFile, op: InitOp, at_call: InitOp, call: HelperCall,
                                 bound: dict[str, cst.BaseExpression], variable: str) -> Target | None:
    """``def zero_module(module): for p in module.parameters(): p.detach().zero_()``: an
    unconditional loop over the parameters of an argument writes the weight of the module given
    (``zero_module(nn.Conv2d(...))`` or ``zero_module(self.proj)``)."""
    found = _enclosing_loop(op, variable)
    if found is None or op.conditions:
        return None
    iterated = found[1].iter
    if not (isinstance(iterated, cst.Call) and isinstance(iterated.func, cst.Attribute)
            and iterated.func.attr.value == "parameters" and isinstance(iterated.func.value, cst.Name)
            and iterated.func.value.value in bound):
        return None
    argument_name = iterated.func.value.value
    if call.passed is not None and argument_name == returned_parameter(op.scope_node):  # type: ignore[arg-type]
        modules = [call.passed]
    else:
        reach = _modules(model, call.owner, bound[argument_name], at_call)
        if reach is None or len(reach[0]) != 1:
            return None
        modules = reach[0]
    if modules[0].kind not in knowledge.PARAMETERISED_KINDS:
        return None  # a container or a block: which of its layers have a weight is another question
    return Target(call.owner, tuple(modules), "weight")


def _substituted(loop: cst.For, bound: dict[str, cst.BaseExpression]) -> cst.For:
    """The loop with the helper's parameters in its iterable replaced by the call's arguments."""
    iterated = loop.iter.visit(_Substitute(bound))
    return loop if iterated is loop.iter else loop.with_changes(iter=iterated)


def _unrolled(loops: tuple[cst.For, ...]) -> tuple[cst.For, ...]:
    """A loop over one item (``for model in (self,)``, what ``*models`` binds for one argument)
    binds its variable to that item: the loops inside it read the item itself."""
    result = list(loops)
    for index, loop in enumerate(result):
        items = loop.iter.elements if isinstance(loop.iter, (cst.Tuple, cst.List)) else ()
        if len(items) == 1 and isinstance(items[0], cst.Element) and isinstance(loop.target, cst.Name):
            one = {loop.target.value: items[0].value}
            result[index + 1:] = [_substituted(inner, one) for inner in result[index + 1:]]
    return tuple(result)


class _Substitute(cst.CSTTransformer):
    """Names replaced by the expressions bound to them. (A class of the module: one made in a
    function is a reference cycle, which would keep the nodes it was given alive.)"""

    def __init__(self, bound: dict[str, cst.BaseExpression]) -> None:
        super().__init__()
        self.bound = bound

    def leave_Name(self, original_node: cst.Name, updated_node: cst.Name) -> cst.BaseExpression:
        return self.bound.get(original_node.value, updated_node)


def _called_function(model: CollectedFile, owner: ModuleClass, func: cst.BaseExpression,
                     scopes: Sequence[cst.FunctionDef]) -> cst.FunctionDef | None:
    if isinstance(func, cst.Attribute) and isinstance(func.value, cst.Name) and func.value.value == "self":
        return _method(model, owner, func.attr.value)
    if isinstance(func, cst.Name):
        written = model.functions.get(func.value)
        if written is None:
            return None  # no function of that name is written in the file, nested or not
        # The innermost enclosing function binding the name first, as Python looks it up.
        local = next((f for s in reversed(scopes) if (f := _local_function(s, func.value)) is not None), None)
        return local or written
    return None


def _class_attribute(model: CollectedFile, func: cst.BaseExpression
                     ) -> tuple[cst.FunctionDef, CollectedFile] | None:
    """``Net.init_weights`` (``models.Net.init_weights``): a function read from a class of this
    file or of another project file, base classes included; the class hands it on unbound."""
    if not isinstance(func, cst.Attribute):
        return None
    if isinstance(func.value, cst.Name) and func.value.value in model.classes:
        found: tuple[ModuleClass, CollectedFile] | None = (model.classes[func.value.value], model)
    else:
        dotted = get_full_name_for_node(func.value)
        found = model.links.module_class(dotted) if dotted is not None and model.links is not None else None
    if found is None:
        return None
    method = _method(found[1], found[0], func.attr.value)
    return None if method is None else (method, found[1])


def _local_function(scope: cst.FunctionDef, name: str) -> cst.FunctionDef | None:
    """The ``def name`` written in ``scope``'s own body (the last one, which rebinds the name):
    Python binds it in that function's local scope, where it hides a function of the same name
    written elsewhere in the file."""
    found = None
    for statement in _statements(scope.body):
        if isinstance(statement, cst.FunctionDef) and statement.name.value == name:
            found = statement
    return found


def _statements(suite: cst.BaseSuite) -> Iterator[cst.BaseStatement]:
    """The statements of a suite and of the compound statements in it (``if``, ``for``,
    ``while``, ``with``, ``try``, ``match``), in the order written; not those of a nested ``def``
    or ``class``. (Only a statement can define a function: no expression is visited.)"""
    if not isinstance(suite, cst.IndentedBlock):
        return
    for statement in suite.body:
        yield statement
        if not isinstance(statement, (cst.FunctionDef, cst.ClassDef)):
            for part in _suites(statement):
                yield from _statements(part)


def _suites(statement: cst.BaseStatement) -> list[cst.BaseSuite]:
    body = getattr(statement, "body", None)
    suites = [body] if isinstance(body, cst.BaseSuite) else []
    suites += [clause.body for clause in (*getattr(statement, "handlers", ()), *getattr(statement, "cases", ()))]
    orelse = getattr(statement, "orelse", None)
    while isinstance(orelse, cst.If):  # elif
        suites.append(orelse.body)
        orelse = orelse.orelse
    if orelse is not None:
        suites.append(orelse.body)
    if (final := getattr(statement, "finalbody", None)) is not None:
        suites.append(final.body)
    return suites


def _callee(model: CollectedFile, owner: ModuleClass, func: cst.BaseExpression,
            scopes: Sequence[cst.FunctionDef] = ()) -> tuple[cst.FunctionDef, list[InitOp]] | None:
    """The function a call runs, of this file or imported from another project file, and the
    init operations to look for in it; ``scopes``: the functions the call is written in."""
    found = _callee_in(model, owner, func, scopes)
    return None if found is None else (found[0], found[1])


def _callee_in(model: CollectedFile, owner: ModuleClass, func: cst.BaseExpression,
               scopes: Sequence[cst.FunctionDef] = ()) -> tuple[cst.FunctionDef, list[InitOp], CollectedFile] | None:
    """``_callee`` and the model of the file the function is written in."""
    function = _called_function(model, owner, func, scopes)
    if function is not None:
        return function, model.init_ops, model
    dotted = get_full_name_for_node(func) if isinstance(func, (cst.Name, cst.Attribute)) else None
    if dotted is not None and model.links is not None:  # ``helper`` or ``module.helper``
        imported = model.links.function(dotted)
        if imported is not None:
            return imported[0], imported[1].written_ops, imported[1]
    read = _class_attribute(model, func)
    if read is not None:
        return read[0], (model.init_ops if read[1] is model else list(read[1].written_ops)), read[1]
    return None


def _applied_function(model: CollectedFile, call: ApplyCall
                      ) -> tuple[cst.FunctionDef, list[InitOp], CollectedFile] | None:
    applied = _applied(model, call)
    return None if applied is None else applied[0]


def _applied(model: CollectedFile, call: ApplyCall
             ) -> tuple[tuple[cst.FunctionDef, list[InitOp], CollectedFile], cst.FunctionDef | None] | None:
    """The function ``apply`` runs, with its file's operations and model, and the factory whose
    call returned it (``apply(weights_init("kaiming"))``: the closure defined in
    ``weights_init``), None for a function named or handed through ``partial``."""
    node = call.function
    if _is_partial(model, node) and isinstance(node, cst.Call) and node.args:
        node = node.args[0].value
    scope = _method(model, call.owner, call.method) if call.owner.is_module and call.method else (
        call.owner.node if isinstance(call.owner.node, cst.FunctionDef) else None)
    scopes = (scope,) if scope is not None else ()
    if not isinstance(node, cst.Call):
        callee = _callee_in(model, call.owner, node, scopes)
        return None if callee is None else (callee, None)
    factory = _callee_in(model, call.owner, node.func, scopes)
    closure = _returned_closure(factory[0]) if factory is not None else None
    return None if factory is None or closure is None else ((closure, factory[1], factory[2]), factory[0])


def _is_partial(model: CollectedFile, node: cst.BaseExpression) -> bool:
    """``functools.partial(init_fn, ...)``."""
    return isinstance(node, cst.Call) and any(n.endswith("partial") for n in model.names(node.func))


def _returned_closure(factory: cst.FunctionDef) -> cst.FunctionDef | None:
    """The function defined in ``factory``'s own body that its one ``return`` hands back."""
    if not isinstance(factory.body, cst.IndentedBlock):
        return None
    inner = {s.name.value: s for s in factory.body.body if isinstance(s, cst.FunctionDef)}
    returns = [small.value for small in small_statements(factory) if isinstance(small, cst.Return)]
    if len(returns) != 1 or not isinstance(returns[0], cst.Name):
        return None
    return inner.get(returns[0].value)


def _wrapped_ops(model: CollectedFile, source: CollectedFile, function: cst.FunctionDef,
                 ops: list[InitOp], depth: int = 1) -> Iterator[InitOp]:
    """``def glorot(t): init.xavier_uniform_(t)`` called as ``glorot(m.weight)`` in ``function``
    (of ``source``): what the functions of that file it calls with a tensor run unconditionally
    on their parameter, as if ``function`` wrote it on the argument, in the call's tests (up to
    ``_HELPER_DEPTH`` calls deep)."""
    for call in source.helper_calls:
        if not (call.enclosing and call.enclosing[-1] is function and isinstance(call.function, cst.Name)):
            continue
        wrapper = source.functions.get(call.function.value)
        if wrapper is None or wrapper is function:
            continue
        bound = _bind(wrapper, call.node, skip_self=False)
        values = bind(wrapper, call.node, skip_self=False, packed=True)
        inner = [op for op in ops if op.scope_node is wrapper and not op.conditions and not op.loops]
        if depth < _HELPER_DEPTH:
            inner += _wrapped_ops(model, source, wrapper, ops, depth + 1)
        for op in inner:
            node = written_tensor(op.target_node) if op.target_node is not None else None
            if isinstance(node, cst.Name) and node.value in bound:
                written = dataclasses.replace(op, owner=call.owner, method=call.method, target_node=bound[node.value],
                                              scope_node=function, enclosing=call.enclosing,
                                              conditions=call.conditions, loops=call.loops)
                yield _with_values(model, written, call, values)


def _method(model: CollectedFile, owner: ModuleClass, name: str) -> cst.FunctionDef | None:
    """A method of the class or of a base class defined in this file."""
    defining = defining_class(model.classes, owner, name)
    return None if defining is None else defining.methods[name]


def defining_class(classes: Mapping[str, ModuleClass], owner: ModuleClass, method: str) -> ModuleClass | None:
    """The class, ``owner`` or a base class of it among ``classes``, whose definition of
    ``method`` an instance of ``owner`` runs (bases in breadth-first order)."""
    seen: set[str] = set()
    pending = [owner]
    while pending:
        current = pending.pop(0)
        if current.name in seen:
            continue
        seen.add(current.name)
        if method in current.methods:
            return current
        pending.extend(classes[b] for b in current.bases if b in classes)
    return None


def _applied_target(model: CollectedFile, op: InitOp, owner: ModuleClass, parameter: str,
                    modules: list[Submodule], receiver: cst.BaseExpression | None = None,
                    written_in: CollectedFile | None = None) -> Target | None:
    """What ``op`` writes in the modules ``owner.apply`` reaches: layers of ``owner``, so that a
    later write of the same layer in that class supersedes it. ``written_in``: the file of the
    applied function, where the classes its tests name are bound (``model`` by default)."""
    assert op.owner is not None and op.target_node is not None
    node = written_tensor(op.target_node)
    if isinstance(node, cst.Name) and receiver is not None:
        return _receiver_visit_target(model, op, owner, parameter, receiver, node.value)
    members = _member_names(node.value, parameter) if isinstance(node, cst.Attribute) else None
    if members is None:
        return None
    narrowed, exact = _narrow(written_in or model, op, parameter, modules, depth=0)
    narrowed = _constructed_for(model, written_in or model, op, parameter, narrowed)
    held = [member for module in narrowed if (member := _member(module, members)) is not None]
    exact = exact and len(held) == len(narrowed)
    return Target(owner, tuple(held), node.attr.value, exact) if held else None


def _constructed_for(model: CollectedFile, written_in: CollectedFile, op: InitOp, parameter: str,
                     modules: list[Submodule]) -> list[Submodule]:
    """The visited modules whose construction leaves the tests of their attributes around ``op``
    open or taken: ``if m.he_init:`` skips an instance built ``Conv(c, k, he_init=False)``, the
    value ``__init__`` stored from that argument (``self.he_init = he_init``)."""
    tests = [(condition.test, positive) for condition, positive, _ in op.conditions]
    kept = []
    for module in modules:
        stored = _stored_literals(model, written_in, module) if tests else {}
        held = {f"{parameter}.{attribute}": value for attribute, value in stored.items()}
        if not (held and any(decided(test, held) is (not positive) for test, positive in tests)):
            kept.append(module)
    return kept


def _stored_literals(model: CollectedFile, written_in: CollectedFile, module: Submodule) -> dict[str, cst.BaseExpression]:
    """The literals an instance's construction binds, given or by default, to the parameters its
    class's ``__init__`` stores as attributes, by attribute."""
    if module.kind is not LayerKind.CUSTOM or module.class_name is None or not isinstance(module.node, cst.Call):
        return {}
    built = _class_named(written_in, module.class_name) or _class_named(model, module.class_name)
    if built is None:
        return {}
    literals = _construction_literals(None, built, module.node)
    return {attribute: value for attribute, (param, _) in built.argument_attributes.items()
            if (value := literals.get(param)) is not None}


def _class_named(model: CollectedFile, name: str) -> ModuleClass | None:
    """The module class ``name`` is in the file: its own, or one it imports from the project."""
    found = _built_class(model, name) or (model.links.module_class(name) if model.links is not None else None)
    return found[0] if found is not None else None


def _member_names(node: cst.BaseExpression, parameter: str) -> tuple[str, ...] | None:
    """The attributes read from ``parameter`` down to a module: ``()`` for ``m`` (``m.weight``),
    ``("conv",)`` for ``m.conv`` (``m.conv.weight``, a layer the visited block holds); None when
    ``node`` starts elsewhere."""
    names: list[str] = []
    while isinstance(node, cst.Attribute):
        names.append(node.attr.value)
        node = node.value
    return tuple(reversed(names)) if is_name(node, parameter) else None


def _member(module: Submodule, names: Sequence[str]) -> Submodule | None:
    """The module ``module`` holds under the attributes ``names``, as Python reads
    ``m.conv``; None when its layers do not show one."""
    for name in names:
        module = next((child for child in module.children if child.path.rpartition(".")[2] == name), None)
        if module is None:
            return None
    return module


def _receiver_visit_target(model: CollectedFile, op: InitOp, owner: ModuleClass, parameter: str,
                           receiver: cst.BaseExpression, variable: str) -> Target | None:
    """``apply`` runs its function on every module inside the receiver first and on the receiver
    itself last: a loop there over the module's parameters (``for p in m.parameters():
    normal_(p)``), where the tests around the loop take the receiver's class, writes the
    tensors of every layer the receiver holds after what the visits of those layers wrote."""
    found = _enclosing_loop(op, variable)
    reach = _modules(model, owner, receiver)
    if found is None or reach is None:
        return None
    depth, loop = found
    iterated = loop.iter
    if not (isinstance(iterated, cst.Call) and isinstance(iterated.func, cst.Attribute)
            and iterated.func.attr.value in _PARAMETER_METHODS and is_name(iterated.func.value, parameter)):
        return None
    root = Submodule("", LayerKind.CUSTOM, owner.name, receiver) if is_name(receiver, "self") \
        else reach[0][0] if len(reach[0]) == 1 else None
    aliases = class_name_aliases(op.enclosing[-1], parameter) if op.enclosing else frozenset()
    for condition, positive, open_loops in op.conditions:
        if open_loops >= depth:
            continue  # a test of the parameter, read by the loop's target
        test = class_test(model, condition.test, parameter, aliases)
        if root is None or test is None or not (positive or test.whole) or test.matches(root) != positive:
            return None
    visit = dataclasses.replace(op, owner=owner, loops=tuple(_substituted(inner, {parameter: receiver})
                                                             for inner in op.loops),
                                conditions=_in_loop_of(op, variable))
    return _parameter_loop_target(model, visit, variable)


def _in_loop_of(op: InitOp, variable: str) -> tuple[tuple[cst.If, bool, int], ...]:
    """The tests around ``op`` inside the loop that binds ``variable``."""
    found = _enclosing_loop(op, variable)
    depth = found[0] if found is not None else 0
    return tuple(c for c in op.conditions if c[2] >= depth)


# ------------------------------------------------------------------------ direct targets


def _target(model: CollectedFile, op: InitOp) -> Target | None:
    owner = op.owner
    assert owner is not None and op.target_node is not None
    node = written_tensor(op.target_node)
    if isinstance(node, cst.Name) and not owner.is_module and node.value in owner.parameters:
        # A trained tensor the script holds in a variable (``collect._script_parameter``).
        return Target(owner, (), node.value, parameter_ndim=owner.parameters[node.value])
    if isinstance(node, cst.Name):
        return _parameter_loop_target(model, op, node.value)
    accessed = accessed_attribute(node)
    if accessed is None:
        return None
    base, param = accessed
    if isinstance(base, cst.Name) and base.value == "self" and owner.is_module:
        if param in owner.parameters:
            return Target(owner, (), param, parameter_ndim=owner.parameters[param])
        return None
    reach = _modules(model, owner, base, op)
    if reach is None:
        return None
    return Target(owner, tuple(reach[0]), param, reach[1])


def target_of(model: CollectedFile, op: InitOp, node: cst.BaseExpression) -> Target | None:
    """What the tensor expression ``node`` denotes where ``op`` is written (its owner, loops and
    tests): ``self.fc1.weight``, ``m.weight`` in an isinstance-narrowed loop."""
    return _target(model, dataclasses.replace(op, target_node=node)) if op.owner is not None else None


def _modules(model: CollectedFile, owner: ModuleClass, node: cst.BaseExpression,
             op: InitOp | None = None) -> Reach | None:
    """Submodules an expression denotes (``self``, ``self.fc``, ``self.net[0]``, a loop variable)."""
    if isinstance(node, cst.Name) and node.value == "self" and owner.is_module:
        return list(model.attributes(owner).values()), True
    if isinstance(node, cst.Attribute) and isinstance(node.value, cst.Name) and node.value.value == "self":
        module = model.attributes(owner).get(node.attr.value)
        return ([module], True) if module is not None else None
    if isinstance(node, cst.Name):
        key = op.renamed.get(node.value, node.value) if op is not None else node.value
        attributes = model.attributes(owner)
        if key in attributes and not owner.is_module:
            return [attributes[key]], True
        return _loop_variable(model, owner, op, node.value) if op is not None else None
    if isinstance(node, (cst.Attribute, cst.Subscript)):
        parents = _modules(model, owner, node.value, op)
        if parents and len(parents[0]) == 1:
            child = parents[0][0].selected(node)
            return ([child], parents[1]) if child is not None else None
    return None


# ------------------------------------------------------------------------ loops


def loop_target(loop: cst.For) -> str | None:
    """``m`` in ``for m in ...``, ``for name, m in ...`` and ``for i, m in enumerate(...)``. None
    where the one name a loop binds gets a pair (``for m in self.named_modules()``): a tuple is
    no module nor tensor, so a test of its class is never true and nothing is written through it."""
    target = loop.target
    if isinstance(target, cst.Name):
        return None if _yields_pairs(loop.iter) else target.value
    if isinstance(target, (cst.Tuple, cst.List)) and target.elements:
        last = target.elements[-1].value
        return last.value if isinstance(last, cst.Name) else None
    return None


def _yields_pairs(iterated: cst.BaseExpression) -> bool:
    """``self.named_modules()``, ``enumerate(layers)``: an iterable of (name or index, item)."""
    if not isinstance(iterated, cst.Call):
        return False
    func = iterated.func
    return (isinstance(func, cst.Attribute) and func.attr.value in knowledge.PAIR_METHODS) \
        or (isinstance(func, cst.Name) and func.value in knowledge.PAIR_FUNCTIONS)


def _loop_name(target: cst.BaseExpression) -> str | None:
    """``name`` in ``for name, p in ...named_parameters()``."""
    if isinstance(target, (cst.Tuple, cst.List)) and len(target.elements) == 2:
        first = target.elements[0].value
        return first.value if isinstance(first, cst.Name) else None
    return None


def _enclosing_loop(op: InitOp, variable: str) -> tuple[int, cst.For] | None:
    for depth in range(len(op.loops), 0, -1):
        loop = op.loops[depth - 1]
        if loop_target(loop) == variable:
            return depth, loop
    return None


def _iterated(model: CollectedFile, owner: ModuleClass, op: InitOp, node: cst.BaseExpression,
              methods: tuple[str, ...]) -> list[Submodule] | None:
    """Submodules behind ``X.modules()`` (or another of ``methods``), ``enumerate(...)`` included,
    or a literal list of modules (``for layer in (self.fc1, self.fc2)``)."""
    if isinstance(node, cst.Call) and isinstance(node.func, cst.Name) and node.func.value == "enumerate" and node.args:
        return _iterated(model, owner, op, node.args[0].value, methods)
    if isinstance(node, (cst.List, cst.Tuple)) and methods != _PARAMETER_METHODS:
        found = []
        for element in node.elements:
            reach = _modules(model, owner, element.value, op)
            if reach is None or len(reach[0]) != 1:
                return None
            found.append(reach[0][0])
        return found
    if isinstance(node, cst.Call) and isinstance(node.func, cst.Attribute) and node.func.attr.value in methods:
        reach = _modules(model, owner, node.func.value, op)
        if reach is None:
            return None
        roots = reach[0]
        if node.func.attr.value in _CHILDREN_METHODS:
            on_self = isinstance(node.func.value, cst.Name) and node.func.value.value == "self"
            return roots if on_self else [child for root in roots for child in root.children]
        return [m for root in roots for m in root.walk()]
    if methods == _MODULE_METHODS + _CHILDREN_METHODS:
        reach = _modules(model, owner, node, op)
        if reach and len(reach[0]) == 1 and reach[0][0].kind is LayerKind.CONTAINER:
            return list(reach[0][0].children)
    return None


def tests_element(model: CollectedFile, op: InitOp, condition: cst.If) -> bool:
    """Whether an ``if`` guarding ``op`` only tests the element a loop of it visits
    (``isinstance(m, nn.Linear)``, ``p.dim() > 1``): it picks what the op writes, which its
    target already says, rather than whether the op runs at all."""
    written = written_tensor(op.target_node) if op.target_node is not None else None
    for loop in op.loops:
        variable = loop_target(loop)
        if variable is not None and _element_test(model, condition.test, variable, _loop_name(loop.target), written,
                                                  op.aliases):
            return True
    return False


def _element_test(model: CollectedFile, test: cst.BaseExpression, variable: str, name_variable: str | None,
                  written: cst.BaseExpression | None, aliases: frozenset[str] = frozenset()) -> bool:
    """Whether every part of an ``and`` picks elements: by class, by parameter (also through
    a local name bound to it, ``aliases``), or by having the tensor the op writes (``m.bias is
    not None`` before writing ``m.bias``: an element without one has nothing to write)."""
    if isinstance(test, cst.BooleanOperation) and isinstance(test.operator, cst.And):
        return _element_test(model, test.left, variable, name_variable, written, aliases) \
            and _element_test(model, test.right, variable, name_variable, written, aliases)
    parameter = parameter_test(test, variable, name_variable, aliases=aliases)
    klass = class_test(model, test, variable, frozenset())
    return (parameter is not None and parameter[1]) or (klass is not None and klass.whole) \
        or _has_written(test, variable, written)


def _has_written(test: cst.BaseExpression, variable: str, written: cst.BaseExpression | None) -> bool:
    """``m.bias is not None`` where the op writes ``m.bias``."""
    if not (isinstance(test, cst.Comparison) and len(test.comparisons) == 1
            and isinstance(test.comparisons[0].operator, cst.IsNot)
            and is_name(test.comparisons[0].comparator, "None")):
        return False
    tested = test.left
    return isinstance(tested, cst.Attribute) and is_name(tested.value, variable) \
        and isinstance(written, cst.Attribute) and is_name(written.value, variable) \
        and written.attr.value == tested.attr.value


def _around(op: InitOp, depth: int) -> InitOp:
    """``op`` as seen from the iterable of its loop at ``depth``, which is evaluated before that
    loop binds its variable: ``for m in m.modules()`` (a helper called on its own loop variable)
    reads the ``m`` of the loops around it."""
    return dataclasses.replace(op, loops=op.loops[:depth - 1])


def _loop_variable(model: CollectedFile, owner: ModuleClass, op: InitOp, name: str) -> Reach | None:
    """``for m in self.modules(): if isinstance(m, nn.Linear): init(m.weight)``."""
    found = _enclosing_loop(op, name)
    if found is None:
        return None
    depth, loop = found
    collection = _iterated(model, owner, _around(op, depth), loop.iter, _MODULE_METHODS + _CHILDREN_METHODS)
    if collection is None:
        return None
    modules, narrowed = _narrow(model, op, name, collection, depth)
    names = _module_names(model, owner, op, loop)
    if names is not None:  # ``for name, m in self.named_modules(): if name == "fc1": ...``
        for condition, positive, open_loops in op.conditions:
            test = combined(condition.test, lambda atom: name_predicate(atom, _loop_name(loop.target)))
            if open_loops < depth or test is None or not (positive or test[1]):
                continue
            modules = [m for m in modules if test[0](names.get(m.path, m.path)) == positive]
            # Names pick modules one by one: what a test keeps is known, whichever branch.
            narrowed = narrowed or positive or all(m.kind in knowledge.PARAMETERISED_KINDS for m in modules)
    # Without an isinstance test the set is still exact when every member has parameters
    # (a literal list of layers, a ModuleList of Linear layers).
    return modules, narrowed or all(m.kind in knowledge.PARAMETERISED_KINDS for m in collection)


def _module_names(model: CollectedFile, owner: ModuleClass, op: InitOp, loop: cst.For) -> dict[str, str] | None:
    """The name ``named_modules()``/``named_children()`` gives each module, by path: relative to
    the module it is called on (``self.net.named_children()`` names ``net.fc1`` "fc1")."""
    call = loop.iter
    if not (isinstance(call, cst.Call) and isinstance(call.func, cst.Attribute)
            and call.func.attr.value in ("named_modules", "named_children")):
        return None
    prefix = _names_prefix(model, owner, op, call.func.value)
    if prefix is None:
        return None
    roots = _iterated(model, owner, op, call, _MODULE_METHODS + _CHILDREN_METHODS) or []
    return {m.path: m.path[len(prefix):] if m.path.startswith(prefix) else "" for m in roots}


def _names_prefix(model: CollectedFile, owner: ModuleClass, op: InitOp, receiver: cst.BaseExpression) -> str | None:
    """What the names a ``named_*()`` loop gives leave out of each path: the path of the module
    it is called on, ``receiver`` (``self.net.named_parameters()`` names ``net.fc1``'s weight
    "fc1.weight"); None when that module is not one known module."""
    if is_name(receiver, "self"):
        return ""
    reach = _modules(model, owner, receiver, op)
    return reach[0][0].path + "." if reach is not None and len(reach[0]) == 1 else None


def _narrow(model: CollectedFile, op: InitOp, name: str, modules: list[Submodule], depth: int) -> Reach:
    """Apply the class tests guarding ``op`` (inside loop ``depth``) to the modules ``name`` may be.

    A branch keeps the modules its test may select: the ``if`` branch those matching a test, an
    ``else`` branch or the code after ``if ...: return`` those a whole test surely rejects. The
    result is exact once a branch selects modules by class (``isinstance(m, nn.Linear)``, or
    ``not isinstance(...)`` then ``return``); "everything but a Conv" is not."""
    narrowed = False
    aliases = class_name_aliases(op.enclosing[-1], name) if op.enclosing else frozenset()
    for condition, positive, open_loops in op.conditions:
        if open_loops < depth:
            continue  # the test runs outside the loop
        test = class_test(model, condition.test, name, aliases)
        if test is None or not (positive or test.whole):
            continue
        modules = [m for m in modules if test.matches(m) == positive]
        narrowed = narrowed or test.selects == positive
    return modules, narrowed


# ------------------------------------------------------------------------ parameters() loops


def _parameter_loop_target(model: CollectedFile, op: InitOp, variable: str) -> Target | None:
    """``for name, p in self.named_parameters(): if p.dim() > 1: xavier_uniform_(p)``."""
    owner = op.owner
    assert owner is not None
    found = _enclosing_loop(op, variable)
    if found is None:
        return None
    depth, loop = found
    if isinstance(loop.iter, (cst.List, cst.Tuple)):
        return _listed_tensors(model, op, loop.iter)
    layers = _iterated(model, owner, _around(op, depth), loop.iter, _PARAMETER_METHODS)
    if layers is None:
        return None
    if not layers and len(owner.parameters) == 1 and _iterates_self(loop.iter):
        # A class whose one tensor is a bare Parameter: the loop's element is that Parameter.
        name, ndim = next(iter(owner.parameters.items()))
        return Target(owner, (), name, True, parameter_ndim=ndim)
    receiver = loop.iter.func.value if isinstance(loop.iter, cst.Call) and isinstance(loop.iter.func, cst.Attribute) \
        else None
    prefix = _names_prefix(model, owner, _around(op, depth), receiver) if receiver is not None else None
    return _looped_tensors(model, op, owner, (depth, loop), variable, layers, prefix or "")


def _looped_tensors(model: CollectedFile, op: InitOp, owner: ModuleClass, found: tuple[int, cst.For],
                    variable: str, layers: Sequence[Submodule], prefix: str, by_class: bool = False) -> Target:
    """The tensors of ``layers`` a loop over their parameters writes, kept by the tests of the
    tensor inside the loop (``if p.dim() > 1``, ``"weight_hh" in name``); ``prefix``: what the
    names a ``named_parameters()`` loop gives leave out of each layer's path."""
    depth, loop = found
    pairs = [(m, p) for m in layers for p in _parameters_of(model, m)]
    name_variable = _loop_name(loop.target)
    narrowed = unread = False
    for condition, positive, open_loops in op.conditions:
        if open_loops < depth:
            continue
        test = parameter_test(condition.test, variable, name_variable, model, prefix, op.aliases)
        if test is None or not (positive or test[1]):
            unread = True  # a test inside the loop that is not read: it may skip any tensor
            continue
        pairs = [(m, p) for m, p in pairs if test[0](m, p) == positive]
        narrowed = True
    if op.rejected is not None and op.rejected >= depth:
        # ``try: kaiming_normal_(p) except: p.data.fill_(1)``: the clause runs for the vectors.
        pairs = [(m, p) for m, p in pairs if not _matrix(m, p)]
        narrowed = True
    if not narrowed and op.errors_swallowed is not None and op.errors_swallowed >= depth \
            and knowledge.INIT_FUNCTIONS[op.function].min_dim >= 2:
        # ``try: xavier_uniform_(p) except: pass`` in the loop: the vectors raise and are skipped.
        pairs = [(m, p) for m, p in pairs if _matrix(m, p)]
        narrowed = True
    # A custom norm's scale is its weight, whatever it is called; the other bare Parameters of
    # the file's classes, which a target of layers' weights cannot name, are left to the code
    # of their class.
    roles = [(m, "weight" if p in norm_scales(model, m) else p) for m, p in pairs
             if m.kind in knowledge.PARAMETERISED_KINDS or p in norm_scales(model, m)]
    gates = {p for _, p in roles if p.startswith(knowledge.RECURRENT_GATE_WEIGHTS)}
    if len(gates) == 1 and {p for _, p in roles} == gates:  # ``"weight_hh" in name``
        return Target(owner, tuple(m for m, _ in roles), gates.pop(), narrowed, by_class=by_class)
    # Beside other layers' weights, a recurrent layer's input and hidden weights are its weight.
    roles = [(m, "weight" if p in gates else p) for m, p in roles]
    # Every tensor a loop under no test writes is known (the weights with the biases), so are
    # those its tests keep when they keep weights only; but a fan-based init raises on the first
    # vector such a loop reaches, leaving what it wrote unknown.
    init = knowledge.INIT_FUNCTIONS.get(op.function)
    vectors = not narrowed and any(not _matrix(m, p) for m, p in pairs)
    exact = not unread and ({p for _, p in roles} == {"weight"} if narrowed
                            else not (vectors and init is not None and init.min_dim >= 2))
    return Target(owner, tuple({id(m): m for m, p in roles if p == "weight"}.values()), "weight", exact,
                  by_class=by_class, with_vectors=vectors)


def _matrix(module: Submodule, param: str) -> bool:
    """Whether a torch layer's ``param`` has two dimensions or more (what a fan-based init accepts)."""
    return param.startswith(knowledge.RECURRENT_GATE_WEIGHTS) \
        or (param == "weight" and module.kind is not LayerKind.NORM)


def _iterates_self(iterated: cst.BaseExpression) -> bool:
    """``self.parameters()`` (or ``named_parameters()``): the tensors of the class itself."""
    return isinstance(iterated, cst.Call) and isinstance(iterated.func, cst.Attribute) \
        and is_name(iterated.func.value, "self") and iterated.func.attr.value in _PARAMETER_METHODS


def _listed_tensors(model: CollectedFile, op: InitOp, items: cst.List | cst.Tuple) -> Target | None:
    """``for w in (self.fc1.weight, self.fc2.weight): init(w)``: one target over all of them."""
    targets = [_target(model, dataclasses.replace(op, target_node=e.value)) for e in items.elements]
    if not targets or any(t is None or not t.layers for t in targets):
        return None
    params = {t.param for t in targets if t is not None}
    if len(params) != 1:
        return None
    layers = tuple(m for t in targets if t is not None for m in t.layers)
    return Target(op.owner, layers, params.pop(), all(t.exact for t in targets if t is not None))  # type: ignore[arg-type]


def _parameters_of(model: CollectedFile, module: Submodule) -> tuple[str, ...]:
    """The tensors ``module`` registers itself: a torch layer's weight and bias, a class of the
    file's bare Parameters."""
    if module.kind in knowledge.PARAMETERISED_KINDS:
        return knowledge.RECURRENT_PARAMETERS.get(module.class_name or "", ("weight", "bias"))
    own = model.classes.get(module.class_name or "") if module.kind is LayerKind.CUSTOM else None
    return tuple(own.parameters) if own is not None else ()


def norm_scales(model: CollectedFile, module: Submodule) -> frozenset[str]:
    """The Parameters that scale what ``module`` normalises, where its class is a custom norm."""
    own = model.classes.get(module.class_name or "") if module.kind is LayerKind.CUSTOM else None
    return own.norm_scales() if own is not None else frozenset()


# ------------------------------------------------------------------------ order of execution


def execution_key(op: InitOp) -> tuple[float, ...]:
    """Order in which the class's construction runs an operation (helpers at their call site,
    then in their own order, ``op.within``; an ``apply``'s visit of its receiver after its visits
    of the modules inside)."""
    owner = op.owner
    seq = op.seq + (0.5 if op.receiver_visit else 0)
    if owner is None or not owner.is_module or op.method in (None, "__init__"):
        return (seq, 0, *op.within)
    called_at = owner.init_calls.get(op.method)
    return (called_at, seq, *op.within) if called_at is not None else (math.inf, seq, *op.within)


def surely_after(model: CollectedFile, later: InitOp, earlier: InitOp) -> bool:
    """Whether ``later``, run after ``earlier``, runs whenever ``earlier`` did: not when it is in
    an ``except`` clause that ``earlier`` is not in, nor run by a call under a test that
    ``earlier`` is not under, nor in a method that construction never calls
    (``load_pretrained_embeddings``) unless ``earlier`` is in that method too, nor in the other
    branch of an ``if`` or under a test of its own (one that only picks the classes or the
    element its target already holds aside)."""
    if execution_key(later)[0] == math.inf and later.method != earlier.method:
        return False
    # A call run under a test (``if reinit: self.apply(init)``) runs only where ``earlier`` did.
    tests = {id(node): branch for node, branch, _ in (*earlier.conditions, *earlier.call_conditions)}
    if any(tests.get(id(node)) != branch for node, branch, _ in later.call_conditions):
        return False
    if not all(any(handler is other for other in earlier.handlers) for handler in later.handlers):
        return False
    conditions = () if guarded_by_class_only(model, later) else later.conditions
    return all(tests.get(id(node)) == branch for node, branch, _ in conditions
               if not tests_element(model, later, node))


def written_layers(target: Target) -> set[tuple[str, int]]:
    """The layers a target writes, each as its path and the construction that made it: a name
    rebound to a new layer keeps its path but is another layer."""
    return {(m.path, id(m.node)) for m in target.layers}


def _inherited_superseded(model: _Resolving, inherited: list[InitOp], ops: list[InitOp],
                          built_at: set[int]) -> dict[int, frozenset[str]]:
    """An inherited op runs before everything here: any write here of the same layer, other
    than that very operation as the construction here runs it (at a call in ``built_at``) or
    another of its class's operations as the call building the op's instance runs it (the
    order of a class's own operations is its own), voids it there; the same helper applied
    again writes the tensors again. By id of the op, the paths voided."""
    written: dict[tuple[int, str, int, str], list[InitOp]] = {}
    for op in ops:
        if op.target is not None and op.method != "forward":
            for path, node in written_layers(op.target):
                written.setdefault((id(op.target.owner), path, node, op.target.param), []).append(op)
    instances: dict[int, dict[str, int]] = {}
    voided = {}
    for op in inherited:
        assert op.target is not None
        built = _instance_calls(model, op.target, instances) & built_at
        voided[id(op)] = frozenset(path for path, node in written_layers(op.target) if any(
            id(other.node) not in built and (other.as_written is not op.as_written or id(other.node) not in built_at)
            for other in written.get((id(op.target.owner), path, node, op.target.param), ())))
    return voided


def _instance_calls(model: _Resolving, target: Target, known: dict[int, dict[str, int]]) -> set[int]:
    """The ids of the calls that build the instances ``target``'s composed layers belong to
    (``Attn(c)`` of ``attn.q``); ``known``: by owner, each layer's node by path, filled once."""
    nodes = known.get(id(target.owner))
    if nodes is None:
        nodes = known[id(target.owner)] = {m.path: id(m.node) for m in model.layers(target.owner)}
    paths = {m.instance_path() for m in target.layers}
    return {nodes[path] for path in paths if path in nodes}


def _superseded(model: CollectedFile, ops: Iterable[InitOp]) -> dict[int, frozenset[str]]:
    """An op's effect on a layer is void when a later op of the same class fully rewrites it,
    through the layer's own name or a name tied to it: by id of the op, the paths voided."""
    writes: dict[tuple[int, str, int, str], list[tuple[tuple[float, float], InitOp, str]]] = {}
    for op in ops:
        if op.target is None or op.method == "forward":
            continue
        for path, node in written_layers(op.target) or [(BARE_TENSOR, 0)]:
            writes.setdefault((id(op.target.owner), path, node, op.target.param), []).append((execution_key(op), op, path))
        for path, node, param in op.tied:  # a tie binds one layer: its path is the op's own
            own = op.target.layers[0].path
            writes.setdefault((id(op.target.owner), path, node, param), []).append((execution_key(op), op, own))
    superseded: dict[int, set[str]] = {}
    for entries in writes.values():
        for key, op, path in entries:
            if any(later_key > key and surely_after(model, later, op) for later_key, later, _ in entries):
                superseded.setdefault(id(op), set()).add(path)
    return {key: frozenset(paths) for key, paths in superseded.items()}


#: ``self.head.weight = self.embed.weight``: the assignment, and the two tensors it makes one, as
#: (layer path, id of its node, parameter).
_Tie = tuple[InitOp, tuple[str, int, str], tuple[str, int, str]]


def _ties(model: CollectedFile, overwrites: Sequence[InitOp]) -> list[_Tie]:
    """The assignments, run unconditionally, binding a layer's tensor to another layer of the
    same class: from then on a write through either name writes both."""
    ties: list[_Tie] = []
    for op in overwrites:
        if op.target is None or len(op.target.layers) != 1 or op.conditions or op.loops \
                or not isinstance(op.node, cst.Assign):
            continue
        source = target_of(model, op, op.node.value)
        if source is not None and source.owner is op.target.owner and len(source.layers) == 1:
            one, other = ((t.layers[0].path, id(t.layers[0].node), t.param) for t in (op.target, source))
            ties.append((op, one, other))
    return ties


def _tied(op: InitOp, ties: Sequence[_Tie]) -> InitOp:
    """``op`` with the tensors tied to the one it writes before it runs (``InitOp.tied``)."""
    if op.target is None or len(op.target.layers) != 1:
        return op
    layer = op.target.layers[0]
    written = (layer.path, id(layer.node), op.target.param)
    key = execution_key(op)
    tied = {other if written == one else one for tie, one, other in ties
            if written in (one, other) and tie.owner is op.owner and key > execution_key(tie)}
    return dataclasses.replace(op, tied=frozenset(tied)) if tied else op


# ------------------------------------------------------------------------ helpers judged alone


def _judged_alone(model: _Resolving) -> list[InitOp]:
    """The operations, with a helper's operation that nothing here resolved (no ``apply``/call
    of this file reaches it) given the target its class tests fix, so that what holds for every
    layer of those classes is judged where it is written."""
    resolved = {id(op.as_written) for op in model.init_ops if op.target is not None}
    return [dataclasses.replace(op, target=_by_class(model, op))
            if op.target is None and id(op.node) not in resolved else op for op in model.init_ops]


def _by_class(model: CollectedFile, op: InitOp) -> Target | None:
    """``def init(m): if isinstance(m, nn.BatchNorm2d): normal_(m.weight, 0, 0.02)``: a write to
    the helper's module parameter under tests that select torch.nn classes (``isinstance``,
    ``type(m) ==``, ``classname.find("Conv") != -1``, ``elif`` chains) writes the layers of those
    classes, one standing for each class; None without such a test."""
    function = op.scope_node
    if function is None or op.owner is None or op.target_node is None or op.method == "forward" \
            or op.via is InitVia.PARAMETER:
        return None
    node = written_tensor(op.target_node)
    parameter = _module_parameter(function)
    if parameter is None or _enclosing_loop(op, parameter):
        return None
    if isinstance(node, cst.Name):
        return _by_class_parameters(model, op, parameter, node.value)
    if not (isinstance(node, cst.Attribute) and is_name(node.value, parameter)) \
            or not node.attr.value.startswith(("weight", "bias", "in_proj")):
        return None
    param = node.attr.value
    every = [Submodule(parameter, knowledge.layer_kind(name) or LayerKind.UNKNOWN, name, node.value)
             for name in sorted(knowledge.PARAMETERISED_CLASSES) if knowledge.parameter_ndim(name, param)]
    layers, selected = _narrow(model, op, parameter, every, depth=0)
    return Target(op.owner, tuple(layers), param, by_class=True) if layers and selected else None


def _by_class_parameters(model: CollectedFile, op: InitOp, parameter: str, variable: str) -> Target | None:
    """``if classname.find("GRU") != -1: for p in m.parameters(): if p.dim() > 1: orthogonal_(p)``:
    a loop over the parameters of the helper's module, under tests that select its class, writes
    the tensors of those classes the tests inside the loop keep (``_by_class``)."""
    found = _enclosing_loop(op, variable)
    iterated = found[1].iter if found is not None else None
    if found is None or op.owner is None \
            or not (isinstance(iterated, cst.Call) and isinstance(iterated.func, cst.Attribute)
                    and iterated.func.attr.value in _PARAMETER_METHODS and is_name(iterated.func.value, parameter)):
        return None
    # Each class that holds tensors of its own, one layer standing for every layer of that class.
    every = [Submodule(parameter, kind, name, iterated.func.value) for name in sorted(knowledge.PARAMETERISED_CLASSES)
             if (kind := knowledge.layer_kind(name) or LayerKind.UNKNOWN) in knowledge.PARAMETERISED_KINDS]
    layers, selected = _narrow(model, op, parameter, every, depth=0)
    if not layers or not selected:
        return None
    target = _looped_tensors(model, op, op.owner, found, variable, layers, "", by_class=True)
    return target if target.layers else None


def _module_parameter(function: cst.FunctionDef) -> str | None:
    """The parameter ``apply`` passes the module in: the first one, after ``self`` or ``cls``."""
    params = [p.name.value for p in function.params.params]
    if params[:1] in (["self"], ["cls"]):
        params = params[1:]
    return params[0] if params else None


def named_by_class(model: CollectedFile, op: InitOp, layer: Submodule) -> bool:
    """Whether a test around a helper's operation keeps ``layer``'s class by what it is
    (``isinstance(m, nn.BatchNorm2d)``, its class name) rather than only by what it holds
    (``hasattr(m, "weight")``): only then does the helper, read alone, mean that kind."""
    parameter = _module_parameter(op.scope_node) if op.scope_node is not None else None
    if parameter is None:
        return False
    aliases = class_name_aliases(op.scope_node, parameter)  # type: ignore[arg-type]
    # The branch taken picks classes out (``isinstance``, or the ``else`` of ``not isinstance``).
    return any((test := class_test(model, condition.test, parameter, aliases)) is not None and test.named
               and test.selects == positive and test.matches(layer) == positive
               for condition, positive, _ in op.conditions)


def guarded_by_class_only(model: CollectedFile, op: InitOp) -> bool:
    """Whether every ``if`` around a helper's operation tests only the class of its module:
    what it writes, it writes on every layer of those classes."""
    parameter = _module_parameter(op.scope_node) if op.scope_node is not None else None
    if parameter is None:
        return False
    aliases = class_name_aliases(op.scope_node, parameter)  # type: ignore[arg-type]
    return all((test := class_test(model, condition.test, parameter, aliases)) is not None and test.whole
               for condition, _, _ in op.conditions)
