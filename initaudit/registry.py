"""Rule registries: a rule class registers under its code and takes its catalogue page as ``info``.

The static rules (``initaudit check``) and the auditor's rules (``initaudit model``) each keep a
registry of this kind; the catalogue page's ``scope`` says which one a code belongs to.
"""

from __future__ import annotations

from typing import Callable, TypeVar

from initaudit import catalogue

RuleClass = TypeVar("RuleClass", bound=type)


class Registry:
    def __init__(self, scope: str) -> None:
        self.scope = scope  # "check" or "model", as in the catalogue's front matter
        self.classes: dict[str, type] = {}

    def rule(self, code: str) -> Callable[[RuleClass], RuleClass]:
        """Class decorator: register a rule under ``code`` with its catalogue page as ``info``."""
        def register(cls: RuleClass) -> RuleClass:
            info = catalogue.entry(code)
            if info.scope != self.scope:
                raise catalogue.CatalogueError(f"{code} is a rule of `initaudit {info.scope}`")
            if code in self.classes:
                raise catalogue.CatalogueError(f"{code} is registered twice")
            cls.info = info  # type: ignore[attr-defined]
            self.classes[code] = cls
            return cls
        return register

    def instances(self) -> tuple:
        """One instance of each registered rule, in code order."""
        return tuple(self.classes[code]() for code in sorted(self.classes))
