"""``initaudit.audit(model)``: the auditor as a function, for test suites and notebooks."""

from __future__ import annotations

import warnings
from typing import Any, Callable, Iterable, Sequence

from initaudit.auditor.results import AuditReport


def audit(model_or_factory: Any | Callable[[], Any], input_shape: Sequence[int] | None = None, *,
          example_inputs: Any = None, seed: int = 0, select: Iterable[str] = ("ALL",),
          ignore: Iterable[str] = ()) -> AuditReport:
    """Audit an ``nn.Module``, or what a zero-argument factory returns (a model or
    ``(model, example_inputs)``), as ``initaudit model`` audits ``package.module:factory``:
    statistics and schemes of every parameter, the activation each weight feeds, and the signal
    through depth on ``example_inputs`` (a tensor, a tuple of positional or a dict of keyword
    arguments), else a random input of ``input_shape``, else one inferred from the model. The
    model is left as it was. Only the rules that ``select`` names and ``ignore`` does not run
    (codes, prefixes or rule names, as ``--select``; one naming no rule raises ``ValueError``).
    """
    import torch

    from initaudit.auditor.load.example import as_example
    from initaudit.auditor.load.source import SourceKind, module_source
    from initaudit.auditor.pipeline import analyse, selection

    enabled = selection(select, ignore)
    model = model_or_factory
    if not isinstance(model, torch.nn.Module):
        if not callable(model):
            raise TypeError(f"expected an nn.Module or a function returning one, got {type(model).__name__}")
        model = model()
        if isinstance(model, tuple) and len(model) == 2 and isinstance(model[0], torch.nn.Module):
            model, example_inputs = model[0], model[1] if example_inputs is None else example_inputs
        if not isinstance(model, torch.nn.Module):
            raise TypeError(f"the factory returned {type(model).__name__}, not an nn.Module")
    shape = tuple(int(size) for size in input_shape) if input_shape is not None else None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        source = module_source(model, SourceKind.FACTORY, None)
        source.label = _label(model_or_factory, model)
        if example_inputs is not None:
            source.example = as_example(example_inputs, "the given example inputs")
        return analyse(source, input_shape=shape, seed=seed, enabled=enabled).report


def _label(given: Any, model: Any) -> str:
    """How the report names the model: the factory's qualified name, else the model's class."""
    if given is not model:
        return f"{getattr(given, '__module__', '?')}:{getattr(given, '__qualname__', type(given).__name__)}"
    return f"{type(model).__module__}.{type(model).__qualname__}"
