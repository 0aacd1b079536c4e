"""What a rule is: a class registered under its code, whose check asks questions of the model.

A rule's metadata (name, default severity, fix safety, summary) is its page in the rule
catalogue; ``@rule("IA1xx")`` attaches that page as ``info`` and registers the class, so adding
a rule takes one module here and one page in ``rules/``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, Iterable, Protocol

import libcst as cst

from initaudit import catalogue
from initaudit.diagnostics import Fix, Severity
from initaudit.lint.model.facts import InitOp
from initaudit.lint.model.file_model import FileModel
from initaudit.registry import Registry


@dataclass(frozen=True)
class Finding:
    node: cst.CSTNode
    message: str
    severity: Severity | None = None
    fix: Fix | None = None
    #: Other places the finding involves, each with a few words: the engine reports those
    #: written in another project file as the diagnostic's related locations.
    related: tuple[tuple[cst.CSTNode, str], ...] = ()

    @classmethod
    def at(cls, op: InitOp, message: str, severity: Severity | None = None, fix: Fix | None = None) -> Finding:
        """A finding at ``op``, with the init as written related where ``op`` runs it from a
        call (another file's helper applied here)."""
        return cls(op.node, message, severity, fix, written_here(op))


@dataclass(frozen=True)
class Applied:
    """Not a finding: one application of an init operation (``op``, as a call or a construction
    runs it, or where it is written) and what the rule's fix would write at the operation as
    written for this application alone: ``replacement``, or None where it would leave it as
    written (it suits this application, or no one rewrite does). An operation written in one
    file and applied from others gets a fix only where all its applications agree, which only
    the whole run sees (``lint/run/shared_fixes.py``)."""

    op: InitOp
    replacement: str | None


def written_here(op: InitOp, what: str | None = None) -> tuple[tuple[cst.CSTNode, str], ...]:
    """The init as written, for a finding reported at a call that runs it: ``xavier_uniform_ here``."""
    return () if op.written is None else ((op.written, what or f"{op.function} here"),)


class Rule(Protocol):
    info: ClassVar[catalogue.Entry]

    def check(self, model: FileModel) -> Iterable[Finding | Applied]: ...


#: Every static rule class by code; ``initaudit.lint.rules`` fills it on import.
REGISTRY = Registry("check")
rule = REGISTRY.rule
