"""Collection: the single traversal of a file, which records its facts as written.

It finds the nn.Module classes and their submodules (as the code builds them, before any class
is composed into another), every initialisation of a tensor (``nn.init.*`` calls, in-place
``zero_``/``fill_``/``copy_``, ``nn.Parameter(torch.zeros(...))``) with what it is written on but
not yet what it reaches, the ``apply`` and helper calls that run such code elsewhere, and the
references to deprecated ``torch.nn.init`` names. ``collect`` returns them as one immutable
:class:`Collection`; resolution (``targets.py``) reads it and never changes it.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Iterator, Mapping, Protocol, Sequence

import libcst as cst

from initaudit import knowledge
from initaudit.knowledge import LayerKind
from initaudit.lint.model.binding import (
    Bound,
    appended_sequential,
    bind,
    read_names,
    returned_construction,
    returned_values,
    substitute,
    unpacked,
)
from initaudit.lint.model.builders import BuilderSummary, chosen_return, summarise_builders
from initaudit.lint.model.chains import Step, carried, chain_start, following_steps
from initaudit.lint.model.facts import ApplyCall, CollectedFile, DeprecatedRef, HelperCall, InitOp, InitVia, ModuleClass
from initaudit.lint.model.modules import (
    INHERITED_KINDS,
    LocalList,
    list_key,
    Submodule,
    SubmoduleBuilder,
    added_bias,
    argument,
    constant_test,
    keyword_is,
    leaf_subclasses,
    module_definitions,
    module_tables,
    name_text,
    optional_default,
    literal_value,
    method_factors,
    parameter_names,
    product_factors,
    receiver_root,
    repeated_element,
    returned_module,
    returned_parameter,
    self_attribute_name,
    small_statements,
    target_names,
    tensor_behind,
    torch_nn_class,
    viewed_name,
    written_tensor,
)
from initaudit.lint.model.deprecated_names import DeprecatedNames
from initaudit.lint.model.names import NameResolver
from initaudit.lint.model.walk_context import WalkContext
from initaudit.lint.parse.walk import walk

#: The parameters of the in-place random draws: (position, keyword, the init function's name).
_DRAW_PARAMETERS: dict[str, list[tuple[int, str, str]]] = {
    "normal_": [(0, "mean", "mean"), (1, "std", "std")],
    "uniform_": [(0, "from", "a"), (1, "to", "b")],
}
#: Methods that add modules to a container or to a list of modules.
_GROWING_METHODS = ("append", "extend", "add_module")
#: Modules no project file can be: calls of their functions are no helper calls.
_INSTALLED = ("torch.", "math.", "numpy.", "functools.", "builtins.")


class ParsedFile(Protocol):
    """What the traversal asks of the file it reads: its names, and its project's classes."""

    module: cst.Module
    resolver: NameResolver
    #: ``file_model.Links``: the project's other files (None: the file alone).
    links: Any
    imported_classes: dict[str, tuple[ModuleClass, CollectedFile]]

    def names(self, node: cst.CSTNode) -> frozenset[str]: ...

    def imported_class(self, name: str) -> ModuleClass | None: ...


@dataclass(frozen=True)
class Collection:
    """The facts of one file as written, once its traversal is done."""

    #: The nn.Module classes (and other classes) of the file, by name.
    classes: Mapping[str, ModuleClass]
    #: The module body, then each function outside a class: scopes that build layers in variables.
    scopes: tuple[ModuleClass, ...]
    #: The init operations written in the file; their targets are not resolved.
    init_ops: tuple[InitOp, ...]
    #: Assignments replacing a layer's tensor, which void earlier inits of it (IA111).
    overwrites: tuple[InitOp, ...]
    #: Item assignments into a tensor (``w[:, 0::2] = table``): in-place writes of a part (IA107).
    partial_writes: tuple[InitOp, ...]
    deprecated_refs: tuple[DeprecatedRef, ...]
    #: ``from torch.nn.init import <alias>`` name tokens, by deprecated alias.
    deprecated_imports: Mapping[str, Sequence[cst.Name]]
    #: Local name each of those import tokens binds (differs with ``as``), by id of the token.
    import_local_names: Mapping[int, str]
    #: Variables (not attributes or keywords) spelled as a deprecated alias or its new name.
    alias_variables: Mapping[str, Sequence[cst.Name]]
    apply_calls: tuple[ApplyCall, ...]
    #: Functions defined outside classes, by name (for ``model.apply(init_fn)``).
    functions: Mapping[str, cst.FunctionDef]
    #: Class names tested with isinstance somewhere: an init routine handles them specially.
    dispatched: frozenset[str]
    #: Classes whose instances are handed to another class of the file (not final models).
    components: frozenset[str]
    #: Calls that may pass modules or tensors to a helper function of this file.
    helper_calls: tuple[HelperCall, ...]
    #: Calls of a name (``LinearNorm(...)``), by id: their sequence number and enclosing method.
    call_sites: Mapping[int, tuple[int, str | None]]
    #: Layers constructed inside a module class's methods: (call, class, method, guarded by an
    #: if — lazy creation).
    method_layers: tuple[tuple[cst.Call, ModuleClass, str, bool], ...]
    #: Functions of the file that build and return a Sequential, summarised (``mlp(...)``).
    builders: Mapping[str, BuilderSummary]
    #: Functions of the file that build a module and return it, with the module (unplaced),
    #: and those that return what another of them builds (``return Conv1d(...)``): its name.
    factory_modules: Mapping[str, Submodule]
    factory_chain: Mapping[str, str]
    #: Expressions made by reading a helper's returned tuple (``uniform_(*hidden_init(fc))``),
    #: by id: the written expression each stands for (``FileModel.stand_ins``).
    stand_ins: Mapping[int, tuple[cst.CSTNode, cst.CSTNode]]


def collect(file: ParsedFile) -> Collection:
    """Walks the file once and returns what it found, classes finished: an instance of a class
    of the file built by another module class, or handed to another class, is no model's output."""
    collector = _Collector(file)
    walk(file.module, collector)
    _type_argument_attributes(collector)
    _fill_argument_holders(collector)
    _bind_constructions(collector)
    _mark_components(collector)
    for scope in (*collector.classes.values(), *collector.scopes):
        for module in scope.layers():
            module.origin = module.origin or scope.name
            module.local_path = module.local_path or module.path
    factory_modules: dict[str, Submodule] = {}
    factory_chain: dict[str, str] = {}
    collector.factory_modules(factory_modules, factory_chain)
    return Collection(
        classes=MappingProxyType(collector.classes), scopes=tuple(collector.scopes),
        init_ops=tuple(collector.init_ops), overwrites=tuple(collector.overwrites),
        partial_writes=tuple(collector.partial_writes),
        deprecated_refs=tuple(collector.deprecated_refs),
        deprecated_imports=MappingProxyType(collector.deprecated_imports),
        import_local_names=MappingProxyType(collector.import_local_names),
        alias_variables=MappingProxyType(collector.alias_variables),
        apply_calls=tuple(collector.apply_calls), functions=MappingProxyType(collector.functions),
        dispatched=frozenset(collector.dispatched), components=frozenset(collector.components),
        helper_calls=tuple(collector.helper_calls), call_sites=MappingProxyType(collector.call_sites),
        method_layers=tuple(collector.method_layers), builders=MappingProxyType(collector.builders),
        factory_modules=MappingProxyType(factory_modules), factory_chain=MappingProxyType(factory_chain),
        stand_ins=MappingProxyType(collector.stand_ins))


def _mark_components(collector: _Collector) -> None:
    """A class of the file is a block, not a model, when another class is handed its instances or
    a module class of the file builds one."""
    classes = collector.classes
    blocks = set(collector.components)
    for owner in classes.values():
        if owner.is_module:
            blocks.update(m.class_name for m in owner.layers() if m.kind is LayerKind.CUSTOM
                          and m.class_name is not None and m.class_name != owner.name)
    for name in blocks & classes.keys():
        classes[name].is_root = False


