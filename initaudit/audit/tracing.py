"""Which activation each layer's output meets first (init-reference §6).

One forward pass under a ``TorchFunctionMode`` that sees every functional call (``F.relu``,
``torch.tanh``, ``x.relu()``...), interleaved with module hooks that mark the tensors each
weight layer produces. Shape-only calls keep the mark, normalisations keep it and note the
norm, an activation claims it, anything else (another layer, an addition) makes it "linear".
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass
from typing import Any, Iterator

import torch
from torch.overrides import TorchFunctionMode

from initaudit import knowledge
from initaudit.knowledge import LayerKind
from initaudit.audit.layers import custom_activation, module_kind

TRACKED_KINDS = knowledge.WEIGHT_MATRIX_KINDS | {LayerKind.EMBEDDING}
PASSTHROUGH = (knowledge.PASSTHROUGH_FUNCTIONS | knowledge.PASSTHROUGH_METHODS
                | knowledge.TRACE_PASSTHROUGH)


@dataclass(frozen=True)
class LayerUse:
    activation: str  # an ACTIVATIONS name, "linear" when none follows
    norm_between: bool
    slope: float | None = None
    #: For "linear": the call that consumed the output ("add" for a residual branch), or None
    #: when nothing did (the model's output).
    consumer: str | None = None


def tracked_modules(model: torch.nn.Module) -> dict[int, str]:
    """id(module) -> name for every module that owns a weight matrix of its own."""
    tracked: dict[int, str] = {}
    for name, module in model.named_modules():
        kind = module_kind(module)
        owns_matrix = any(p.dim() >= 2 for p in module.parameters(recurse=False))
        if kind in TRACKED_KINDS or (owns_matrix and kind not in (LayerKind.NORM, LayerKind.ACTIVATION)):
            tracked[id(module)] = name
    return tracked


class _Tracer(TorchFunctionMode):
    def __init__(self) -> None:
        super().__init__()
        self.origin: dict[int, tuple[str, bool]] = {}
        self.uses: dict[str, LayerUse] = {}
        self.order: list[str] = []
        self.suspended = 0

    def mark(self, tensor: Any, layer: str, normed: bool) -> None:
        for item in tensors_in(tensor):
            if id(item) not in self.origin:  # an id freed with its tensor may come back: forget it then
                weakref.finalize(item, self.origin.pop, id(item), None)
            self.origin[id(item)] = (layer, normed)

    def claim(self, layer: str, activation: str, normed: bool, slope: float | None = None,
              consumer: str | None = None) -> None:
        self.uses.setdefault(layer, LayerUse(activation, normed, slope, consumer))

    def __torch_function__(self, func, types, args=(), kwargs=None):  # type: ignore[override]
        kwargs = kwargs or {}
        result = func(*args, **kwargs)
        if self.suspended:
            return result
        sources = [self.origin[id(t)] for t in tensors_in((args, kwargs)) if id(t) in self.origin]
        if not sources or not any(True for _ in tensors_in(result)):
            return result
        name = getattr(func, "__name__", "").removeprefix("_")
        name = {"max_pool2d_with_indices": "max_pool2d"}.get(name, name)
        layer, normed = sources[0]
        if name in knowledge.ACTIVATION_FUNCTIONS:
            self.claim(layer, knowledge.ACTIVATION_FUNCTIONS[name], normed, _slope(name, args, kwargs))
            for item in tensors_in(result):
                self.origin.pop(id(item), None)
        elif name in knowledge.NORM_FUNCTIONS:
            self.mark(result, layer, True)
        elif name in PASSTHROUGH:
            self.mark(result, layer, normed)
        else:
            for other, other_normed in sources:
                self.claim(other, "linear", other_normed, consumer=name)
            for item in tensors_in(result):
                self.origin.pop(id(item), None)
        return result


def trace_activations(model: torch.nn.Module, example: Any) -> tuple[dict[str, LayerUse], list[str]]:
    """Map tracked module name -> what its output meets; also the execution order."""
    tracked = tracked_modules(model)
    tracer = _Tracer()
    handles = []
    for name, module in model.named_modules():
        if id(module) in tracked:
            handles.append(module.register_forward_hook(_layer_hook(tracer, name)))
        elif module_kind(module) is LayerKind.NORM or custom_activation(module) is not None:
            handles.append(module.register_forward_pre_hook(_enter(tracer)))
            handles.append(module.register_forward_hook(_leave(tracer, module)))
    try:
        with torch.no_grad(), tracer:
            call_model(model, example)
    finally:
        for handle in handles:
            handle.remove()
    for layer in tracer.order:
        tracer.uses.setdefault(layer, LayerUse("linear", False))
    return tracer.uses, tracer.order


def _layer_hook(tracer: _Tracer, name: str):
    def hook(module: torch.nn.Module, inputs: Any, output: Any) -> None:
        if tracer.suspended:
            return
        if name not in tracer.order:
            tracer.order.append(name)
        first = next(tensors_in(output), None)
        if first is not None:
            tracer.mark(first, name, False)
    return hook


def _enter(tracer: _Tracer):
    def hook(module: torch.nn.Module, inputs: Any) -> None:
        if not tracer.suspended:
            module._initaudit_input = [tracer.origin.get(id(t)) for t in tensors_in(inputs)]
        tracer.suspended += 1
    return hook


def _leave(tracer: _Tracer, module: torch.nn.Module):
    activation = custom_activation(module)

    def hook(module: torch.nn.Module, inputs: Any, output: Any) -> None:
        tracer.suspended -= 1
        if tracer.suspended:
            return
        origins = [o for o in getattr(module, "_initaudit_input", []) if o is not None]
        if hasattr(module, "_initaudit_input"):
            del module._initaudit_input
        if not origins:
            return
        layer, normed = origins[0]
        if activation is not None:
            tracer.claim(layer, activation, normed)
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


def tensors_in(value: Any) -> Iterator[torch.Tensor]:
    if isinstance(value, torch.Tensor):
        yield value
    elif isinstance(value, (list, tuple)):
        for item in value:
            yield from tensors_in(item)
    elif isinstance(value, dict):
        for item in value.values():
            yield from tensors_in(item)


def call_model(model: torch.nn.Module, example: Any) -> Any:
    if isinstance(example, dict):
        return model(**example)
    if isinstance(example, tuple):
        return model(*example)
    return model(example)
