"""The auditor's rules: every module of this package is imported, and each class it decorates
with ``@rule(code)`` joins the registry. ``RULES`` holds one instance of each, in code order."""

from __future__ import annotations

import importlib
import pkgutil

from initaudit import catalogue
from initaudit.auditor.rules.base import REGISTRY, AuditRule, ModelFacts, weights_of

for _module in pkgutil.iter_modules(__path__):
    importlib.import_module(f"{__name__}.{_module.name}")

RULES: tuple[AuditRule, ...] = REGISTRY.instances()
#: Codes whose parameters ``--fix`` re-initialises: the rules whose page offers a fix.
FIXABLE = frozenset(rule.info.code for rule in RULES if rule.info.fix != "none")


def check(facts: ModelFacts) -> list:
    """Every rule's findings, in code order."""
    return [found for rule in RULES for found in rule.check(facts)]


__all__ = ["FIXABLE", "RULES", "AuditRule", "ModelFacts", "catalogue", "check", "weights_of"]