class _Collector(WalkContext, DeprecatedNames):
    """The single traversal: gathers the facts as written; targets are resolved after it. Where
    the walk is (tests, loops, ``no_grad``) is ``WalkContext``'s; deprecated names are
    ``DeprecatedNames``'."""

    def __init__(self, model: ParsedFile) -> None:
        WalkContext.__init__(self, model.names)
        DeprecatedNames.__init__(self, model.names)
        self._model = model
        self.classes: dict[str, ModuleClass] = {}
        self.scopes: list[ModuleClass] = [ModuleClass("<module>", model.module)]
        self.init_ops: list[InitOp] = []
        self.overwrites: list[InitOp] = []
        self.partial_writes: list[InitOp] = []
        #: Per function (by id; 0 at module level), the tensors whose ``requires_grad`` it has
        #: cleared so far, and the attributes it last bound to a fresh untrained torch tensor
        #: (``self.mask = torch.ones(h, w)``, made a Parameter only later): autograd does not
        #: guard what is written into them here.
        self._frozen: dict[int, set[str]] = {}
        #: The expression last assigned to each local name of the function being read.
        self._local_values: dict[str, cst.BaseExpression] = {}
        #: Attributes ``__init__`` binds to a class rather than an instance, by (id of the
        #: class, name): ``self.norm = opts.get("norm", nn.BatchNorm1d)``, called later.
        self._held_classes: dict[tuple[int, str], cst.BaseExpression] = {}
        #: The one expression each local name of the function being read is bound to (None for a
        #: name bound more than once so far): what a write through the name reaches.
        self._bound_once: dict[str, cst.BaseExpression | None] = {}
        #: Per class of the file, the class each construction passes to each ``__init__`` parameter.
        self.constructions: dict[str, list[dict[str, str | None]]] = {}
        #: ``self.extras = nn.ModuleList(extras)`` in ``__init__``: a holder filled from the
        #: constructor's parameters, by class and attribute (the value written, the module built
        #: from it and how many items it held then: appends after it make it the class's own).
        self.argument_holders: dict[str, dict[str, tuple[cst.Call, Submodule, int]]] = {}
        #: What each construction of a class of the file binds to its ``__init__`` parameters.
        self.construction_args: dict[str, list[Bound]] = {}
        #: Activations ``__init__`` picks by parameters it gives defaults (``self.act =
        #: get_activation(act)``), by class and attribute: the value written, the module its
        #: defaults give, the defaults, and the parameters it reads (``_bind_constructions``).
        self.chosen_by_defaults: dict[str, dict[str, tuple[cst.BaseExpression, Submodule, Bound, frozenset[str]]]] = {}
        #: Classes constructed here with a starred argument (what it passes is unknown).
        self.open_constructions: set[str] = set()
        #: Per scope (by id), the key holding each local name rebound there (``_bind_local``).
        self._rebound: dict[int, dict[str, str]] = {}
        #: Expressions made by reading a helper's returned tuple, by id (``FileModel.stand_ins``).
        self.stand_ins: dict[int, tuple[cst.CSTNode, cst.CSTNode]] = {}
        #: For each container a loop appends to: the loop of each append (None: outside any loop,
        #: or under a test inside it), by id of the container (``_note_cycle``).
        self._cycle_loops: dict[int, list[cst.For | None]] = {}
        #: The in-place arithmetic that follows an in-place init, by id of its call (``chains``).
        self._continued: dict[int, list[Step]] = {}
        #: Loop variables of the function being read that iterate over an attribute of ``self``.
        self._iterated: dict[str, cst.BaseExpression] = {}
        #: Per class (by id), the (method, parameter) pairs whose tensor a product of the method
        #: takes as a factor, and what each ``self.<method>(...)`` call passes to a parameter: an
        #: attribute's name or the caller's own (method, parameter); ``_weights_passed``.
        self._factor_parameters: dict[int, set[tuple[str, str]]] = {}
        self._passed: dict[int, dict[tuple[str, str], set[str | tuple[str, str]]]] = {}
        #: Per class (by id), the attributes each product of attributes alone multiplies:
        #: weights unless all are the class's Parameters (``leave_ClassDef``).
        self._attribute_products: dict[int, list[frozenset[str]]] = {}
        self.apply_calls: list[ApplyCall] = []
        self.functions: dict[str, cst.FunctionDef] = {}
        self.method_layers: list[tuple[cst.Call, ModuleClass, str, bool]] = []
        self.helper_calls: list[HelperCall] = []
        self.call_sites: dict[int, tuple[int, str | None]] = {}
        self.dispatched: set[str] = set()
        self.components: set[str] = set()
        self._instances: dict[tuple[int, str], str] = {}
        #: ``apply`` calls whose module an assignment binds, by id: the name or attribute bound.
        self._applied_to: dict[int, cst.BaseExpression] = {}
        self._class_stack: list[ModuleClass] = []
        self._functions: list[tuple[cst.FunctionDef, ModuleClass]] = []
        self._seq = 0
        #: The scopes of the locals of classes' methods, by id of the method.
        self._method_scopes: dict[int, ModuleClass] = {}
        defined = list(module_definitions(model.module))
        self._local_classes = _ClassNames(frozenset(n.name.value for n in defined if isinstance(n, cst.ClassDef)), model)
        self._top_functions = {n.name.value: n for n in defined if isinstance(n, cst.FunctionDef)}
        #: The ``__init__`` of each class written at the top of the file: a construction binds
        #: its arguments there wherever the class is written, before or after the call.
        self._class_inits = {n.name.value: m for n in defined if isinstance(n, cst.ClassDef)
                             for m in n.body.body if isinstance(m, cst.FunctionDef) and m.name.value == "__init__"}
        pass_through = {n.name.value: n for n in defined
                        if isinstance(n, cst.FunctionDef) and returned_parameter(n) is not None}
        self.builders = summarise_builders(model.module, model.names)
        factories = {}
        for name, function in self._top_functions.items():
            if name in pass_through or name in self.builders:
                continue
            if (made := returned_module(function, model.names)) is not None:
                factories[name] = (function, made[1])
            elif (chosen := chosen_return(function)) is not None:  # ``if name == "relu": return F.relu``
                factories[name] = (function, chosen)
        self._factories = factories
        self._builder = SubmoduleBuilder(model.names, self._local_classes, pass_through,
                                         leaf_subclasses(model.module, model.names), self.builders,
                                         factories, module_tables(model.module))

    def factory_modules(self, modules: dict[str, Submodule], chain: dict[str, str]) -> None:
        """What each factory function of the file returns, for the files that import it."""
        for name, (_, made) in self._factories.items():
            module = self._builder.build("", made, {})
            if module is None or module.kind is LayerKind.UNKNOWN:
                continue
            modules[name] = module
            if isinstance(made, cst.Call) and isinstance(made.func, cst.Name) and made.func.value in self._factories:
                chain[name] = made.func.value

    # ---------------------------------------------------------------- scopes

    def visit_Module(self, node: cst.Module) -> None:
        self._continued.update(following_steps(node.body))

    def visit_IndentedBlock(self, node: cst.IndentedBlock) -> None:
        WalkContext.visit_IndentedBlock(self, node)
        self._continued.update(following_steps(node.body))

    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        info = ModuleClass(node.name.value, node)
        bases = [model_names for arg in node.bases for model_names in self._model.names(arg.value)]
        info.is_module = any(b in knowledge.MODULE_BASES or b.endswith(".Module") for b in bases) or any(
            isinstance(arg.value, cst.Name) and arg.value.value in self.classes
            and self.classes[arg.value.value].is_module for arg in node.bases
        )
        for statement in node.body.body:
            if isinstance(statement, cst.FunctionDef):
                info.methods[statement.name.value] = statement
        info.is_module = info.is_module or "forward" in info.methods
        info.bases = [arg.value.value for arg in node.bases if isinstance(arg.value, cst.Name)]
        self.classes.setdefault(info.name, info)
        self._class_stack.append(info)

    def leave_ClassDef(self, original_node: cst.ClassDef) -> None:
        owner = self._class_stack.pop()
        owner.matrix_parameters |= self._weights_passed(owner)
        for factors in self._attribute_products.pop(id(owner), ()):
            # Parameters multiplied only by one another, with no signal (``self.u @ self.v``)
            # make a learned table, not a layer: what takes the product as a factor decides.
            if not factors <= owner.parameters.keys():
                owner.matrix_parameters |= factors

    def _weights_passed(self, owner: ModuleClass) -> set[str]:
        """The attributes that calls of ``owner``'s methods pass, directly or through other
        methods' parameters, to a parameter that a product takes as a factor
        (``self.transform(x, self.w)`` with ``def transform(self, x, w): return x @ w``)."""
        pending = list(self._factor_parameters.pop(id(owner), ()))
        passed = self._passed.pop(id(owner), {})
        seen, found = set(pending), set()
        while pending:
            for source in passed.get(pending.pop(), ()):
                if isinstance(source, str):
                    found.add(source)
                elif source not in seen:
                    seen.add(source)
                    pending.append(source)
        return found

    # Where the code each of the resolver's scopes evaluates starts and ends: decorators, bases,
    # a parameter's default and annotation, and a comprehension's first iterable, are evaluated
    # where the function, class or comprehension is written.
    def _enter_scope(self, node: cst.CSTNode) -> None:
        self._model.resolver.enter(node)

    def _leave_scope(self, node: cst.CSTNode) -> None:
        self._model.resolver.leave()

    visit_FunctionDef_params = visit_FunctionDef_body = visit_Lambda_params = visit_Lambda_body = _enter_scope
    leave_FunctionDef_params = leave_FunctionDef_body = leave_Lambda_params = leave_Lambda_body = _leave_scope
    visit_Param_annotation = visit_Param_default = visit_CompFor_iter = visit_ClassDef_body = _enter_scope
    leave_Param_annotation = leave_Param_default = leave_CompFor_iter = leave_ClassDef_body = _leave_scope

    def _enter_comprehension(self, node: cst.ListComp | cst.SetComp | cst.GeneratorExp | cst.DictComp) -> None:
        # Its loop variables are bound before its element is evaluated, though written after it.
        self._enter_scope(node)
        clause: cst.CompFor | None = node.for_in
        while clause is not None:
            self._note_iteration(clause.target, clause.iter)
            clause = clause.inner_for_in

    visit_ListComp = visit_SetComp = visit_DictComp = visit_GeneratorExp = _enter_comprehension
    visit_StarredDictComp = _enter_scope
    leave_ListComp = leave_SetComp = leave_DictComp = leave_StarredDictComp = leave_GeneratorExp = _leave_scope

    def visit_NamedExpr(self, node: cst.NamedExpr) -> None:
        self._model.resolver.bind(node)
        self._note_bound(node.target, None)

    def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
        if node.value is not None:
            self._note_bound(node.target, node.value)

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        owner = self._class_stack[-1] if self._is_method(node) else ModuleClass(node.name.value, node)
        if owner.node is node:
            self.scopes.append(owner)
            self.functions[node.name.value] = node
        self._functions.append((node, owner))
        self._builder.lists = {}
        self._local_values = {}
        self._bound_once = {}
        if any(self._is_no_grad(d.decorator) for d in node.decorators):
            self._no_grad += 1

    def leave_FunctionDef(self, original_node: cst.FunctionDef) -> None:
        self._functions.pop()
        self._bound_once = {}  # the enclosing scope's bindings are not followed past a def
        self._iterated.clear()
        if any(self._is_no_grad(d.decorator) for d in original_node.decorators):
            self._no_grad -= 1

    def _is_method(self, node: cst.FunctionDef) -> bool:
        if not self._class_stack:
            return False
        if self._functions and self._functions[-1][1] is self._class_stack[-1]:
            return False  # a function nested inside a method
        return self._class_stack[-1].methods.get(node.name.value) is node

    def _owner(self) -> ModuleClass:
        return self._functions[-1][1] if self._functions else self.scopes[0]

    def _method_name(self) -> str | None:
        if self._functions and self._functions[-1][1].node is not self._functions[-1][0]:
            return self._functions[-1][0].name.value
        return None

    def visit_Name(self, node: cst.Name) -> None:
        self._model.resolver.note(node)
        DeprecatedNames.visit_Name(self, node)

    # ---------------------------------------------------------------- assignments and calls

    def visit_Assign(self, node: cst.Assign) -> None:
        self.note_assigned(node.value)
        if len(node.targets) != 1:
            for chained in node.targets:
                self._note_bound(chained.target, None)
            return
        target = node.targets[0].target
        for applied in _chained_applies(node.value):
            self._applied_to[id(applied)] = target  # ``self.net = nn.Sequential(...).apply(init)``
        owner = self._owner()
        key, ended_list = list_key(target), None
        if key is not None and isinstance(node.value, cst.List):
            self._builder.lists[key] = LocalList([e.value for e in node.value.elements])
        elif key is not None and _is_list(node.value) \
                and (element := repeated_element(node.value)) is not None \
                and not element[1] & self._defaults().keys():
            # ``layers = [nn.Linear(a, b) for ...]``: one item standing for several in a row, as
            # the comprehension written inside ``nn.ModuleList(...)`` is (its items are read
            # later with the function's defaults, which no loop variable may hide).
            self._builder.lists[key] = LocalList([element[0]], repeated=True)
        else:
            # ``self.blocks = nn.ModuleList(self.blocks)``: the module is built from the list
            # (below), after which the attribute holds the module.
            ended_list = key if isinstance(target, cst.Attribute) else None
        for name, value in _unpacked_pairs(target, node.value):
            # ``enc, dec = [], []``: the whole right side is made before any name is bound.
            self._builder.lists.pop(name, None)
            self._local_values.pop(name, None)
            if isinstance(value, cst.List):
                self._builder.lists[name] = LocalList([e.value for e in value.elements])
            if value is not None:
                self._local_values[name] = value
                if owner.node is not None and not owner.is_module \
                        and (module := self._builder.build(name, _module_itself(value), self._defaults())) is not None:
                    self._bind_local(owner, name, module)
        if isinstance(target, cst.Name):
            self._local_values[target.value] = node.value
        self._note_bound(target, node.value)
        if isinstance(target, cst.Name) and (built := self._constructed(node.value, imported=True)) is not None:
            self._instances[(id(owner), target.value)] = built
        in_method = bool(self._class_stack) and owner is self._class_stack[-1]
        if in_method and isinstance(target, cst.Attribute) and target.attr.value == "data" \
                and (replaced := self_attribute_name(target.value)) is not None:
            owner.data_assigned.add(replaced)  # ``self.w.data = ...``
        self._overwrite(node, target)
        self._partial_write(node, target)
        if isinstance(target, cst.Name) and not self._functions and not self._class_stack:
            self._script_parameter(node, target)
        if in_method and (name := self_attribute_name(target)) is not None:
            owner.assigned.setdefault(self._method_name() or "", set()).add(name)
            self._self_attribute(owner, name, target, node.value, node)
        elif isinstance(target, cst.Name) and in_method and self._method_name() != "__init__":
            module = self._builder.build(target.value, _module_itself(node.value), self._defaults())
            if module is not None and module.kind is not LayerKind.UNKNOWN:
                self._bind_local(self._method_scope(), target.value, module)
        elif isinstance(target, cst.Name) and owner.node is not None and not owner.is_module:
            module = self._builder.build(target.value, _module_itself(node.value), self._defaults())
            if module is not None:
                self._bind_local(owner, target.value, module)
        if ended_list is not None:
            self._builder.lists.pop(ended_list, None)

    def _method_scope(self) -> ModuleClass:
        """The scope of the locals of the class's method being read (``model =
        EncoderDecoder(...)`` in ``make_model``): a module a local holds is no layer of the class,
        nor the attribute of the same name (``self.model = self.make_model()``)."""
        method = self._functions[-1][0]
        scope = self._method_scopes.get(id(method))
        if scope is None:
            scope = self._method_scopes[id(method)] = ModuleClass(method.name.value, method)
            self.scopes.append(scope)
        return scope

    def _runs_on_local(self, *nodes: cst.BaseExpression | None) -> ModuleClass | None:
        """The scope of the method's locals when one of ``nodes`` (a tensor written, a loop's
        iterable, an ``apply``'s module) is read from a module a local of the method holds."""
        scope = self._method_scopes.get(id(self._functions[-1][0])) if self._functions else None
        if scope is None:
            return None
        return scope if any(isinstance(root := receiver_root(node), cst.Name) and root.value in scope.attributes
                            for node in nodes if node is not None) else None

    def _bind_local(self, owner: ModuleClass, name: str, module: Submodule) -> None:
        """``fc = nn.Linear(...)`` in a function or at module level. Rebound unconditionally, the
        name holds a new layer under a key of its own: what was written through the old binding
        stays on the old layer."""
        rebound = self._rebound.setdefault(id(owner), {})
        key = rebound.get(name, name)
        if key in owner.attributes and not self._conditions and not self._loops:
            key = f"{name}#{sum(k.startswith(name + '#') for k in owner.attributes) + 1}"
            rebound[name] = key
        owner.attributes[key] = module

    def _renamed(self) -> dict[str, str]:
        """The keys of the names rebound so far in the current scope (see ``_bind_local``)."""
        return dict(self._rebound.get(id(self._owner()), {}))

    def _overwrite(self, node: cst.Assign, target: cst.BaseExpression) -> None:
        """``self.fc.weight.data = make(self.fc.weight.size())`` or ``self.fc.weight = tied``: a
        layer's tensor replaced by a value that reads only its shape (a rescale is no overwrite)."""
        if not self._functions or not isinstance(target, cst.Attribute):
            return
        tensor = target.value if target.attr.value == "data" else target
        if not isinstance(tensor, cst.Attribute) or self_attribute_name(tensor) is not None:
            return  # ``self.w = ...`` binds an attribute; ``self.w.data = ...`` is ``data_assigned``
        if _Reads(tensor, self.functions).of(node.value):
            return
        self._seq += 1
        self.overwrites.append(self._operation(node, "", InitVia.ASSIGN, {}, tensor))

    def _partial_write(self, node: cst.Assign, target: cst.BaseExpression) -> None:
        """``out[:, 0::2] = table``: an in-place write into part of a tensor (or of a view of it),
        of an attribute, a parameter of the function or a loop variable; ``w.requires_grad =
        False`` before it in the same function takes the tensor out of autograd's guard."""
        if isinstance(target, cst.Attribute) and target.attr.value == "requires_grad" and _is_false(node.value):
            self._frozen.setdefault(self._scope_key(), set()).add(_code(target.value))
            return
        if isinstance(target, cst.Attribute) and isinstance(node.value, cst.Call):
            untrained = self._frozen.setdefault(self._scope_key(), set())
            if self._trained_data(node.value) is None and self._torch_factory(node.value) is not None:
                untrained.add(_code(target))
            else:
                untrained.discard(_code(target))
        if not isinstance(target, cst.Subscript):
            return
        tensor = tensor_behind(target, knowledge.VIEW_METHODS)
        if not self._may_be_parameter(tensor) or _code(tensor) in self._frozen.get(self._scope_key(), ()):
            return
        self._seq += 1
        self.partial_writes.append(self._operation(node, "", InitVia.SETITEM, {}, tensor))

    def _scope_key(self) -> int:
        return id(self._functions[-1][0]) if self._functions else 0

    def _note_frozen(self, node: cst.Call) -> None:
        """``w.requires_grad_(False)`` or ``w.detach_()``: ``w`` leaves autograd from here on."""
        if not isinstance(node.func, cst.Attribute):
            return
        method, args = node.func.attr.value, node.args
        if (method == "detach_" and not args) or (method == "requires_grad_" and len(args) == 1
                                                   and _is_false(args[0].value)):
            self._frozen.setdefault(self._scope_key(), set()).add(_code(node.func.value))

    def _may_be_parameter(self, tensor: cst.BaseExpression) -> bool:
        """An attribute (``self.emb.weight``), or a name a call or a loop binds: a parameter of
        the innermost function or a loop variable (a local tensor made here is no Parameter)."""
        if isinstance(tensor, cst.Attribute):
            return True
        if not isinstance(tensor, cst.Name):
            return False
        named = set(parameter_names(self._functions[-1][0])) if self._functions else set()
        return tensor.value in named or any(
            isinstance(loop.target, cst.Name) and loop.target.value == tensor.value for loop in self._loops)

    def _defaults(self) -> dict[str, cst.BaseExpression]:
        """Default values of the innermost function's parameters (``act_layer=nn.GELU``)."""
        if not self._functions:
            return {}
        params = self._functions[-1][0].params
        return {p.name.value: p.default for p in (*params.params, *params.kwonly_params)
                if p.default is not None}

    def _unshadowed_defaults(self) -> dict[str, cst.BaseExpression]:
        """The defaults no local binding or loop variable has replaced since (``act()`` appended
        with ``act=nn.Tanh``, but not after ``act = pick(name)``)."""
        loop_names = {name for loop in self._loops for name in target_names([loop.target])}
        return {name: value for name, value in self._defaults().items()
                if name not in self._local_values and name not in loop_names}

    def _none_by_default(self, value: cst.BaseExpression) -> bool:
        """``proj`` where ``proj`` is a parameter of the function defaulting to None, not bound since."""
        return isinstance(value, cst.Name) and bool(self._functions) and value.value not in self._local_values \
            and _defaults_to_none(self._functions[-1][0], value.value)

    def _reads_parameter(self, value: cst.BaseExpression) -> bool:
        """``nn.ModuleList(extras)``, ``nn.Sequential(*extras)``, ``nn.ModuleList([block])`` or
        ``clones(block, n)`` in ``__init__`` with ``extras`` or ``block`` one of its parameters."""
        if self._method_name() != "__init__" or not isinstance(value, cst.Call):
            return False
        params = {p.name.value for p in self._functions[-1][0].params.params[1:]}
        return bool(params & read_names(value))

    def _method_sequential(self, owner: ModuleClass, value: cst.BaseExpression) -> cst.BaseExpression:
        """``self._make_layer(block, 64, n)`` in ``__init__``: the Sequential that method of the
        class returns, written out for the call (``binding.appended_sequential``), or the module
        its one ``return`` builds (``binding.returned_construction``); any other value as it is."""
        called = self_attribute_name(value.func) if isinstance(value, cst.Call) else None
        method = owner.methods.get(called) if called is not None and self._method_name() == "__init__" else None
        if method is None:
            return value
        assert isinstance(value, cst.Call)
        return appended_sequential(method, value, self._model.names, self.stand_ins) \
            or returned_construction(method, value, self._model.names, self.stand_ins) or value

    def _taken_with_defaults(self) -> bool | None:
        """Whether the statement read runs when the function's parameters keep their defaults:
        False in an arm a test of them skips, True when every test guarding it is decided and
        taken, None when a test is not decided by the defaults."""
        defaults = self._defaults()
        decided = True
        for condition, positive, _ in self._conditions:
            verdict = constant_test(condition.test, defaults)
            if verdict is None:
                decided = False
            elif verdict != positive:
                return False
        return True if decided else None

    def _self_attribute(self, owner: ModuleClass, name: str, target: cst.BaseExpression,
                        assigned: cst.BaseExpression, statement: cst.BaseExpression | cst.Assign) -> None:
        """``self.<name> = assigned``; ``statement``: where a Parameter it creates is reported (the
        assignment, or the value a ``setattr`` binds)."""
        if self._method_name() == "__init__":
            # A loop's body runs only when what it iterates is not empty: one more test.
            tests = [(c.test, positive) for c, positive, _ in self._conditions] + [(loop.iter, True) for loop in self._loops]
            owner.arms.setdefault(name, []).append(tuple(tests))
        if isinstance(assigned, cst.Name) and self._method_name() == "__init__" \
                and assigned.value in [p.name.value for p in self._functions[-1][0].params.params[1:]]:
            owner.argument_attributes[name] = (assigned.value, assigned)
        if self_attribute_name(self._handed_back(assigned)) == name:
            return  # ``self.G = weights_init(self.G)``: a helper that returns the module it is given
        assigned = self._method_sequential(owner, assigned)
        held = optional_default(assigned) or assigned
        if self._method_name() == "__init__" and isinstance(held, (cst.Name, cst.Attribute)) and not self._conditions:
            self._held_classes[(id(owner), name)] = held
        else:
            self._held_classes.pop((id(owner), name), None)
        defaults = self._defaults()
        # ``conv = nn.Conv1d(...); self.net = nn.Sequential(conv, ...)``: a name bound to a
        # call in the method holds what that call builds; one bound to a name or an attribute
        # is that object (``block = Bottleneck; block(c)`` builds a Bottleneck).
        built_locals = {n: v for n, v in self._local_values.items()
                        if isinstance(v, (cst.Call, cst.Name, cst.Attribute))}
        with self._builder.reading(owner.attributes):
            module = self._builder.build(name, _module_itself(assigned), {**defaults, **built_locals})
        if module is not None and self._conditions and self._method_name() == "__init__":
            owner.options.setdefault(name, []).append(
                (tuple((c.test, positive) for c, positive, _ in self._conditions), module))
        if module is not None and module.kind is LayerKind.ACTIVATION and self._method_name() == "__init__" \
                and not self._conditions and (read := frozenset(read_names(assigned) & defaults.keys())):
            self.chosen_by_defaults.setdefault(owner.name, {})[name] = (assigned, module, defaults, read)
        if module is not None and module.kind is LayerKind.CONTAINER and not _knows_items(module) \
                and self._reads_parameter(assigned):
            self.argument_holders.setdefault(owner.name, {})[name] = (  # type: ignore[assignment]
                assigned, module, len(module.children))
        previous = owner.attributes.get(name)
        if module is None and previous is not None and self._conditions \
                and (_is_none(assigned) or self._none_by_default(assigned)):
            # ``else: self.proj = None``: an optional layer, the one built where it exists; so
            # with ``else: self.proj = proj``, ``proj=None``: a module the caller may build
            # instead, judged where it is built.
            return
        # Bound in the arms of an ``if`` that the parameters' defaults decide (``if pooling ==
        # "flat":`` with ``pooling="flat"``): the arm the defaults take gives the layer, as a
        # conditional expression's does (``SubmoduleBuilder.build``); an arm they skip neither
        # replaces it nor makes it unknown. Arms no default decides stay "unknown" when they
        # disagree: what holds in one of them only is never judged.
        taken = self._taken_with_defaults() if self._conditions else None
        if taken is False and previous is not None:
            return
        if taken is True and module is not None:
            owner.attributes[name] = module
            return
        if module is not None or previous is not None:
            # Assigned in several branches: only one definition that agrees is known.
            if previous is not None and (module is None or module.class_name != previous.class_name):
                module = _optional(previous, module) if self._conditions else None
                module = module or Submodule(name, LayerKind.UNKNOWN, None, assigned)
            owner.attributes[name] = module  # type: ignore[assignment]
            return
        value = self._parameter_element(assigned)
        creation = self._parameter_creation(value)
        if creation is None:
            return
        function, ndim, column, args = creation
        frozen = self._made_frozen(value)
        if frozen:
            function = None  # a frozen buffer-like tensor filled from a checkpoint, not trained
        elif isinstance(value, cst.Call):
            ndim = self._adopt_local_inits(owner, target, value) if ndim is None else ndim
        if frozen and name not in owner.parameters:
            owner.frozen_parameters.add(name)
        elif not frozen:
            owner.frozen_parameters.discard(name)  # made trained somewhere: autograd guards it there
        if name in owner.parameters and owner.parameters[name] != ndim:
            ndim = None
        owner.parameters[name] = ndim
        if column:
            owner.column_parameters.add(name)
        if function is not None:
            self._seq += 1
            written = statement if value is assigned else value  # a ParameterList's element
            assert isinstance(written, (cst.Call, cst.Assign))
            # Its scale is read through the variables of the functions it is written in
            # (``std = math.sqrt(2. / (fan_in + fan_out))`` then ``std * torch.randn(...)``).
            self.init_ops.append(InitOp(
                written, function, InitVia.PARAMETER, args, target, owner,
                self._method_name(), self._seq, enclosing=tuple(f for f, _ in self._functions),
            ))

    def _script_parameter(self, node: cst.Assign, target: cst.Name) -> None:
        """``W = Variable(torch.randn(a, b) * s, requires_grad=True)`` at module level, or ``W =
        make(size=[a, b])`` with ``make`` a function of the file returning such a tensor: a
        trained tensor the script holds in a variable, as a class holds a bare Parameter. The
        draw written in the function is read with that function's variables (``enclosing``)."""
        value, ndim = node.value, None
        enclosing: tuple[cst.FunctionDef, ...] = ()
        made = self._made_tensor(value)
        if made is not None:
            function, value = made
            enclosing, ndim = (function,), _spread_ndim(function, node.value, value)
        creation = self._parameter_creation(value)
        scope = self.scopes[0]
        if creation is None:
            scope.parameters.pop(target.value, None)  # rebound to something else
            return
        drawn, written_ndim, column, args = creation
        scope.parameters[target.value] = written_ndim if ndim is None else ndim
        if column:
            scope.column_parameters.add(target.value)
        if drawn is not None:
            self._seq += 1
            self.init_ops.append(InitOp(node, drawn, InitVia.PARAMETER, args, target, scope, None, self._seq,
                                        enclosing=enclosing))

    def _made_tensor(self, value: cst.BaseExpression) -> tuple[cst.FunctionDef, cst.Call] | None:
        """For ``make(...)``, a function of the file whose one ``return`` makes a trained tensor:
        that function and the call making it."""
        function = self._top_functions.get(value.func.value) if isinstance(value, cst.Call) \
            and isinstance(value.func, cst.Name) else None
        if function is None:
            return None
        returns = [small.value for small in small_statements(function) if isinstance(small, cst.Return)]
        if len(returns) != 1 or not isinstance(made := returns[0], cst.Call) or self._trained_data(made) is None:
            return None
        return function, made

    def _parameter_element(self, value: cst.BaseExpression) -> cst.BaseExpression:
        """``nn.Parameter(...)`` that ``nn.ParameterList(nn.Parameter(...) for _ in ...)`` or a
        list comprehension repeats; the value itself otherwise."""
        if isinstance(value, cst.ListComp):
            return value.elt
        if isinstance(value, cst.Call) and len(value.args) == 1 and isinstance(
                value.args[0].value, (cst.GeneratorExp, cst.ListComp)) and any(
                n.endswith(".ParameterList") and n.startswith("torch.nn.") for n in self._model.names(value.func)):
            return value.args[0].value.elt
        return value

    def _adopt_local_inits(self, owner: ModuleClass, target: cst.BaseExpression, made: cst.Call) -> int | None:
        """``w = torch.empty(a, b); nn.init.xavier_uniform_(w); self.w = nn.Parameter(w)``: the
        Parameter holds the values the local tensor was given (a move or copy keeps them), so the
        operations of the function written into that tensor, a view of it, or each of its slices a
        loop hands on (``for w_i in w:``), initialise the attribute ``target`` reads (``self.w``,
        ``getattr(self, f"w_{i}")`` after ``register_parameter``). Returns the number of
        dimensions the local was made with, where a torch factory says it."""
        data = self._trained_data(made)
        local = tensor_behind(data, knowledge.MOVING_METHODS) if data is not None and data is not made.func else None
        if not isinstance(local, cst.Name) or not self._functions or local.value in parameter_names(self._functions[-1][0]):
            return None
        function = self._functions[-1][0]
        attribute = target.deep_clone()  # a node of its own: the stand-in for the local
        for index, op in enumerate(self.init_ops):
            if op.scope_node is not function or op.target_node is None \
                    or (op.owner is not None and op.owner is not owner and op.owner.node is not function):
                continue
            written = tensor_behind(op.target_node, knowledge.VIEW_METHODS)
            if isinstance(written, cst.Name) and (written.value == local.value or any(
                    isinstance(loop.target, cst.Name) and loop.target.value == written.value
                    and isinstance(loop.iter, cst.Name) and loop.iter.value == local.value for loop in op.loops)):
                self.stand_ins[id(attribute)] = (attribute, op.target_node)
                self.init_ops[index] = dataclasses.replace(op, target_node=attribute, owner=owner, unguarded=True)
        bound = self._local_values.get(local.value)
        fresh = tensor_behind(bound, knowledge.MOVING_METHODS) if bound is not None else None
        factory = self._torch_factory(fresh) if isinstance(fresh, cst.Call) else None
        return self._factory_dimensions(factory, fresh) if factory is not None and isinstance(fresh, cst.Call) else None

    def _factory_dimensions(self, factory: str | None, call: cst.Call) -> int | None:
        """``_factory_ndim``, with a size a local names read through its binding: ``shape = (a,
        b); torch.zeros(shape)`` is 2-D; one bound to what may be a whole shape (``x.shape``,
        ``x.size()``, ``shape[1:]``) is unknown."""
        sizes = [a for a in call.args if a.keyword is None]
        if len(sizes) == 1 and not sizes[0].star and isinstance(sizes[0].value, cst.Name) \
                and (bound := self._local_values.get(sizes[0].value.value)) is not None:
            if isinstance(bound, (cst.Call, cst.Subscript)) \
                    or (isinstance(bound, cst.Attribute) and bound.attr.value == "shape"):
                return None
            if not isinstance(bound, (cst.Tuple, cst.List)):
                return _factory_ndim(factory, call)
            call = call.with_changes(args=[sizes[0].with_changes(value=bound),
                                           *(a for a in call.args if a.keyword is not None)])
        return _factory_ndim(factory, call)

    def _parameter_creation(self, value: cst.BaseExpression
                            ) -> tuple[str | None, int | None, bool, dict[str, cst.BaseExpression]] | None:
        """For ``nn.Parameter(torch.zeros(a, b))``: ("zeros_", 2, False, {}) (the third: shaped
        ``(n, 1)``, ``_column_shaped``); for a fresh tensor an in-place chain initialises
        (``nn.Parameter(torch.empty(a, b).uniform_(-1, 1))``), that init with its arguments.
        None if not a Parameter (nor another tensor that is trained)."""
        if not isinstance(value, cst.Call):
            return None
        data = self._trained_data(value)
        if data is None:
            return None
        if data is value.func:  # ``nn.Parameter()``
            return None, None, False, {}
        start, steps = self._drawn_through(data)
        made = self._fresh_values(start)
        if made is None:
            return None, None, False, {}
        fresh, function, args = made
        if function is not None and steps:
            function, args = carried(function, args, steps, self.stand_ins)
        factory = self._torch_factory(fresh)
        return function, self._factory_dimensions(factory, fresh), _column_shaped(factory, fresh), args

    def _fresh_values(self, start: cst.BaseExpression
                      ) -> tuple[cst.Call, str | None, dict[str, cst.BaseExpression]] | None:
        """The call making the fresh tensor ``start`` is, the init its values amount to (None:
        unknown) and its arguments: ``torch.empty(a, b).uniform_(-1, 1)``, ``torch.randn(a, b) * s``,
        ``torch.zeros(a, b)``, ``torch.full((a, b), v)``. None when ``start`` is no call."""
        if (drawn := self._initialised_fresh(start) or self._scaled_draw(start)) is not None:
            return drawn
        if not isinstance(start, cst.Call):
            return None
        factory = self._torch_factory(start) or ""
        function = knowledge.CONSTANT_FACTORIES.get(factory) or knowledge.UNIT_RANDOM_FACTORIES.get(factory)
        value = argument(start, 1, "fill_value") if function == "constant_" else None
        return start, function, {} if value is None else {"val": value}

    def _copy_init(self, source: cst.BaseExpression) -> tuple[str, dict[str, cst.BaseExpression]] | None:
        """The init ``w.copy_(source)`` amounts to, where ``source`` is made fresh: a constant
        (``torch.zeros(a, b)``) or a draw, followed through the local names it was bound to and
        the calls that hand on some of its values rearranged (``w.copy_(t.gather(-1, i).squeeze(-1))``
        after ``t = w.new_empty(shape + (4,)).normal_()``, a hand-written truncated normal)."""
        steps: list[Step] = []
        seen: set[int] = set()
        while id(source) not in seen:
            seen.add(id(source))
            start, inner = self._drawn_through(source)
            steps = inner + steps
            if isinstance(start, cst.Name) and start.value in self._local_values:
                source = self._local_values[start.value]
            elif isinstance(start, cst.Call) and isinstance(start.func, cst.Attribute) \
                    and start.func.attr.value in knowledge.REARRANGING_METHODS:
                source = start.func.value
            else:
                made = self._fresh_values(start)
                if made is None or made[1] is None:
                    return None
                return carried(made[1], made[2], steps, self.stand_ins) if steps else (made[1], made[2])
        return None

    def _drawn_through(self, data: cst.BaseExpression) -> tuple[cst.BaseExpression, list[Step]]:
        """The expression a Parameter's data starts from and the in-place arithmetic applied to
        it, through chains of in-place methods and the out-of-place calls that keep its values
        (``torch.fmod(torch.randn(a, b).cuda(), 2).mul_(s)`` -> ``torch.randn(a, b)``, [*s])."""
        steps: list[Step] = []
        while True:
            start, inner = chain_start(data) or (data, [])
            steps = inner + steps  # the inner chain runs first
            kept = self._values_kept(start)
            if kept is None:
                return start, steps
            data = kept

    def _values_kept(self, node: cst.BaseExpression) -> cst.BaseExpression | None:
        """The tensor whose values an out-of-place call hands on bounded or moved
        (``torch.clamp(w, -2, 2)``, ``w.fmod(2)``, ``w.cuda()``); None for any other expression."""
        if not isinstance(node, cst.Call):
            return None
        if any(name in knowledge.BOUNDING_FUNCTIONS for name in self._model.names(node.func)):
            return argument(node, 0, "input")
        if isinstance(node.func, cst.Attribute) and node.func.attr.value in _VALUES_KEPT_BY:
            return node.func.value
        return None

    def _made_frozen(self, value: cst.BaseExpression) -> bool:
        """``nn.Parameter(data, requires_grad=False)``, the flag passed by keyword or, as Python
        binds ``Parameter(data=None, requires_grad=True)``, second by position (the other
        trained tensors, ``_trained_data``, are made with ``requires_grad=True``)."""
        if not isinstance(value, cst.Call) or not any(n in _PARAMETER_CLASSES for n in self._model.names(value.func)):
            return False
        flag = argument(value, 1, "requires_grad")
        return flag is not None and _is_false(flag)

    def _trained_data(self, call: cst.Call) -> cst.BaseExpression | None:
        """The tensor a trained one is made from, as a Parameter is: the data of
        ``nn.Parameter(data)`` (its callee when it has none), of ``Variable(data,
        requires_grad=True)`` and of ``data.requires_grad_()``, or a torch factory called with
        ``requires_grad=True`` itself. None for any other call."""
        names = self._model.names(call.func)
        if any(n in _PARAMETER_CLASSES for n in names):
            return argument(call, 0, "data") or call.func
        if any(n in ("torch.autograd.Variable", "torch.autograd.variable.Variable") for n in names):
            return argument(call, 0, "data") if keyword_is(call, "requires_grad", True) else None
        if isinstance(call.func, cst.Attribute) and call.func.attr.value == "requires_grad_" and not call.args:
            return call.func.value
        return call if self._torch_factory(call) is not None and keyword_is(call, "requires_grad", True) else None

    def _initialised_fresh(self, node: cst.BaseExpression
                           ) -> tuple[cst.Call, str, dict[str, cst.BaseExpression]] | None:
        """``torch.empty(a, b).uniform_(-1, 1)``: the call making the fresh tensor, the init the
        in-place method amounts to, and its arguments."""
        if not (isinstance(node, cst.Call) and isinstance(node.func, cst.Attribute)
                and isinstance(node.func.value, cst.Call)):
            return None
        method = node.func.attr.value
        function = knowledge.INPLACE_INIT_METHODS.get(method)
        args = self._method_arguments(node, method) if function is not None else None
        return None if function is None or args is None else (node.func.value, function, args)

    def _scaled_draw(self, node: cst.BaseExpression) -> tuple[cst.Call, str, dict[str, cst.BaseExpression]] | None:
        """``torch.randn(a, b) * s``: a fresh N(0, 1) draw scaled out of place, which is
        ``normal_(0, s)``."""
        if not (isinstance(node, cst.BinaryOperation) and isinstance(node.operator, cst.Multiply)):
            return None
        for drawn, scale in ((node.left, node.right), (node.right, node.left)):
            drawn, steps = self._drawn_through(drawn)  # ``torch.fmod(torch.randn(a, b), 2) * s`` too
            if not steps and isinstance(drawn, cst.Call) and self._torch_factory(drawn) == "randn":
                return drawn, "normal_", {"std": scale}
        return None

    def _torch_factory(self, call: cst.Call) -> str | None:
        """``torch.zeros(...)`` -> "zeros" (any torch function name; None for other calls)."""
        return next((n.rsplit(".", 1)[-1] for n in self._model.names(call.func) if n.startswith("torch.")), None)

    def visit_Call(self, node: cst.Call) -> None:
        self._seq += 1
        if (chain := chain_start(node)) is not None and chain[1]:
            self._continued.setdefault(id(chain[0]), chain[1])  # the outermost call, seen first
        self._callees.add(id(node.func))
        self._matrix_operands(node)
        self._note_frozen(node)
        owner = self._owner()
        if isinstance(node.func, cst.Name) and node.func.value in self._local_classes.local:
            self._note_components(node, owner)
        self._note_construction(node, owner)
        if self._class_stack and owner is self._class_stack[-1] and (bound := _set_self_attribute(node)) is not None:
            self._self_attribute(owner, *bound, bound[2])
        if isinstance(node.func, cst.Name) and node.func.value == "isinstance" and len(node.args) == 2:
            tested = node.args[1].value
            classes = [e.value for e in tested.elements] if isinstance(tested, (cst.Tuple, cst.List)) else [tested]
            self.dispatched.update(c.value for c in classes if isinstance(c, cst.Name))
        method = self._method_name()
        if isinstance(node.func, cst.Name):
            self.call_sites[id(node)] = (self._seq, method)
        if method == "__init__" and (called := self_attribute_name(node.func)) is not None:
            owner.init_calls.setdefault(called, self._seq)
        if method is not None and owner.is_module:
            built = torch_nn_class(self._model.names(node.func))
            if built in knowledge.WEIGHT_LAYERS or built in knowledge.NORM_LAYERS:
                self.method_layers.append((node, owner, method, bool(self._conditions)))
            if (called := self_attribute_name(node.func)) is not None:
                owner.self_calls.setdefault(method, []).append((called, tuple(c for c, _, _ in self._conditions)))
                self._note_passed(node, owner, called)
        for name in self._model.names(node.func):
            if name.startswith(knowledge.INIT_PREFIX):
                function = name[len(knowledge.INIT_PREFIX):]
                function = knowledge.DEPRECATED_ALIASES.get(function, function)
                if function in knowledge.INIT_FUNCTIONS:
                    self._record(node, function, InitVia.INIT, _bind_init_args(self._unpacked_returns(node), function),
                                 argument(node, 0, "tensor"))
                return
        if self._injected_init(node):
            return
        if isinstance(node.func, cst.Attribute) and node.func.attr.value in _GROWING_METHODS:
            self._grow(node, owner)
        if isinstance(node.func, cst.Attribute) and node.func.attr.value in knowledge.INPLACE_INIT_METHODS:
            self._inplace(node, node.func.attr.value)
        elif isinstance(node.func, cst.Attribute) and node.func.attr.value == "apply" and len(node.args) == 1:
            receiver = self._applied_to.get(id(node), node.func.value)
            owner = self._runs_on_local(receiver) or owner
            self.apply_calls.append(ApplyCall(node, owner, receiver, node.args[0].value, method, self._seq,
                                              tuple(self._loops), tuple(self._conditions)))
        elif self._calls_helper(node):
            owner = self._runs_on_local(*(arg.value for arg in node.args)) or owner
            self.helper_calls.append(HelperCall(node, owner, node.func, method, self._seq,
                                                tuple(self._loops), tuple(self._conditions),
                                                self._builder.passed.get(id(node)),
                                                tuple(function for function, _ in self._functions),
                                                self._no_grad > 0))

    def _injected_init(self, node: cst.Call) -> bool:
        """``init_(self.w)`` with ``init_=nn.init.normal_`` a parameter of the function: noted as
        an overwrite of the tensor (``InitVia.INJECTED``), the callee being the caller's choice."""
        if not isinstance(node.func, cst.Name) or not node.args or not self._functions:
            return False
        op = self._operation(node, "", InitVia.INJECTED, {}, argument(node, 0, "tensor"))
        default = op.parameter_default(node.func.value)
        if default is None or not any(n.startswith(knowledge.INIT_PREFIX) for n in self._model.names(default)):
            return False
        self.overwrites.append(op)
        return True

    def _calls_helper(self, node: cst.Call) -> bool:
        """Whether the call runs a function whose init operations are resolved at it: one of the
        file or of a module, or a method read from ``self`` or from a class of the file
        (``Base.init(self, m)``), given arguments; or a method of a module the class holds
        (``self.mlp.init_weight()``), which needs none."""
        func = node.func
        if _method_of_submodule(func):
            return True
        if not node.args and id(node) not in self._builder.passed:
            return False
        return isinstance(func, cst.Name) or self._module_function(func) or (
            isinstance(func, cst.Attribute) and isinstance(func.value, cst.Name)
            and (func.value.value == "self" or func.value.value in self._local_classes.local))

    def _handed_back(self, value: cst.BaseExpression) -> cst.BaseExpression | None:
        """The argument of ``helper(arg)`` when that function of the file returns the parameter
        it binds ``arg`` to (an init helper handing back the module it initialised)."""
        function = self._top_functions.get(value.func.value) if isinstance(value, cst.Call) \
            and isinstance(value.func, cst.Name) else None
        parameter = returned_parameter(function) if function is not None else None
        if parameter is None:
            return None
        assert isinstance(value, cst.Call) and function is not None
        return bind(function, value, skip_self=False, defaults=False).get(parameter)

    def _module_function(self, func: cst.BaseExpression) -> bool:
        """``init_utils.normal_init`` after ``import init_utils`` (``pkg.util.init.f`` after
        ``import pkg.util.init``): a function of an imported module, which may be a project file."""
        if self._model.links is None or not isinstance(func, cst.Attribute):
            return False
        root = func.value
        while isinstance(root, cst.Attribute):
            root = root.value
        return isinstance(root, cst.Name) and root.value != "self" and any(
            not name.startswith(_INSTALLED) for name in self._model.names(func))

    def _note_components(self, node: cst.Call, owner: ModuleClass) -> None:
        """``RAFT(encoder=FeatureEncoder(...))`` or an encoder built first and passed in: the
        argument's class is a component of another model, so its output is not the final one."""
        for arg in node.args:
            built = self._constructed(arg.value)
            if built is None and isinstance(arg.value, cst.Name):
                built = self._instances.get((id(owner), arg.value.value))
            if built is not None:
                self.components.add(built)

    def _constructed(self, node: cst.BaseExpression, *, imported: bool = False) -> str | None:
        """The class of this file (or, ``imported``, of the project) that ``X(...)``, ``given or
        X(...)`` or ``a if c else X(...)`` builds."""
        classes = self._local_classes if imported else self._local_classes.local
        if isinstance(node, cst.Call) and isinstance(node.func, cst.Name) and node.func.value in classes:
            return node.func.value
        if isinstance(node, cst.BooleanOperation):
            return self._constructed(node.left, imported=imported) or self._constructed(node.right, imported=imported)
        if isinstance(node, cst.IfExp):
            return self._constructed(node.body, imported=imported) or self._constructed(node.orelse, imported=imported)
        return None

    def _note_construction(self, node: cst.Call, owner: ModuleClass) -> None:
        """``Wrapper(encoder, decoder)`` (or ``cls(...)`` in its class) with arguments built from
        known classes: the class each ``__init__`` parameter receives there."""
        func = node.func
        if not isinstance(func, cst.Name):
            return
        built = self._class_stack[-1] if func.value == "cls" and self._class_stack else self.classes.get(func.value)
        if built is not None:
            name, init = built.name, built.methods.get("__init__")
        else:  # a class written further down the file
            name, init = func.value, self._class_inits.get(func.value)
        if init is None:
            return
        self.construction_args.setdefault(name, []).append(
            {param: self._instance_value(value) for param, value in bind(init, node, skip_self=True, defaults=False).items()})
        params = [p.name.value for p in init.params.params][1:]
        received: dict[str, str | None] = {}
        for index, arg in enumerate(node.args):
            if arg.star:
                self.open_constructions.add(name)
                return
            param = arg.keyword.value if arg.keyword is not None else (params[index] if index < len(params) else None)
            if param is not None:
                value = self._uncopied(arg.value)
                received[param] = self._constructed(value, imported=True) or (
                    self._instances.get((id(owner), value.value)) if isinstance(value, cst.Name) else None)
        self.constructions.setdefault(name, []).append(received)

    def _uncopied(self, value: cst.BaseExpression) -> cst.BaseExpression:
        """``ff`` of ``copy.deepcopy(ff)``, also through a local alias (``c = copy.deepcopy;
        c(ff)``): a copy is a module of the same class."""
        while isinstance(value, cst.Call) and len(value.args) == 1 and not value.args[0].star:
            func: cst.BaseExpression = value.func
            if isinstance(func, cst.Name) and func.value in self._local_values:
                func = self._local_values[func.value]
            if not self._model.names(func) & knowledge.MODULE_COPIES:
                break
            value = value.args[0].value
        return value

    def _instance_value(self, value: cst.BaseExpression) -> cst.BaseExpression:
        """What an argument of a construction holds: ``layer`` after ``layer = Block(...)`` in
        the same function, that construction (a class handed it builds its holders from); a
        parameter of the calling function not bound since, its default (the configuration the
        caller is written for); any other value as written."""
        if not isinstance(value, cst.Name):
            return value
        local = self._local_values.get(value.value)
        if local is not None:
            return local if self._constructed(local, imported=True) is not None else value
        return self._defaults().get(value.value, value)

    def visit_BinaryOperation(self, node: cst.BinaryOperation) -> None:
        if isinstance(node.operator, cst.MatrixMultiply):
            self._matrix_operands(node)
        elif self._class_stack and self._method_name() == "forward" \
                and isinstance(node.operator, (cst.Multiply, cst.Divide)):
            self._note_normalisation(self._class_stack[-1], node)

    def _note_normalisation(self, owner: ModuleClass, node: cst.BinaryOperation) -> None:
        """``self.gamma * (x - mean) / torch.sqrt(var + eps)``: ``forward`` divides by the
        root of a spread (or multiplies by its reciprocal) and multiplies by ``gamma``."""
        if isinstance(node.operator, cst.Divide):
            owner.normalises = owner.normalises or self._has_root(node.right, knowledge.SPREAD_ROOTS)
            return
        for operand in (node.left, node.right):
            if (name := self_attribute_name(operand)) is not None:
                owner.scaling_parameters.add(name)
            elif not owner.normalises:
                owner.normalises = self._has_root(operand, knowledge.RECIPROCAL_ROOTS)

    def _has_root(self, node: cst.BaseExpression, roots: frozenset[str]) -> bool:
        """Whether ``node`` calls one of ``roots`` on a tensor: ``torch.pow``, ``x.std()``, not
        ``math.sqrt`` of a size."""
        pending: list[cst.CSTNode] = [node]
        while pending:
            current = pending.pop()
            if isinstance(current, cst.Call) and isinstance(current.func, (cst.Attribute, cst.Name)):
                last = current.func.attr.value if isinstance(current.func, cst.Attribute) else current.func.value
                names = self._model.names(current.func)
                if last in roots and (all(n.startswith("torch.") for n in names) if names
                                      else isinstance(current.func, cst.Attribute)):
                    return True
            if isinstance(current, (cst.BinaryOperation, cst.UnaryOperation, cst.Call, cst.Arg,
                                    cst.Attribute, cst.Subscript, cst.SubscriptElement, cst.Index)):
                pending.extend(current.children)
        return False

    def _matrix_operands(self, node: cst.Call | cst.BinaryOperation) -> None:
        """``F.linear(x, self.w)``, ``torch.matmul(x, self.w)``, ``x.mm(self.w)``: ``w`` is used
        as a weight; where every operand is an attribute of ``self`` (``self.u @ self.v``), that
        is decided with the class read whole (``leave_ClassDef``). The bias such a call adds is
        noted as one (``ModuleClass.bias_parameters``)."""
        operands = self._product_operands(node)
        if operands is None:
            return
        bias = added_bias(node, self._model.names(node.func)) if isinstance(node, cst.Call) else None
        source = self._tensor_source(bias) if bias is not None and self._class_stack else None
        if isinstance(source, str):
            self._class_stack[-1].bias_parameters.add(source)
        tensors = [operand for operand in operands if not literal_value(operand)[0]]  # not einsum's equation
        sources = [self._tensor_source(operand) for operand in tensors] if self._class_stack else []
        if len(sources) > 1 and all(isinstance(source, str) for source in sources):
            self._attribute_products.setdefault(id(self._class_stack[-1]), []).append(
                frozenset(source for source in sources if isinstance(source, str)))
            return
        for operand in tensors:
            self._matrix_parameter(operand)

    def _product_operands(self, node: cst.BaseExpression) -> list[cst.BaseExpression] | None:
        """The operands of a matrix product (``a @ b``, ``torch.matmul(a, b)``, ``a.mm(b)``,
        ``F.linear(x, w)``, ``F.conv2d(x, w, b)``); None for another expression."""
        if isinstance(node, cst.BinaryOperation) and isinstance(node.operator, cst.MatrixMultiply):
            return [node.left, node.right]
        if not isinstance(node, cst.Call):
            return None
        names = self._model.names(node.func)
        return product_factors(node, names) if names else method_factors(node)

    def visit_For(self, node: cst.For) -> None:
        self._note_iteration(node.target, node.iter)
        self._note_bound(node.target, None)

    def _note_bound(self, target: cst.BaseExpression, value: cst.BaseExpression | None) -> None:
        """``target`` bound to ``value`` (None: to values not followed, a loop's items)."""
        for name in target_names([target]):
            self._bound_once[name] = value if name not in self._bound_once and isinstance(target, cst.Name) else None

    def _note_iteration(self, target: cst.BaseAssignTargetExpression, iterated: cst.BaseExpression) -> None:
        """``for w in self.weights``: ``w`` is each tensor ``self.weights`` holds, until rebound."""
        if isinstance(target, cst.Name):
            if self_attribute_name(iterated) is not None:  # ``self.ws`` or ``getattr(self, f"ws{i}")``
                self._iterated[target.value] = iterated
            else:
                self._iterated.pop(target.value, None)

    def _matrix_parameter(self, node: cst.BaseExpression, products: frozenset[int] = frozenset()) -> None:
        """``node`` is a factor of a product with a signal: the tensor it reads is a weight, and
        so is each factor of a product it reads (``x @ w`` after ``w = self.u @ self.v``);
        ``products``: those already followed."""
        product = self._read_tensor(node, knowledge.WEIGHT_LAYOUT_METHODS)
        factors = self._product_operands(product) if id(product) not in products else None
        if factors is not None:
            for factor in factors:
                self._matrix_parameter(factor, products | {id(product)})
            return
        if not self._class_stack:
            node = tensor_behind(node, calls=self._call_reads)
            if isinstance(node, cst.Name) and self._functions \
                    and node.value not in parameter_names(self._functions[-1][0]):
                self.scopes[0].matrix_parameters.add(node.value)  # a variable of the script (``x @ W``)
            return
        source = self._tensor_source(node)
        if isinstance(source, str):
            self._class_stack[-1].matrix_parameters.add(source)
        elif source is not None:
            self._factor_parameters.setdefault(id(self._class_stack[-1]), set()).add(source)

    def _tensor_source(self, node: cst.BaseExpression) -> str | tuple[str, str] | None:
        """Where the tensor an expression reads comes from: the name of an attribute of ``self``
        (``self.w.t()``, ``self.w[:, :k]``, a loop variable over ``self.ws``), or (method,
        parameter) for a parameter of the method being read, also through the local names
        bound from either (``w = w.repeat(n, 1)``, ``w = torch.cat([self.w] * n)``); None otherwise."""
        node = self._read_tensor(node)
        if (name := self_attribute_name(node)) is not None:
            return name
        method = self._method_name()
        if isinstance(node, cst.Name) and method is not None and node.value != "self" \
                and node.value in parameter_names(self._functions[-1][0]):
            return method, node.value
        return None

    def _read_tensor(self, node: cst.BaseExpression, methods: frozenset[str] | None = None) -> cst.BaseExpression:
        """The expression whose tensor ``node`` reads, through copies (``torch.cat([self.w] *
        n)``), indexing and ``methods`` (None: every method but a product, ``self.w.t()``), and
        the local names and loop variables bound to them."""
        node = tensor_behind(node, methods, self._call_reads)
        seen: set[str] = set()
        while isinstance(node, cst.Name) and node.value not in seen:
            seen.add(node.value)
            if node.value in self._iterated:
                node = self._iterated[node.value]
            elif node.value in self._local_values:
                node = tensor_behind(self._local_values[node.value], methods, self._call_reads)
        return node

    def _call_reads(self, node: cst.Call) -> cst.BaseExpression | None:
        """What a call reads (``tensor_behind``): the tensor a function copies, or the call itself
        for a product (``a.mm(b)``) and another function of a module (``torch.softmax(a)``),
        which read no one tensor; None for a tensor's other methods, looked through."""
        func = node.func
        if not isinstance(func, cst.Attribute):
            return None
        if func.attr.value in knowledge.MATRIX_METHODS and not self._model.names(func):
            return node
        if isinstance(func.value, cst.Call) or not self._model.names(func.value):
            return None
        return self._copied(node) or node

    def _copied(self, node: cst.Call) -> cst.BaseExpression | None:
        """The one tensor a torch call fills its result with copies of: ``torch.tile(w, (n, 1))``,
        or a join of one tensor repeated (``torch.cat([w] * n)``, ``torch.stack((w, w))``)."""
        names = {name.removeprefix("torch.") for name in self._model.names(node.func) if name.startswith("torch.")}
        if names & knowledge.REPEATING_FUNCTIONS:
            return argument(node, 0, "input")
        joined = argument(node, 0, "tensors") if names & knowledge.JOINING_FUNCTIONS else None
        return _repeated_item(joined) if joined is not None else None

    def _note_passed(self, node: cst.Call, owner: ModuleClass, called: str) -> None:
        """What ``self.<called>(...)`` passes to each parameter of that method, where it is an
        attribute of ``self`` or a parameter of the caller (``_weights_passed``)."""
        function = owner.methods.get(called)
        if function is None:
            return
        passed = self._passed.setdefault(id(owner), {})
        for param, value in bind(function, node, skip_self=True, defaults=False).items():
            if (source := self._tensor_source(value)) is not None:
                passed.setdefault((called, param), set()).add(source)

    def visit_AugAssign(self, node: cst.AugAssign) -> None:
        self._note_bound(node.target, None)
        local = self._builder.lists.get(list_key(node.target) or "")
        if local is not None and isinstance(node.value, cst.List):
            local.items.extend(e.value for e in node.value.elements)
            local.repeated = local.repeated or bool(self._loops)
        elif local is not None and _is_list(node.value) and (element := repeated_element(node.value)) is not None:
            local.items.append(element[0])  # ``self.blocks += [Block(d) for d in dilations]``
            local.repeated = True
        owner = self._owner()
        if isinstance(node.operator, cst.AddAssign) and isinstance(node.value, (cst.List, cst.Tuple)) \
                and self._class_stack and owner is self._class_stack[-1] \
                and (name := self_attribute_name(node.target)) is not None \
                and (container := owner.attributes.get(name)) is not None \
                and container.kind is LayerKind.CONTAINER:
            # ``self.layers += [Block()]``: a ModuleList (or Sequential) extended in place.
            self._builder.add_children(container, [e.value for e in node.value.elements],
                                       repeated=bool(self._loops), defaults=self._unshadowed_defaults())

    def _grow(self, node: cst.Call, owner: ModuleClass) -> None:
        """``layers.append(m)``, ``self.blocks.append(m)``, ``self.net.add_module("fc", m)``."""
        assert isinstance(node.func, cst.Attribute)
        method, receiver = node.func.attr.value, node.func.value
        items = [self._through_locals(a.value) for a in node.args if a.keyword is None and not a.star]
        if method == "extend":
            items = [e.value for e in items[0].elements] if items and isinstance(items[0], (cst.List, cst.Tuple)) else []
        names = None
        if method == "add_module":
            if len(items) != 2 or not isinstance(items[0], cst.SimpleString):
                return
            names, items = [str(items[0].evaluated_value)], items[1:]
        if (key := list_key(receiver)) in self._builder.lists:
            local = self._builder.lists[key]
            local.items.extend(items)
            local.repeated = local.repeated or bool(self._loops)
        elif (name := self_attribute_name(receiver)) is not None and name in owner.attributes:
            container = owner.attributes[name]
            if container.kind is LayerKind.CONTAINER:
                with self._builder.reading(owner.attributes):  # ``self.layers.append(self.act)``
                    self._builder.add_children(container, items, names, repeated=bool(self._loops),
                                               defaults=self._unshadowed_defaults())
                self._note_cycle(container)

    def _through_locals(self, node: cst.BaseExpression) -> cst.BaseExpression:
        """``m`` or ``act()`` with the value a local binds in their place (``act = nn.ReLU``), and
        ``self.norm(n)`` with the class the attribute holds."""
        if isinstance(node, cst.Name):
            return self._local_values.get(node.value, node)
        if isinstance(node, cst.Call) and isinstance(node.func, cst.Name) \
                and (bound := self._local_values.get(node.func.value)) is not None:
            return node.with_changes(func=bound)
        if isinstance(node, cst.Call) and (name := self_attribute_name(node.func)) is not None \
                and (held := self._held_classes.get((id(self._owner()), name))) is not None:
            return node.with_changes(func=held)
        return node

    def _note_cycle(self, container: Submodule) -> None:
        """Whether every child of ``container`` so far was appended by one loop, under no test
        opened inside it (``Submodule.cycles``)."""
        loop = self._loops[-1] if self._loops else None
        inside = loop is not None and not any(opened >= len(self._loops) for _, _, opened in self._conditions)
        appended = self._cycle_loops.setdefault(id(container), [])
        appended.append(loop if inside else None)
        container.cycles = appended[0] is not None and all(each is appended[0] for each in appended)

    def _inplace(self, node: cst.Call, method: str) -> None:
        assert isinstance(node.func, cst.Attribute)
        function = knowledge.INPLACE_INIT_METHODS[method]
        args = self._method_arguments(node, method)
        if args is None:
            return
        if method == "copy_":
            source = argument(node, 0, "src")
            copied = None if source is None else self._copy_init(source)
            if copied is None:
                return
            function, args = copied
        assert function is not None
        if steps := self._continued.get(id(node)):
            function, args = carried(function, args, steps, self.stand_ins)
        self._record(node, function, InitVia.METHOD, args, node.func.value)

    def _method_arguments(self, node: cst.Call, method: str) -> dict[str, cst.BaseExpression] | None:
        """The init arguments an in-place init method is given (None: a fill without a value)."""
        if method == "fill_":
            value = argument(node, 0, "value")
            return None if value is None else {"val": value}
        if method in _DRAW_PARAMETERS:
            return unpacked(self._unpacked_returns(node), _DRAW_PARAMETERS[method])
        return {}

    def _unpacked_returns(self, node: cst.Call) -> cst.Call:
        """``w.uniform_(*hidden_init(self.fc1))`` read as ``w.uniform_(-lim, lim)``, with the items
        of the tuple the function of the file returns for that call (unchanged when unknown)."""
        index = next((i for i, arg in enumerate(node.args) if arg.star == "*"), None)
        if index is None or not isinstance(called := node.args[index].value, cst.Call):
            return node
        method = self_attribute_name(called.func)
        if method is not None:
            function = self._class_stack[-1].methods.get(method) if self._class_stack else None
        else:
            function = self._function_named(called.func)
        items = None if function is None else returned_values(
            function, called, skip_self=method is not None, stand_ins=self.stand_ins)
        if items is None:
            return node
        spread = [cst.Arg(item) for item in items]
        return node.with_changes(args=[*node.args[:index], *spread, *node.args[index + 1:]])

    def _function_named(self, node: cst.BaseExpression) -> cst.FunctionDef | None:
        """The function a name calls: one defined at the top level of the file or imported from
        another project file (``from utils import hidden_init``, ``utils.hidden_init``), or the
        one a parameter of the enclosing function defaults to (``def reset(self, init=hidden_init)``)."""
        if isinstance(node, cst.Name) and node.value not in self._top_functions:
            node = self._defaults().get(node.value, node)
        if isinstance(node, cst.Name) and node.value in self._top_functions:
            return self._top_functions[node.value]
        dotted = _dotted_name(node)
        links = self._model.links
        if dotted is None or links is None or dotted.partition(".")[0] in self._top_functions:
            return None
        found = links.returning(dotted)
        return None if found is None else found[0]

    def _record(self, node: cst.Call, function: str, via: InitVia,
                args: dict[str, cst.BaseExpression], target: cst.BaseExpression | None) -> None:
        self.note_init(function)
        target = self._through_alias(self._registered(target))
        local = self._runs_on_local(target, *(loop.iter for loop in self._loops))
        unguarded = target is not None \
            and _code(tensor_behind(target, knowledge.VIEW_METHODS)) in self._frozen.get(self._scope_key(), ())
        self.init_ops.append(self._operation(
            node, function, via, args, target, local, errors_swallowed=self._tries[-1][1] if self._tries else None,
            handlers=tuple(self._handlers), rejected=self.rejected(), aliases=self._aliases(target),
            unguarded=unguarded, made_here=self._made_here(target)))

    def _made_here(self, target: cst.BaseExpression | None) -> bool:
        """Whether ``target`` is a Parameter the function being walked makes: a local name bound
        to one (``w = nn.Parameter(...)``), or an item of a local dict, list or tuple of them."""
        if isinstance(target, cst.Subscript) and isinstance(target.value, cst.Name):
            held = self._local_values.get(target.value.value)
            values = [e.value for e in held.elements] if isinstance(held, cst.Dict | cst.List | cst.Tuple) else []
            return bool(values) and all(self._makes_parameter(v) for v in values)
        return isinstance(target, cst.Name) and self._makes_parameter(self._local_values.get(target.value))

    def _makes_parameter(self, value: cst.BaseExpression | None) -> bool:
        return isinstance(value, cst.Call) and any(n in _PARAMETER_CLASSES for n in self._model.names(value.func))

    def _registered(self, target: cst.BaseExpression | None) -> cst.BaseExpression | None:
        """``m.w`` for ``m._parameters["w"]``, the registry ``m.w`` reads a Parameter from (also
        under ``.data``); standing for the subscript as written."""
        if isinstance(target, cst.Attribute) and target.attr.value == "data":
            inner = self._registered(target.value)
            return target if inner is target.value else target.with_changes(value=inner)
        if not (isinstance(target, cst.Subscript) and isinstance(target.value, cst.Attribute)
                and target.value.attr.value == "_parameters" and len(target.slice) == 1
                and isinstance(target.slice[0].slice, cst.Index)):
            return target
        name = name_text(target.slice[0].slice.value)
        if name is None or not name.isidentifier():
            return target
        attribute = cst.Attribute(value=target.value.value, attr=cst.Name(name))
        self.stand_ins[id(attribute)] = (attribute, target)
        return attribute

    def _through_alias(self, target: cst.BaseExpression | None) -> cst.BaseExpression | None:
        """``p.data`` for ``data`` after ``data = p.data`` (``m.weight`` after ``w = m.weight``): a
        local name bound once, to another one's tensor, whole, writes that tensor."""
        name = written_tensor(target) if target is not None else None
        if not isinstance(name, cst.Name):
            return target
        value = self._bound_once.get(name.value)
        root = written_tensor(value) if value is not None else None
        while isinstance(root, cst.Attribute):
            root = root.value  # ``w = m.weight``: an attribute, not a tensor made here
        if not isinstance(root, cst.Name) or root.value == name.value:
            return target
        assert target is not None
        return substitute(target, {name.value: value}, self.stand_ins)

    def _aliases(self, target: cst.BaseExpression | None) -> frozenset[str]:
        """The local names bound to the tensor ``target`` names, whole (``data = p.data``)."""
        written = viewed_name(target) if target is not None else None
        if written is None:
            return frozenset()
        return frozenset(name for name, value in self._bound_once.items()
                         if name != written and value is not None and viewed_name(value) == written)

    def _operation(self, node: cst.Call | cst.Assign, function: str, via: InitVia,
                   args: dict[str, cst.BaseExpression], target: cst.BaseExpression | None,
                   local: ModuleClass | None = None, **extra: Any) -> InitOp:
        """An operation written where the walk is, with what surrounds it there: its function,
        tests, loops and ``no_grad``; ``local``: the scope of the method's locals it writes in."""
        return InitOp(
            node, function, via, args, target, local or self._owner(), self._method_name(), self._seq,
            scope_node=self._functions[-1][0] if self._functions else None,
            enclosing=tuple(f for f, _ in self._functions), in_no_grad=self._no_grad > 0,
            conditions=tuple(self._conditions), loops=tuple(self._loops),
            renamed=dict(self._rebound.get(id(local), {})) if local else self._renamed(), **extra)


