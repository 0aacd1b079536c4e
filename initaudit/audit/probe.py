"""Forward and backward signal through the weight layers on a random input (init-reference §6)."""

from __future__ import annotations

import contextlib
from typing import Any, Iterator

import torch

from initaudit import knowledge
from initaudit.knowledge import LayerKind
from initaudit.audit.errors import AuditError
from initaudit.audit.layers import class_name, module_kind
from initaudit.audit.results import SignalRow
from initaudit.audit.tracing import call_model, tensors_in, tracked_modules

CONV_SIDE = {1: 64, 2: 32, 3: 8}
CONV_BATCH = 8
DENSE_BATCH = 64
SEQUENCE = 16


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


def example_input(model: torch.nn.Module, shape: tuple[int, ...] | None, seed: int) -> Any:
    """A small random input: ``shape`` if given, else inferred from the first layer."""
    generator = torch.Generator().manual_seed(seed)
    first = next((m for m in model.modules()
                  if any(True for _ in m.parameters(recurse=False))), None)
    if first is None:
        raise AuditError("the model has no parameters to probe")
    dtype = next(first.parameters()).dtype
    if isinstance(first, (torch.nn.Embedding, torch.nn.EmbeddingBag)):
        size = shape or (DENSE_BATCH // 4, SEQUENCE)
        return torch.randint(first.num_embeddings, size, generator=generator)
    if shape is not None:
        return torch.randn(shape, generator=generator, dtype=dtype)
    name = class_name(first)
    if isinstance(first, torch.nn.Linear) or name in ("Linear", "LazyLinear"):
        return torch.randn(DENSE_BATCH, first.in_features, generator=generator, dtype=dtype)
    if isinstance(first, torch.nn.modules.conv._ConvNd):
        dims = len(first.kernel_size)
        size = (CONV_BATCH, first.in_channels, *([CONV_SIDE[dims]] * dims))
        return torch.randn(size, generator=generator, dtype=dtype)
    if isinstance(first, torch.nn.RNNBase):
        batch, steps = DENSE_BATCH // 4, SEQUENCE
        size = (batch, steps, first.input_size) if first.batch_first else (steps, batch, first.input_size)
        return torch.randn(size, generator=generator, dtype=dtype)
    raise AuditError(f"cannot infer an input for a model starting with {name}; pass --input-shape")


def probe_signal(model: torch.nn.Module, example: Any, seed: int) -> list[SignalRow]:
    """Per weight layer: output std, across-sample std, and the norm of dL/d(output).

    Gradients are taken with respect to the layers' outputs only: no parameter gradient is
    computed or stored, so the probe costs no memory for them and leaves any ``.grad`` the
    model already holds as it was."""
    tracked = tracked_modules(model)
    rows: dict[str, dict[str, float]] = {}
    order: list[str] = []
    outputs: dict[str, torch.Tensor] = {}
    handles = []

    def forward_hook(name: str):
        def hook(module: torch.nn.Module, inputs: Any, output: Any) -> None:
            out = next(tensors_in(output), None)
            if out is None or name in rows or not out.is_floating_point():
                return
            order.append(name)
            value = out.detach().float()
            across = value.std(dim=0).mean() if value.dim() > 1 and value.shape[0] > 1 else value.std()
            rows[name] = {"std": float(value.std()), "sample": float(across)}
            if out.requires_grad:
                outputs[name] = out
        return hook

    for name, module in model.named_modules():
        if id(module) in tracked and module_kind(module) is not LayerKind.EMBEDDING:
            handles.append(module.register_forward_hook(forward_hook(name)))
    try:
        with isolated(model):
            torch.manual_seed(seed)
            inputs = example.clone()
            if inputs.is_floating_point():
                inputs.requires_grad_(True)
            output = next(tensors_in(call_model(model, inputs)), None)
            names = list(outputs)
            if output is not None and output.requires_grad and names:
                direction = torch.randn(output.shape, generator=torch.Generator().manual_seed(seed + 1),
                                        dtype=output.dtype)
                grads = torch.autograd.grad((output * direction).sum(), [outputs[n] for n in names],
                                            allow_unused=True)
                for name, grad in zip(names, grads, strict=True):
                    if grad is not None:
                        rows[name]["grad"] = float(grad.norm())
            outputs.clear()
    finally:
        for handle in handles:
            handle.remove()
    return [SignalRow(name, rows[name]["std"], rows[name]["sample"], rows[name].get("grad"))
            for name in order]


def signal_ratios(signal: list[SignalRow]) -> tuple[float | None, float | None]:
    """(forward std last/first, backward dL/dh norm first/last) over the probed layers."""
    if len(signal) < 2:
        return None, None
    first, last = signal[0], signal[-1]
    forward = last.forward_std / first.forward_std if first.forward_std > 0 else None
    backward = None
    if first.grad_norm is not None and last.grad_norm:
        backward = first.grad_norm / last.grad_norm
    return forward, backward


def outside_band(ratio: float | None) -> bool:
    low, high = knowledge.SIGNAL_RATIO_BAND
    return ratio is not None and not low <= ratio <= high
