"""Forward and backward signal through the weight layers on a random input (init-reference §6)."""

from __future__ import annotations

from typing import Any, Callable, Collection, Iterable, TypeVar

import torch

from initaudit import knowledge
from initaudit.auditor.errors import AuditError
from initaudit.auditor.identify.layers import module_kind
from initaudit.auditor.load.example import Example
from initaudit.auditor.results import SignalRow
from initaudit.auditor.trace.activations import call_model, isolated, tensors_in, tracked_modules, weight_uses
from initaudit.auditor.trace.example_inputs import has_lazy_parameters
from initaudit.knowledge import LayerKind

Result = TypeVar("Result")


def first_accepted(candidates: Iterable[Example], run: Callable[[Example], Result]) -> tuple[Example, Result]:
    """The first candidate input ``run`` completes on, and what it returned. When none does, the
    first candidate's error: the best guess's failure is the one that explains most."""
    failure: Exception | None = None
    for example in candidates:
        try:
            return example, run(example)
        except (AuditError, MemoryError):
            raise
        except Exception as error:  # the user's forward may reject a guessed input
            failure = failure or error
    raise failure or AuditError("no input to probe the model with")


def materialise_lazy(model: torch.nn.Module, candidates: Iterable[Example]) -> Example | None:
    """Give lazy modules (``nn.LazyLinear``, ``nn.LazyConv2d``...) their shapes and their init, as a
    training script's first batch would: one forward pass without gradients, in eval mode (no
    running statistics updated), the global RNG left as it was. Returns the input it took, or
    None when the model has no lazy module."""
    if not has_lazy_parameters(model):
        return None
    try:
        example, _ = first_accepted(candidates, lambda example: _dry_run(model, example))
    except (AuditError, MemoryError):
        raise
    except Exception as error:
        raise AuditError(f"the model's lazy modules take their shapes from a first forward pass, which failed "
                         f"({type(error).__name__}: {str(error)[:160]}); pass --input-shape or "
                         "--example-inputs") from None
    return example


def _dry_run(model: torch.nn.Module, example: Example) -> None:
    modes = {module: module.training for module in model.modules()}
    model.eval()
    try:
        with torch.no_grad(), torch.random.fork_rng(devices=[]):
            call_model(model, example)
    finally:
        for module, training in modes.items():
            module.training = training


def probe_signal(model: torch.nn.Module, example: Example, seed: int) -> list[SignalRow]:
    """Per weight layer: output std, across-sample std, and the norm and per-element RMS of
    dL/d(output).

    Gradients are taken with respect to the layers' outputs only: no parameter gradient is
    computed or stored, so the probe costs no memory for them and leaves any ``.grad`` the
    model already holds as it was. The inputs require gradients, so that a frozen first layer
    still gets its row, unless the model refuses that (wav2vec 2.0's feature encoder sets
    ``requires_grad`` on what it derives from them, which only a leaf allows)."""
    _, rows = first_accepted([example.fresh(), example], lambda inputs: _probe(model, inputs, seed))
    return rows


def _probe(model: torch.nn.Module, example: Example, seed: int) -> list[SignalRow]:
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
        # A layer used through its weight (F.linear(x, layer.weight)) gets its row from that use.
        with isolated(model), weight_uses(model, example, lambda layer, out: forward_hook(layer)(model, (), out)):
            torch.manual_seed(seed)
            output = next(tensors_in(call_model(model, example)), None)
            names = list(outputs)
            if output is not None and output.requires_grad and names:
                direction = torch.randn(output.shape, generator=torch.Generator().manual_seed(seed + 1),
                                        dtype=output.dtype)
                grads = torch.autograd.grad((output * direction).sum(), [outputs[n] for n in names],
                                            allow_unused=True)
                for name, grad in zip(names, grads, strict=True):
                    if grad is not None:
                        rows[name]["grad"] = float(grad.norm())
                        rows[name]["rms"] = float(grad.norm()) / max(grad.numel(), 1) ** 0.5
            outputs.clear()
    finally:
        for handle in handles:
            handle.remove()
    return [SignalRow(name, rows[name]["std"], rows[name]["sample"], rows[name].get("grad"),
                      rows[name].get("rms")) for name in order]


def signal_ratios(signal: list[SignalRow], hidden: Collection[str] = (),
                  outputs: Collection[str] = ()) -> tuple[float | None, float | None]:
    """(forward std last hidden/first, backward dL/dh norm first/last inner layer) over the
    probed layers. The forward ratio ends at the last layer of ``hidden`` (those feeding a
    nonlinearity, output layers left out) when one was probed: the scale of an output layer (a
    small or zeroed head, a detector's box regression) is the model's choice. The backward ratio
    ends at the last layer that is none of ``outputs`` (the layer before the last when none are
    given): an output layer's gradient is the probe's own random direction, not something depth
    produced.

    Each side compares what a fan-in init keeps through any layer: the forward std per element
    (whatever a layer's width or stride), the backward gradient's norm (the batch being the same
    at every layer, per example too). Per element, the gradient would fall with every pooling,
    stride or flatten that cuts the element count, and grow with every layer that widens."""
    if len(signal) < 2:
        return None, None
    first, end = signal[0], forward_end(signal, hidden)
    forward = end.forward_std / first.forward_std if first.forward_std > 0 else None
    backward = None
    last = backward_end(signal, outputs)
    if first.grad_norm is not None and last.grad_norm:
        backward = first.grad_norm / last.grad_norm
    return forward, backward


def forward_end(signal: list[SignalRow], hidden: Collection[str]) -> SignalRow:
    return next((row for row in reversed(signal[1:]) if row.module in hidden), signal[-1])


def backward_end(signal: list[SignalRow], outputs: Collection[str] = ()) -> SignalRow:
    """The last layer with a gradient that is no output layer; the layer before the last when no
    output layers are given or none is left."""
    inner = [row for row in signal[1:] if row.module not in outputs] if outputs else signal[1:-1]
    fallback = signal[-2] if len(signal) > 2 else signal[-1]
    return next((row for row in reversed(inner) if row.grad_norm), fallback)


def outside_band(ratio: float | None) -> bool:
    low, high = knowledge.SIGNAL_RATIO_BAND
    return ratio is not None and not low <= ratio <= high