#: What reads a tensor's shape only, not its values.
_SHAPE_ATTRIBUTES = frozenset({"shape", "dtype", "device", "ndim"})
_SHAPE_METHODS = frozenset({"size", "dim", "numel", "ndimension", "type", "new_empty", "new_zeros",
                            "new_ones", "new_full", "new_tensor"})


class _Reads(cst.CSTVisitor):
    """Whether an expression reads the values of a tensor (``w``, ``w.data``), rather than only
    its shape: ``w.size()``, ``w.shape``, or a function of the file given ``w`` that reads only its
    shape in turn (one level deep)."""

    def __init__(self, tensor: cst.BaseExpression, functions: dict[str, cst.FunctionDef],
                 depth: int = 0) -> None:
        super().__init__()
        self._key = _code(tensor)
        self._functions = functions
        self._depth = depth
        self.found = False

    def of(self, node: cst.CSTNode) -> bool:
        node.visit(self)
        return self.found

    def _is_tensor(self, node: cst.BaseExpression) -> bool:
        while isinstance(node, cst.Attribute) and node.attr.value == "data":
            node = node.value
        return isinstance(node, (cst.Name, cst.Attribute)) and _code(node) == self._key

    def visit_Attribute(self, node: cst.Attribute) -> bool:
        if node.attr.value in _SHAPE_ATTRIBUTES and self._is_tensor(node.value):
            return False
        self.found = self.found or self._is_tensor(node)
        return not self.found

    def visit_Name(self, node: cst.Name) -> None:
        self.found = self.found or self._is_tensor(node)

    def visit_Call(self, node: cst.Call) -> bool:
        func = node.func
        if isinstance(func, cst.Attribute) and func.attr.value in _SHAPE_METHODS and self._is_tensor(func.value):
            return False
        function = self._functions.get(func.value) if isinstance(func, cst.Name) else None
        if function is None or self._depth:
            return True
        params = function.params.params
        for index, arg in enumerate(node.args):
            if self._is_tensor(arg.value):
                reads = arg.keyword is not None or bool(arg.star) or index >= len(params) or _Reads(
                    cst.Name(params[index].name.value), self._functions, 1).of(function.body)
                self.found = self.found or reads
            else:
                arg.value.visit(self)
        return False


