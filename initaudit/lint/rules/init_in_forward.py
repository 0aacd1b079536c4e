"""IA108: initialisation (or layer construction) inside forward() runs on every call."""

from __future__ import annotations

from typing import Iterator

from initaudit.diagnostics import Severity
from initaudit.lint.model.facts import InitVia
from initaudit.lint.model.file_model import FileModel
from initaudit.lint.model.modules import torch_nn_class
from initaudit.lint.rules.base import Finding, rule


@rule("IA108")
class InitInForward:
    def check(self, model: FileModel) -> Iterator[Finding]:
        for op in model.init_ops:
            if op.method != "forward" or op.owner is None or not op.owner.is_module:
                continue
            if op.conditions or op.via is InitVia.PARAMETER or op.target is None:
                continue  # guarded (lazy, once-only), or not a parameter (noise, buffers)
            yield Finding.at(
                op,
                f"{op.function} runs inside {op.owner.name}.forward(): the tensor is "
                "re-initialised on every call, erasing what training learned. Initialise in "
                "__init__ (or reset_parameters)",
            )
        for call, owner, guarded in model.forward_layers:
            if guarded:
                continue
            name = torch_nn_class(model.names(call.func))
            yield Finding(
                call,
                f"nn.{name} is constructed inside {owner.name}.forward(): it gets fresh random "
                "weights on every call and is not registered, so the optimizer never trains it. "
                "Create it in __init__ and call it here",
                severity=Severity.ERROR,
            )
