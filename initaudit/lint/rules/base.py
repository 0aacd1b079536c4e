"""What a rule is: metadata plus a check that asks questions of the file model."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Protocol

import libcst as cst

from initaudit.diagnostics import Fix, Severity
from initaudit.lint.model import FileModel


@dataclass(frozen=True)
class RuleInfo:
    code: str
    name: str
    severity: Severity  # default; a finding may raise or lower it
    fix: str  # none | safe | unsafe — the most a fix of this rule can be


@dataclass(frozen=True)
class Finding:
    node: cst.CSTNode
    message: str
    severity: Severity | None = None
    fix: Fix | None = None


class Rule(Protocol):
    info: RuleInfo

    def check(self, model: FileModel) -> Iterable[Finding]: ...