def _code(node: cst.CSTNode) -> str:
    return cst.Module([]).code_for_node(node)


def _spelled(node: cst.BaseExpression) -> str:
    """A value's code, a string by its value (``'relu'`` is ``"relu"``)."""
    return repr(node.evaluated_value) if isinstance(node, cst.SimpleString) else _code(node)


class _ClassNames:
    """The module classes a file can build by name: its own, then those it imports from the
    project (looked up only when a call asks)."""

    def __init__(self, local: frozenset[str], model: ParsedFile) -> None:
        self.local = local
        self._model = model

    def __contains__(self, name: object) -> bool:
        return name in self.local or (isinstance(name, str) and self._model.links is not None
                                      and self._model.imported_class(name) is not None)

    def imported_factory(self, name: str) -> Submodule | None:
        """The module a factory function of another project file returns (unplaced)."""
        if name in self.local or self._model.links is None:
            return None
        return self._model.links.factory(name)

    def imported_builder(self, name: str) -> BuilderSummary | None:
        """A function of another project file that builds and returns a Sequential."""
        if name in self.local or self._model.links is None:
            return None
        return self._model.links.builder(name)

    def torch_base(self, name: str) -> str | None:
        """The torch.nn layer an imported project class derives from when it adds no submodule
        and no parameter of its own (``class Conv1d(nn.Conv1d)`` with an incremental forward):
        what its construction builds, to the inits. None for a class of this file (those are
        ``leaf_subclasses``) and any other."""
        if name in self.local or self._model.links is None or self._model.imported_class(name) is None:
            return None
        owner, model = self._model.imported_classes[name]
        if owner.attributes or owner.parameters or not isinstance(owner.node, cst.ClassDef) \
                or not owner.node.bases:
            return None
        base = torch_nn_class(model.names(owner.node.bases[0].value))
        return base if base is not None and knowledge.layer_kind(base) in INHERITED_KINDS else None


