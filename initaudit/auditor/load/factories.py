"""``package.module:function``: the one way the auditor imports code, for ``--factory`` and
``--example-inputs``. Any failure of the user's code is one line (an :class:`AuditError`)."""

from __future__ import annotations

import importlib
import os
import sys
from typing import Any, Callable

import torch

from initaudit.auditor.errors import AuditError
from initaudit.auditor.load.example import Example, as_example
from initaudit.auditor.load.preflight import refuse_malformed


def call_factory(spec: str, function: Callable[[], object] | None = None) -> tuple[torch.nn.Module, Example | None]:
    """Import ``package.module:function`` the way ``python -m`` would and call it: it returns a
    model, or ``(model, example_inputs)``."""
    built = call_function(spec, function)
    example = None
    if isinstance(built, tuple) and len(built) == 2 and isinstance(built[0], torch.nn.Module):
        built, example = built[0], as_example(built[1], f"inputs from {spec}")
    if not isinstance(built, torch.nn.Module):
        raise AuditError(f"{spec}() returned {type(built).__name__}, not a torch.nn.Module")
    return built, example


def inputs_from(spec: str) -> Example:
    """``--example-inputs package.module:function``: the forward probe's inputs."""
    return as_example(call_function(spec), f"inputs from {spec}")


def call_function(spec: str, function: Callable[[], object] | None = None) -> Any:
    """Call ``package.module:function`` (imported unless given) and return its result."""
    function = function or factory_function(spec)
    try:
        return function()
    except (Exception, SystemExit) as error:  # KeyboardInterrupt still interrupts
        raise AuditError(f"{spec}() failed: {_described(error)}") from None


def factory_function(spec: str) -> Callable[[], object]:
    """The function ``package.module:function`` names, imported the way ``python -m`` would."""
    refuse_malformed(spec)
    module_name, function_name = spec.split(":")
    if os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())
    try:
        module = importlib.import_module(module_name)
    except (Exception, SystemExit) as error:  # any import-time failure of user code is a usage error
        raise AuditError(f"cannot import {module_name}: {_described(error)}") from None
    function = getattr(module, function_name, None)
    if not callable(function):
        raise AuditError(f"{module_name} has no callable {function_name}")
    return function


def _described(error: BaseException) -> str:
    if isinstance(error, SystemExit):
        return f"it called sys.exit({error.code!r})"
    return f"{type(error).__name__}: {error}"
