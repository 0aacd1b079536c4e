"""The auditor's rules: every module of this package is imported, and each class it decorates
with ``@rule(code)`` joins the registry. ``RULES`` holds one instance of each, in code order."""

from __future__ import annotations

import importlib
import pkgutil
from typing import Callable

from initaudit import catalogue
from initaudit.auditor.results import AuditFinding
from initaudit.auditor.rules.base import REGISTRY, AuditRule, ModelFacts, weights_of

for _module in pkgutil.iter_modules(__path__):
    importlib.import_module(f"{__name__}.{_module.name}")

RULES: tuple[AuditRule, ...] = REGISTRY.instances()


def check(facts: ModelFacts, enabled: Callable[[str], bool] | None = None) -> list[AuditFinding]:
    """The findings of every rule whose code is ``enabled`` (all when None), in code order."""
    return [found for rule in RULES if enabled is None or enabled(rule.info.code) for found in rule.check(facts)]


__all__ = ["RULES", "AuditFinding", "AuditRule", "ModelFacts", "catalogue", "check", "weights_of"]