def _optional(previous: Submodule, module: Submodule | None) -> Submodule | None:
    """Of two arms binding one attribute, the block of the project when the other holds no
    tensors (``if attn: self.attn = Block(c) else: self.attn = nn.Identity()``): a placeholder
    marks an optional block, as ``None`` does, and the block, whose construction runs its own
    init, is the one built where it exists; None when the arms are not so (a torch layer in one
    arm only changes what follows, which stays unjudged)."""
    if module is None:
        return None
    for kept, other in ((previous, module), (module, previous)):
        if other.kind is LayerKind.PASSTHROUGH and not other.children and kept.kind is LayerKind.CUSTOM:
            return kept
    return None


def _is_none(node: cst.BaseExpression) -> bool:
    return isinstance(node, cst.Name) and node.value == "None"


def _repeated_item(node: cst.BaseExpression) -> cst.BaseExpression | None:
    """``w`` of ``[w] * n``, ``n * (w,)`` and ``[w, w]``: the one item a sequence repeats."""
    if isinstance(node, cst.BinaryOperation) and isinstance(node.operator, cst.Multiply):
        display = node.left if isinstance(node.left, (cst.List, cst.Tuple)) else node.right
        return _repeated_item(display) if isinstance(display, (cst.List, cst.Tuple)) else None
    if not isinstance(node, (cst.List, cst.Tuple)) or not node.elements \
            or any(isinstance(element, cst.StarredElement) for element in node.elements):
        return None
    first = node.elements[0].value
    return first if all(element.value.deep_equals(first) for element in node.elements) else None


