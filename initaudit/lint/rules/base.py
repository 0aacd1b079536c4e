"""What a rule is: a class registered under its code, whose check asks questions of the model.

A rule's metadata (name, default severity, fix safety, summary) is its page in the rule
catalogue; ``@rule("IA1xx")`` attaches that page as ``info`` and registers the class, so adding
a rule takes one module here and one page in ``rules/``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, ClassVar, Iterable, Protocol, TypeVar

import libcst as cst

from initaudit import catalogue
from initaudit.diagnostics import Fix, Severity
from initaudit.lint.model import FileModel


@dataclass(frozen=True)
class Finding:
    node: cst.CSTNode
    message: str
    severity: Severity | None = None
    fix: Fix | None = None


class Rule(Protocol):
    info: ClassVar[catalogue.Entry]

    def check(self, model: FileModel) -> Iterable[Finding]: ...


RuleClass = TypeVar("RuleClass", bound=type)
#: Every registered rule class by code; ``initaudit.lint.rules`` fills it on import.
REGISTRY: dict[str, type] = {}


def rule(code: str) -> Callable[[RuleClass], RuleClass]:
    """Class decorator: register a static rule under ``code`` with its catalogue page as ``info``."""
    def register(cls: RuleClass) -> RuleClass:
        info = catalogue.entry(code)
        if info.scope != "check":
            raise catalogue.CatalogueError(f"{code} is an auditor rule, not a static one")
        if code in REGISTRY:
            raise catalogue.CatalogueError(f"{code} is registered twice")
        cls.info = info  # type: ignore[attr-defined]
        REGISTRY[code] = cls
        return cls
    return register
