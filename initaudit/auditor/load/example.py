"""The arguments of one forward call: what the user gave (``--example-inputs``, a factory's
``(model, inputs)``), or what the trace stage infers, with the words that say how they were chosen."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import torch

from initaudit.auditor.errors import AuditError


@dataclass
class Example:
    """Positional and keyword arguments of one forward call, and how they were chosen."""

    args: tuple[Any, ...] = ()
    kwargs: dict[str, Any] = field(default_factory=dict)
    origin: str = "inferred"

    def describe(self) -> str:
        parts = [_shape_text(value) for value in self.args]
        parts += [f"{key}={_shape_text(value)}" for key, value in self.kwargs.items()]
        return f"{self.origin} ({', '.join(parts)})"

    def fresh(self) -> Example:
        """A copy whose floating-point tensors are new leaves that require gradients."""
        return Example(tuple(_fresh(v) for v in self.args), {k: _fresh(v) for k, v in self.kwargs.items()},
                       self.origin)


def as_example(value: Any, origin: str) -> Example:
    """Inputs a user supplied: a tensor, a tuple or list of positional arguments, a dict of
    keyword arguments, or an :class:`Example`."""
    if isinstance(value, Example):
        return value
    if isinstance(value, torch.Tensor):
        return Example((value,), origin=origin)
    if isinstance(value, tuple):
        return Example(value, origin=origin)
    if isinstance(value, list):
        return Example((value,), origin=origin)
    if isinstance(value, dict):
        return Example(kwargs=dict(value), origin=origin)
    raise AuditError(f"example inputs must be a tensor, tuple, list or dict, got {type(value).__name__}")


def _fresh(value: Any) -> Any:
    if isinstance(value, torch.Tensor):
        copy = value.detach().clone()
        return copy.requires_grad_(True) if copy.is_floating_point() else copy
    if isinstance(value, (list, tuple)):
        return type(value)(_fresh(item) for item in value)
    if isinstance(value, dict):
        return {key: _fresh(item) for key, item in value.items()}
    return value


def _shape_text(value: Any) -> str:
    if isinstance(value, torch.Tensor):
        return "x".join(str(size) for size in value.shape) or "scalar"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_shape_text(item) for item in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{key}: {_shape_text(item)}" for key, item in value.items()) + "}"
    return type(value).__name__