#: The qualified names of the Parameter class.
_PARAMETER_CLASSES = ("torch.nn.Parameter", "torch.nn.parameter.Parameter")
#: Tensor methods whose result holds the receiver's values bounded or moved (``w.fmod(2)``, ``w.cuda()``).
_VALUES_KEPT_BY = knowledge.BOUNDING_METHODS | knowledge.MOVING_METHODS


def _is_false(node: cst.BaseExpression) -> bool:
    return isinstance(node, cst.Name) and node.value == "False"


def _is_list(node: cst.BaseExpression) -> bool:
    """A list or tuple made whole (``[...]``, ``list(...)``), not an iterator read once."""
    return isinstance(node, cst.ListComp) or (isinstance(node, cst.Call) and isinstance(node.func, cst.Name)
                                              and node.func.value in ("list", "tuple"))


def _unpacked_pairs(target: cst.BaseExpression, value: cst.BaseExpression
                   ) -> list[tuple[str, cst.BaseExpression | None]]:
    """``a, b = x, y``: each name with the item it receives (None when not known: ``a, b = f()``,
    a starred item). Empty when the target is not a tuple or list of names."""
    if not isinstance(target, (cst.Tuple, cst.List)) \
            or not all(isinstance(e.value, cst.Name) and not isinstance(e, cst.StarredElement)
                       for e in target.elements):
        return []
    names = [e.value.value for e in target.elements]  # type: ignore[attr-defined]
    if isinstance(value, (cst.Tuple, cst.List)) and len(value.elements) == len(names) \
            and not any(isinstance(e, cst.StarredElement) for e in value.elements):
        return [(name, e.value) for name, e in zip(names, value.elements, strict=True)]
    return [(name, None) for name in names]


