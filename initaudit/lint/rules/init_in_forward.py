"""IA108: initialisation (or layer construction) inside forward() runs on every call."""

from __future__ import annotations

from typing import Iterator

from initaudit.diagnostics import Severity
from initaudit.lint.model.facts import InitVia, ModuleClass
from initaudit.lint.model.file_model import FileModel
from initaudit.lint.model.modules import torch_nn_class
from initaudit.lint.model.queries import forward_running
from initaudit.lint.rules.base import Finding, rule


@rule("IA108")
class InitInForward:
    def check(self, model: FileModel) -> Iterator[Finding]:
        for op in model.init_ops:
            if op.method != "forward" or op.owner is None or not op.owner.is_module:
                continue
            if op.conditions or op.via is InitVia.PARAMETER or (op.target is None and not op.made_here):
                continue  # guarded (lazy, once-only), or not a parameter (noise, buffers)
            if op.made_here:
                message = (f"{op.function} runs inside {op.owner.name}.forward() on a Parameter made there: it gets "
                           "fresh random values on every call and is not registered, so the optimizer never trains "
                           "it. Make and initialise it in __init__")
            else:
                message = (f"{op.function} runs inside {op.owner.name}.forward(): the tensor is re-initialised on "
                           "every call, erasing what training learned. Initialise in __init__ (or reset_parameters)")
            yield Finding.at(op, message)
        runners: dict[tuple[int, str], ModuleClass | None] = {}  # a method builds many layers
        for call, owner, method, guarded in model.method_layers:
            if guarded:
                continue
            key = (id(owner), method)
            if method != "forward" and key not in runners:
                runners[key] = forward_running(model, owner, method)
            if method == "forward":
                where = f"{owner.name}.forward()"
            elif (runner := runners[key]) is not None:
                where = f"{owner.name}.{method}() (which {runner.name}.forward() calls)"
            else:
                continue
            name = torch_nn_class(model.names(call.func))
            yield Finding(
                call,
                f"nn.{name} is constructed inside {where}: it gets fresh random "
                "weights on every call and is not registered, so the optimizer never trains it. "
                "Create it in __init__ and call it here",
                severity=Severity.ERROR,
            )
