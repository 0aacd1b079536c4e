"""Which activation each layer's output meets first (init-reference §6).

One forward pass under a ``TorchFunctionMode`` that sees every functional call (``F.relu``,
``torch.tanh``, ``x.relu()``...), interleaved with module hooks that mark the tensors each
weight layer produces. Shape-only calls keep the mark, normalisations keep it and note the
norm, an activation claims it, anything else (another layer, an addition) makes it "linear".
A layer whose weight the forward hands to an operator itself (``F.linear(x, self.proj.weight)``,
``self.dt_proj.weight @ x``) is marked at that operator, as its hook would have, and torch's
Python composites taking such weights (``F.multi_head_attention_forward``) are followed inside.
The same pass gives each parameter its role (``auditor/trace/roles.py``) and each layer whether its
output closes a residual sum (``auditor/trace/residuals.py``).
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import types
import weakref
from collections import Counter
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Iterator, NamedTuple

import torch
from torch.overrides import TorchFunctionMode

from initaudit import knowledge
from initaudit.auditor.identify.layers import custom_activation, module_kind
from initaudit.auditor.load.example import Example
from initaudit.auditor.trace.residuals import Branches, SignalGraph
from initaudit.auditor.trace.roles import ParameterRole, Role, RoleRecorder, tensors_in
from initaudit.knowledge import LayerKind

TRACKED_KINDS = knowledge.WEIGHT_MATRIX_KINDS | {LayerKind.EMBEDDING}
PASSTHROUGH = (knowledge.PASSTHROUGH_FUNCTIONS | knowledge.PASSTHROUGH_METHODS
                | knowledge.TRACE_PASSTHROUGH)
#: Roles by which a parameter makes its layer's output (a weight, a table), not only shifts it.
_LAYER_ROLES = frozenset({Role.CONTRACTION, Role.RECURRENT, Role.EMBEDDING})
#: Where torch's Python composites live: those that take whole layers' weights
#: (``multi_head_attention_forward``) are followed call by call.
_COMPOSITE_MODULES = frozenset({"torch.nn.functional", "torch.functional"})


@dataclass(frozen=True)
class LayerUse:
    activation: str  # an ACTIVATIONS name, "linear" when none follows
    norm_between: bool
    slope: float | None = None
    #: The output is added, unchanged but for its scale, to the stream its block transforms.
    residual: bool = False
    #: The output, from another input, is added whole to the stream of the model's first input
    #: (ControlNet's ``sample + cond``): see ``residuals.Branches.added``.
    added: bool = False
    #: Weight layers in series from this one (itself included) to the first normalisation its
    #: signal reaches; None when none does.
    rescaled_within: int | None = None
    #: What consumed the activation's output ("mul" for a gate), when it was not passthrough.
    gate_consumer: str | None = None


def tracked_modules(model: torch.nn.Module) -> dict[int, str]:
    """id(module) -> name for every module that owns a weight matrix of its own. Learned tokens
    and tables held by a composite module (a ViT's ``cls_token``) do not make it a layer."""
    tracked: dict[int, str] = {}
    for name, module in model.named_modules():
        kind = module_kind(module)
        owns_matrix = any(p.dim() >= 2 and not knowledge.is_embedding_like(local)
                          for local, p in module.named_parameters(recurse=False))
        if kind in TRACKED_KINDS or (owns_matrix and kind not in (LayerKind.NORM, LayerKind.ACTIVATION)):
            tracked[id(module)] = name
    return tracked


def merged_chains(chains: Iterable[dict[str, int]]) -> dict[str, int]:
    merged: dict[str, int] = {}
    for chain in chains:
        for layer, depth in chain.items():
            if depth > merged.get(layer, 0):
                merged[layer] = depth
    return merged


class Trace(NamedTuple):
    uses: dict[str, LayerUse]
    #: The weight layers in the order the forward ran them.
    order: list[str]
    roles: dict[str, ParameterRole]
    #: The weight layers whose output reaches what the model returned through no other one.
    outputs: frozenset[str] = frozenset()


class _Tracer(TorchFunctionMode):
    def __init__(self, model: torch.nn.Module, layers: Iterable[str] = ()) -> None:
        super().__init__()
        self.recorder = RoleRecorder(model)
        self.layers = frozenset(layers)
        #: Tracked layers whose forward is running: their hooks mark what they produce.
        self.active: Counter[str] = Counter()
        self.expanding: set[Any] = set()
        #: Told of each output a layer makes through its weight (:func:`weight_uses`).
        self.on_weight_use: Callable[[str, Any], None] | None = None
        self.graph = SignalGraph()
        self.branches = Branches(self.graph, PASSTHROUGH, self.recorder.is_parameter)
        self.origin: dict[int, tuple[str, bool]] = {}
        self.uses: dict[str, LayerUse] = {}
        self.order: list[str] = []
        self.suspended = 0
        #: tensor id -> {layer: weight layers in series since that layer} until a normalisation.
        self.chains: dict[int, dict[str, int]] = {}
        self.rescaled: dict[str, int] = {}
        #: tensor id -> layer, for the outputs of sigmoid-like activations (gates).
        self.gates: dict[int, str] = {}
        self.gate_consumers: dict[str, str] = {}

    def chain_of(self, value: Any) -> dict[str, int]:
        return merged_chains(self.chains[id(t)] for t in tensors_in(value) if id(t) in self.chains)

    def set_chain(self, value: Any, chain: dict[str, int]) -> None:
        for item in tensors_in(value):
            if chain:
                _forget_with(item, self.chains)
                self.chains[id(item)] = chain
            else:
                self.chains.pop(id(item), None)

    def normalised(self, chain: dict[str, int]) -> None:
        for layer, depth in chain.items():
            if depth < self.rescaled.get(layer, depth + 1):
                self.rescaled[layer] = depth

    def activated(self, layer: str, activation: str, result: Any) -> None:
        if knowledge.ACTIVATIONS[activation].family == knowledge.SIGMOID:
            for item in tensors_in(result):
                _forget_with(item, self.gates)
                self.gates[id(item)] = layer

    def follow_gates(self, name: str, args: Any, result: Any) -> None:
        for item in tensors_in(args):
            layer = self.gates.get(id(item))
            if layer is None:
                continue
            if name in PASSTHROUGH:
                self.activated(layer, "sigmoid", result)
            else:
                self.gate_consumers.setdefault(layer, name)

    def mark(self, tensor: Any, layer: str, normed: bool) -> None:
        for item in tensors_in(tensor):
            if id(item) not in self.origin:  # an id freed with its tensor may come back: forget it then
                weakref.finalize(item, self.origin.pop, id(item), None)
            self.origin[id(item)] = (layer, normed)

    def claim(self, layer: str, activation: str, normed: bool, slope: float | None = None) -> None:
        self.uses.setdefault(layer, LayerUse(activation, normed, slope))

    def produced(self, name: str, inputs: Any, output: Any) -> None:
        """``output`` is weight layer ``name``'s: from its hook, or from the operator that used its weight."""
        if name not in self.order:
            self.order.append(name)
        chain = {layer: depth + 1 for layer, depth in self.chain_of(inputs).items()}
        chain[name] = 1
        self.set_chain(output, chain)
        first = next(tensors_in(output), None)
        if first is not None:
            self.mark(first, name, False)
            self.branches.start(name, first)

    def owners(self, value: Any, roles: frozenset[Role] | None = None) -> list[str]:
        """The tracked layers owning the parameters in ``value`` (those with one of ``roles``)."""
        return list(dict.fromkeys(owner for group in self.owner_groups(value, roles) for owner in group))

    def owner_groups(self, value: Any, roles: frozenset[Role] | None = None) -> list[tuple[str, ...]]:
        """Per parameter in ``value`` (with one of ``roles``), the tracked layers owning it under
        any of its names (a tied table: the embedding and the head)."""
        groups: list[tuple[str, ...]] = []
        for parameter in sorted(self.recorder.parameters_in(value)):
            if roles is not None and not roles & self.recorder.roles.get(parameter, set()):
                continue
            owners = (alias.rpartition(".")[0] for alias in self.recorder.aliases.get(parameter, [parameter]))
            group = tuple(dict.fromkeys(owner for owner in owners if owner in self.layers))
            if group and group not in groups:
                groups.append(group)
        return groups

    def used_by_weight(self, args: Any) -> str | None:
        """The layer whose weight an operator consumed outside that layer's own forward (its hook
        marks what its forward makes): ``F.linear(x, self.proj.weight)``."""
        owners = self.owners(args, _LAYER_ROLES)
        if any(self.active[owner] for owner in owners):
            return None
        return owners[0] if owners else None

    def expands(self, func: Any, args: tuple, kwargs: dict) -> bool:
        """A torch Python composite of several layers, handed their weights, one of them not
        running (``nn.MultiheadAttention``'s ``out_proj``, WavLM's four projections): followed
        inside, so that each weight's own operator is seen. A call taking one layer's weights
        (``F.embedding``) is that layer's operator, as it stands."""
        if self.suspended or func in self.expanding or getattr(func, "__module__", None) not in _COMPOSITE_MODULES:
            return False
        if _dispatch_free(func) is None:
            return False
        groups = self.owner_groups((args, kwargs))
        return len(groups) > 1 and any(not any(self.active[owner] for owner in group) for group in groups)

    def expanded(self, func: Any, args: tuple, kwargs: dict) -> Any:
        self.expanding.add(func)
        try:
            with self:  # re-entered: the composite's own calls come back to this mode
                return _dispatch_free(func)(*args, **kwargs)
        finally:
            self.expanding.discard(func)

    def __torch_function__(self, func, types, args=(), kwargs=None):  # type: ignore[override]
        kwargs = kwargs or {}
        if self.expands(func, args, kwargs):
            return self.expanded(func, args, kwargs)
        result = func(*args, **kwargs)
        called = getattr(func, "__name__", "")
        made = self.recorder.record(called, args, kwargs, result, self.graph.carries_signal((args, kwargs)))
        self.branches.step(called, (args, kwargs), result)
        self.graph.record(called, (args, kwargs), result, made)
        if self.suspended:
            return result
        # ``_foo`` is torch's private spelling of ``foo``; a dunder (``__getitem__``) keeps its name.
        self.follow(called if called.startswith("__") else called.removeprefix("_"), args, kwargs, result)
        layer = self.used_by_weight((args, kwargs)) if made else None
        if layer is not None:
            self.produced(layer, (args, kwargs), result)
            if self.on_weight_use is not None:
                self.on_weight_use(layer, result)
        return result

    def follow(self, name: str, args: tuple, kwargs: dict, result: Any) -> None:
        """Carry the layer marks of ``args`` to ``result``, or settle what their layers meet."""
        if self.gates:
            self.follow_gates(name, (args, kwargs), result)
        chain = self.chain_of((args, kwargs))
        if name in knowledge.NORM_FUNCTIONS:
            self.normalised(chain)
            self.set_chain(result, {})
        elif chain:
            self.set_chain(result, chain)
        sources = [self.origin[id(t)] for t in tensors_in((args, kwargs)) if id(t) in self.origin]
        if not sources or not any(True for _ in tensors_in(result)):
            return
        name = {"max_pool2d_with_indices": "max_pool2d"}.get(name, name)
        layer, normed = sources[0]
        if name in knowledge.ACTIVATION_FUNCTIONS:
            activation = knowledge.ACTIVATION_FUNCTIONS[name]
            self.claim(layer, activation, normed, _slope(name, args, kwargs))
            self.activated(layer, activation, result)
            for item in tensors_in(result):
                self.origin.pop(id(item), None)
        elif name in knowledge.NORM_FUNCTIONS:
            self.mark(result, layer, True)
        elif name in PASSTHROUGH:
            self.mark(result, layer, normed)
        else:
            for other, other_normed in sources:
                self.claim(other, "linear", other_normed)
            for item in tensors_in(result):
                self.origin.pop(id(item), None)


def trace_activations(model: torch.nn.Module, example: Example) -> Trace:
    """Map tracked module name -> what its output meets; also the execution order and the
    parameters' roles."""
    tracked = tracked_modules(model)
    tracer = _Tracer(model, tracked.values())
    tracer.graph.add_roots((example.args, example.kwargs))
    handles = []
    for module in model.modules():
        handles.append(module.register_forward_pre_hook(_block_entered(tracer.graph), with_kwargs=True))
        handles.append(module.register_forward_hook(lambda *_: tracer.graph.leave(), always_call=True))
    handles += _running_hooks(model, tracked, tracer)
    for name, module in model.named_modules():
        if id(module) in tracked:
            handles.append(module.register_forward_hook(_layer_hook(tracer, name)))
        elif is_leaf_norm(module) or custom_activation(module) is not None:
            handles.append(module.register_forward_pre_hook(_enter(tracer)))
            handles.append(module.register_forward_hook(_leave(tracer, module)))
    try:
        with torch.no_grad(), isolated(model), tracer:
            returned = call_model(model, example)
            outputs = frozenset(tracer.graph.layers_reaching(returned))
    finally:
        for handle in handles:
            handle.remove()
    for layer in tracer.order:
        tracer.uses.setdefault(layer, LayerUse("linear", False))
    uses = {layer: dataclasses.replace(use, rescaled_within=tracer.rescaled.get(layer),
                                       gate_consumer=tracer.gate_consumers.get(layer),
                                       residual=tracer.branches.verdicts.get(layer, False),
                                       added=tracer.branches.added.get(layer, False))
            for layer, use in tracer.uses.items()}
    return Trace(uses, tracer.order, tracer.recorder.result(set(tracer.order)), outputs)


@contextlib.contextmanager
def weight_uses(model: torch.nn.Module, example: Example, record: Callable[[str, Any], None]) -> Iterator[None]:
    """Within, while ``model`` runs on ``example``: ``record(layer, output)`` for each output a
    weight layer makes through its weight outside its own forward (``F.linear(x, self.proj.weight)``,
    the projections handed to ``F.multi_head_attention_forward``), which no forward hook sees:
    what a signal probe needs to give such layers their rows. Gradients are left as they are."""
    tracked = tracked_modules(model)
    tracer = _Tracer(model, tracked.values())
    tracer.graph.add_roots((example.args, example.kwargs))  # the signal, told from parameters
    tracer.on_weight_use = record
    handles = _running_hooks(model, tracked, tracer)
    try:
        with tracer:
            yield
    finally:
        for handle in handles:
            handle.remove()


def _block_entered(graph: SignalGraph):
    def hook(module: torch.nn.Module, args: Any, kwargs: Any) -> None:
        graph.enter(args, kwargs)
    return hook


def _forget_with(tensor: torch.Tensor, table: dict) -> None:
    """Drop ``tensor``'s entry from ``table`` when it dies: its id may come back for another."""
    if id(tensor) not in table:
        weakref.finalize(tensor, table.pop, id(tensor), None)


def is_leaf_norm(module: torch.nn.Module) -> bool:
    """A normalisation layer the tracer treats as one step. A composite (timm's BatchNormAct2d,
    a norm with an activation inside) is traced through, so its activation is seen."""
    return module_kind(module) is LayerKind.NORM and not any(True for _ in module.children())


@contextlib.contextmanager
def isolated(model: torch.nn.Module) -> Iterator[None]:
    """Run in training mode without leaving traces: buffers, modes and the global RNG restored."""
    modes = {m: m.training for m in model.modules()}
    buffers = {name: b.detach().clone() for name, b in model.named_buffers()}
    with torch.random.fork_rng(devices=[]):
        model.train()
        try:
            yield
        finally:
            for module, training in modes.items():
                module.training = training
            with torch.no_grad():
                for name, buffer in model.named_buffers():
                    if name in buffers:
                        buffer.copy_(buffers[name])


def _layer_hook(tracer: _Tracer, name: str):
    def hook(module: torch.nn.Module, inputs: Any, output: Any) -> None:
        if not tracer.suspended:
            tracer.produced(name, inputs, output)
    return hook


def _running_hooks(model: torch.nn.Module, tracked: dict[int, str], tracer: _Tracer) -> list[Any]:
    """Hooks keeping ``tracer.active``: the tracked layers whose forward is running."""
    handles = []
    for name, module in model.named_modules():
        if id(module) in tracked:
            handles.append(module.register_forward_pre_hook(_running(tracer, name, 1)))
            handles.append(module.register_forward_hook(_running(tracer, name, -1), always_call=True))
    return handles


def _running(tracer: _Tracer, name: str, step: int):
    def hook(*_: Any) -> None:
        tracer.active[name] += step
    return hook


@functools.cache
def _dispatch_free(func: Any) -> Any:
    """A copy of the Python function ``func`` that runs its body instead of handing itself, whole,
    to the torch-function mode (its ``has_torch_function*`` checks answer no); None when ``func``
    has no such check to skip."""
    code = getattr(func, "__code__", None)
    checks = [name for name in getattr(code, "co_names", ()) if name.startswith("has_torch_function")]
    if code is None or not checks:
        return None
    scope = {**func.__globals__, **dict.fromkeys(checks, _never)}
    copy = types.FunctionType(code, scope, func.__name__, func.__defaults__, func.__closure__)
    copy.__kwdefaults__ = func.__kwdefaults__
    return copy


def _never(*_: Any) -> bool:
    return False


def _enter(tracer: _Tracer):
    def hook(module: torch.nn.Module, inputs: Any) -> None:
        if not tracer.suspended:
            module._initaudit_input = [tracer.origin.get(id(t)) for t in tensors_in(inputs)]
            module._initaudit_chain = tracer.chain_of(inputs)
        tracer.suspended += 1
    return hook


def _leave(tracer: _Tracer, module: torch.nn.Module):
    activation = custom_activation(module)

    def hook(module: torch.nn.Module, inputs: Any, output: Any) -> None:
        tracer.suspended -= 1
        if tracer.suspended:
            return
        origins = [o for o in getattr(module, "_initaudit_input", []) if o is not None]
        chain = getattr(module, "_initaudit_chain", {})
        for attribute in ("_initaudit_input", "_initaudit_chain"):
            if hasattr(module, attribute):
                delattr(module, attribute)
        if activation is None:
            tracer.normalised(chain)
        else:
            tracer.set_chain(output, chain)
        if not origins:
            return
        layer, normed = origins[0]
        if activation is not None:
            tracer.claim(layer, activation, normed)
            tracer.activated(layer, activation, output)
        else:
            tracer.mark(output, layer, True)
    return hook


def _slope(name: str, args: tuple, kwargs: dict) -> float | None:
    if name.startswith("leaky_relu"):
        value = kwargs.get("negative_slope", args[1] if len(args) > 1 else 0.01)
        return float(value)
    if name == "prelu" and len(args) > 1 and isinstance(args[1], torch.Tensor):
        return float(args[1].detach().float().mean())
    return None


def call_model(model: torch.nn.Module, example: Example) -> Any:
    return model(*example.args, **example.kwargs)
