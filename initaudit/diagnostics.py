"""Diagnostic, Fix and Severity: the values every checker produces and every reporter reads."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field


class Severity(str, enum.Enum):
    ERROR = "error"
    WARNING = "warning"
    INFO = "info"

    @property
    def fails(self) -> bool:
        """Whether a finding of this severity makes the command exit 1."""
        return self is not Severity.INFO


class Applicability(str, enum.Enum):
    SAFE = "safe"  # cannot change behaviour beyond the intent: applied by --fix
    UNSAFE = "unsafe"  # changes numbers the user may rely on: needs --unsafe-fixes


@dataclass(frozen=True, order=True)
class Edit:
    """Replace source[start:end] (character offsets into the decoded text) with ``text``."""

    start: int
    end: int
    text: str
    #: The file the offsets count in, where it is not the diagnostic's own (an init helper's
    #: line, fixed for every call that applies it); named as the run names that file.
    path: str | None = None


@dataclass(frozen=True)
class Fix:
    applicability: Applicability
    message: str
    edits: tuple[Edit, ...] = ()


@dataclass(frozen=True)
class RuleFinding:
    """What every rule of both commands reports: which rule, how severe, what it found. The
    linter's :class:`Diagnostic` adds where in a file; the auditor's finding adds which
    parameter (``initaudit.auditor.results.AuditFinding``)."""

    code: str
    name: str
    severity: Severity
    message: str


@dataclass(frozen=True)
class RelatedLocation:
    """Another place a finding involves (1-based, end exclusive like the finding's own range):
    the init line of a helper written in another file and reported at the call that applies it."""

    path: str
    line: int
    column: int
    end_line: int
    end_column: int
    #: A few words saying what is there (``xavier_uniform_ here``).
    message: str

    def to_dict(self) -> dict[str, object]:
        return {"path": self.path, "line": self.line, "column": self.column, "end_line": self.end_line,
                "end_column": self.end_column, "message": self.message}


@dataclass(frozen=True, kw_only=True)
class Diagnostic(RuleFinding):
    """One finding at a 1-based (line, column) range of a file."""

    path: str
    line: int
    column: int
    end_line: int
    end_column: int
    fix: Fix | None = None
    #: Notebook cell (1-based) the position refers to; None for plain Python files.
    cell: int | None = field(default=None, compare=False)
    #: Other places the finding involves (an imported helper's init line); most have none.
    related: tuple[RelatedLocation, ...] = ()

    @property
    def sort_key(self) -> tuple[str, int, int, str]:
        return (self.path, self.line, self.column, self.code)

    def to_dict(self) -> dict[str, object]:
        """The JSON contract's diagnostic object; ``related`` only where the finding has some."""
        data: dict[str, object] = {
            "path": self.path,
            "line": self.line,
            "column": self.column,
            "end_line": self.end_line,
            "end_column": self.end_column,
            "code": self.code,
            "name": self.name,
            "severity": self.severity.value,
            "message": self.message,
            "fix": None if self.fix is None else {
                "applicability": self.fix.applicability.value,
                "message": self.fix.message,
            },
        }
        if self.related:
            data["related"] = [location.to_dict() for location in self.related]
        return data