def _chained_applies(node: cst.BaseExpression) -> list[cst.Call]:
    """The ``apply`` calls among the methods returning the module that ``node`` chains on a
    module it builds: ``Net(...).apply(init).to(device)`` (a name's own ``apply`` reaches it)."""
    applies = []
    while isinstance(node, cst.Call) and isinstance(node.func, cst.Attribute) \
            and node.func.attr.value in knowledge.MODULE_SELF_METHODS:
        if node.func.attr.value == "apply":
            applies.append(node)
        node = node.func.value
    return applies if isinstance(node, cst.Call) else []


def _module_itself(node: cst.BaseExpression) -> cst.BaseExpression:
    """``Net(...)`` of ``Net(...).to(device).train()``: methods that return the module."""
    while isinstance(node, cst.Call) and isinstance(node.func, cst.Attribute) \
            and node.func.attr.value in knowledge.MODULE_SELF_METHODS:
        node = node.func.value
    return node


def _type_argument_attributes(collector: _Collector) -> None:
    """``self.encoder = encoder``: a module of the class every construction in the file passes."""
    for name, sites in collector.constructions.items():
        owner = collector.classes.get(name)
        if owner is None:
            continue
        for attribute, (param, node) in owner.argument_attributes.items():
            passed = {site.get(param) for site in sites}
            built = passed.pop() if len(passed) == 1 else None
            if built is not None and attribute not in owner.attributes:
                owner.attributes[attribute] = Submodule(attribute, LayerKind.CUSTOM, built, node)
            if name not in collector.open_constructions and all(param not in site for site in sites) \
                    and _defaults_to_none(owner.methods["__init__"], param):
                owner.none_attributes.add(attribute)


