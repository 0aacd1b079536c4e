"""The static rules: every module of this package is imported, and each class it decorates
with ``@rule(code)`` joins the registry. ``RULES`` holds one instance of each, in code order."""

from __future__ import annotations

import importlib
import pkgutil

from initaudit.lint.rules.base import REGISTRY, Finding, Rule, rule

for _module in pkgutil.iter_modules(__path__):
    importlib.import_module(f"{__name__}.{_module.name}")

RULES: tuple[Rule, ...] = REGISTRY.instances()
SYNTAX_ERROR: Rule = next(r for r in RULES if r.info.code == "IA000")
UNUSED_NOQA: Rule = next(r for r in RULES if r.info.code == "IA100")
#: The codes a ``# noqa`` in source can name.
KNOWN_CODES = frozenset(r.info.code for r in RULES)

__all__ = ["Finding", "KNOWN_CODES", "RULES", "Rule", "SYNTAX_ERROR", "UNUSED_NOQA", "rule"]