def _defaults_to_none(function: cst.FunctionDef, param: str) -> bool:
    return any(p.name.value == param and isinstance(p.default, cst.Name) and p.default.value == "None"
               for p in (*function.params.params, *function.params.kwonly_params))


def _fill_argument_holders(collector: _Collector) -> None:
    """``self.extras = nn.ModuleList(extras)``: the layers every construction in the file hands
    the class (``Detector(make_extras())``, ``Detector([nn.Conv2d(...)])``), written out at the
    construction or returned as a list by a function of the file. Constructions that disagree,
    or none, leave the holder as built (its layers unknown)."""
    for name, holders in collector.argument_holders.items():
        sites = collector.construction_args.get(name, [])
        owner = collector.classes[name]
        for attribute, (value, module, items) in holders.items():
            held = owner.attributes.get(attribute)
            if held is not module or len(held.children) != items:
                continue  # bound again since, or filled by appends
            filled = {_code(_filled(collector, value, site)) for site in sites}
            if len(filled) != 1:
                continue
            built = collector._builder.build(attribute, _filled(collector, value, sites[0]))
            if built is not None and _knows_items(built):
                built.node = value  # the holder is reported where it is written
                owner.attributes[attribute] = built


def _bind_constructions(collector: _Collector) -> None:
    """``self.act = get_activation(act)`` with ``act="relu"``: the activation the constructions
    of the file bind, as Python binds them (an argument given, else the default). Constructions
    that disagree leave it unknown; with none, or one with a starred argument, the defaults give it."""
    for name, chosen in collector.chosen_by_defaults.items():
        owner, sites = collector.classes.get(name), collector.construction_args.get(name)
        if owner is None or not sites or name in collector.open_constructions:
            continue
        for attribute, (value, module, defaults, read) in chosen.items():
            if owner.attributes.get(attribute) is not module:
                continue  # bound again since
            bindings = {tuple(_spelled(site.get(p, defaults[p])) for p in sorted(read)): site for site in sites}
            if set(bindings) == {tuple(_spelled(defaults[p]) for p in sorted(read))}:
                continue
            bound = None
            if len(bindings) == 1:
                site = next(iter(bindings.values()))
                bound = collector._builder.build(attribute, _module_itself(value), {
                    **defaults, **{p: site[p] for p in read if p in site}})
            if bound is None or (bound.kind, bound.activation, bound.slope) != (
                    module.kind, module.activation, module.slope):
                owner.attributes[attribute] = bound or Submodule(attribute, LayerKind.UNKNOWN, None, value)


def _filled(collector: _Collector, value: cst.Call, site: Bound) -> cst.BaseExpression:
    """``value`` with the parameters it reads replaced by what a construction binds to them, a
    call of a function of the file that returns a list of modules by that list."""
    bound: Bound = {}
    for parameter, argument_value in site.items():
        function = collector.functions.get(argument_value.func.value) if isinstance(
            argument_value, cst.Call) and isinstance(argument_value.func, cst.Name) else None
        items = returned_values(function, argument_value, skip_self=False, stand_ins=collector.stand_ins) \
            if function is not None else None
        bound[parameter] = cst.List([cst.Element(item) for item in items]) if items is not None else argument_value
    return substitute(value, bound, collector.stand_ins)


def _knows_items(container: Submodule) -> bool:
    """Whether any item of the container is a module known here."""
    return any(item.kind is not LayerKind.UNKNOWN for item in container.children)


def _method_of_submodule(func: cst.BaseExpression) -> bool:
    """``self.mlp.init_weight`` or ``self.blocks[0].reset``: a method read from a module the
    class holds, which runs with that module as its ``self``."""
    if not isinstance(func, cst.Attribute) or not isinstance(func.value, (cst.Attribute, cst.Subscript)):
        return False
    root: cst.BaseExpression = func.value
    while isinstance(root, (cst.Attribute, cst.Subscript)):
        root = root.value
    return isinstance(root, cst.Name) and root.value == "self"


def _dotted_name(node: cst.BaseExpression) -> str | None:
    """``a.b.c`` for a chain of attributes on a name; None for anything else."""
    parts = []
    while isinstance(node, cst.Attribute):
        parts.append(node.attr.value)
        node = node.value
    return ".".join([node.value, *reversed(parts)]) if isinstance(node, cst.Name) else None


def _set_self_attribute(node: cst.Call) -> tuple[str, cst.Call, cst.BaseExpression] | None:
    """``setattr(self, "w", value)``, and ``self.register_parameter("w", value)`` or
    ``self.add_module("w", value)``, which bind as ``self.w = value`` does: the name, the
    expression reading the attribute back (``getattr(self, "w")``) and the value."""
    func = node.func
    if isinstance(func, cst.Name) and func.value == "setattr" and len(node.args) == 3 \
            and all(arg.keyword is None and not arg.star for arg in node.args):
        receiver, key, value = (arg.value for arg in node.args)
    elif isinstance(func, cst.Attribute) and func.attr.value in _REGISTERING_METHODS \
            and not any(arg.star for arg in node.args):
        receiver = func.value
        key = argument(node, 0, "name")
        value = argument(node, 1, _REGISTERING_METHODS[func.attr.value])
        if key is None or value is None:
            return None
    else:
        return None
    read = cst.Call(cst.Name("getattr"), [cst.Arg(receiver), cst.Arg(key)])
    name = self_attribute_name(read)
    return (name, read, value) if name is not None else None


#: Module methods that bind an attribute of the module, as ``setattr`` does, by the keyword of
#: the value they bind.
_REGISTERING_METHODS = {"register_parameter": "param", "add_module": "module", "register_module": "module"}


def _bind_init_args(node: cst.Call, function: str) -> dict[str, cst.BaseExpression]:
    """Arguments after ``tensor`` by parameter name."""
    spec = knowledge.INIT_FUNCTIONS[function]
    return unpacked(node, [(index, name, name) for index, name in enumerate(spec.params, start=1)])


def _spread_ndim(function: cst.FunctionDef, call: cst.BaseExpression, made: cst.Call) -> int | None:
    """The dimensions of ``torch.randn(*size)`` in ``function``, made by ``call``: the length of
    the list or tuple the call binds ``size`` to (None when the shape is written otherwise)."""
    if not isinstance(call, cst.Call):
        return None
    spread = [arg.value.value for inner in _calls_within(made) for arg in inner.args
              if arg.star == "*" and isinstance(arg.value, cst.Name)]
    shape = bind(function, call, skip_self=False).get(spread[0]) if len(spread) == 1 else None
    return len(shape.elements) if isinstance(shape, (cst.List, cst.Tuple)) and shape.elements else None


def _calls_within(node: cst.Call) -> Iterator[cst.Call]:
    """The calls of ``Variable(torch.randn(*size) * s, ...)``: it, its arguments' and their
    operands' (a tensor's factory sits in an argument or an arithmetic operand)."""
    pending: list[cst.BaseExpression] = [node]
    while pending:
        current = pending.pop()
        if isinstance(current, cst.Call):
            yield current
            pending.extend(arg.value for arg in current.args)
            if isinstance(current.func, cst.Attribute):
                pending.append(current.func.value)
        elif isinstance(current, cst.BinaryOperation):
            pending.extend((current.left, current.right))


def _factory_ndim(factory: str | None, call: cst.Call) -> int | None:
    if factory in ("zeros_like", "ones_like", "full_like", None):
        return None
    data = argument(call, 0, "data")
    if factory in ("tensor", "as_tensor") or (factory == "Tensor" and isinstance(data, (cst.List, cst.Tuple))):
        depth = 0
        while isinstance(data, (cst.List, cst.Tuple)) and data.elements:
            depth += 1
            data = data.elements[0].value
        return depth if depth else None
    sizes = _factory_sizes(factory, call)
    if sizes is None or (len(sizes) == 1 and not isinstance(sizes[0], (cst.Integer, cst.Name, cst.Attribute,
                                                                          cst.BinaryOperation))):
        return None
    return len(sizes) or None


def _factory_sizes(factory: str | None, call: cst.Call) -> list[cst.BaseExpression] | None:
    """The sizes a factory is given, one per dimension, whether passed one by one
    (``torch.empty(n, 1)``) or as one tuple or list (``torch.empty((n, 1))``); None when a
    starred argument hides how many."""
    shape_args = [a for a in call.args if a.keyword is None]
    if factory in ("full",):
        shape_args = shape_args[:1]
    if any(a.star for a in shape_args):
        return None
    if len(shape_args) == 1 and isinstance(shape_args[0].value, (cst.Tuple, cst.List)):
        elements = shape_args[0].value.elements
        return None if any(isinstance(e, cst.StarredElement) for e in elements) else [e.value for e in elements]
    return [a.value for a in shape_args]


def _column_shaped(factory: str | None, call: cst.Call) -> bool:
    """A factory making an ``(n, 1)`` tensor: one input per unit where a product contracts its
    last dimension (``t @ self.w.T``), so that its unit scale is already 1/sqrt(fan_in)."""
    if factory in ("zeros_like", "ones_like", "full_like", "tensor", "as_tensor", None):
        return False
    sizes = _factory_sizes(factory, call)
    return sizes is not None and len(sizes) == 2 and isinstance(sizes[1], cst.Integer) \
        and sizes[1].evaluated_value == 1
