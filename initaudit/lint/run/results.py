"""What checking one file gives, kept free of the parser so that cached runs stay light."""

from __future__ import annotations

from dataclasses import dataclass, field

from initaudit.diagnostics import Diagnostic
from initaudit.lint.files.languages import Extensions
from initaudit.lint.files.notebook import Notebook
from initaudit.lint.files.reader import read_source
from initaudit.lint.files.source import SourceError, SourceText


@dataclass(frozen=True)
class InitUse:
    """One application of an init operation written at a place of a project file (a helper's
    init line, run at an ``apply`` or a call, in that file or another): what a rule's fix would
    write there for this application alone. The runner offers a fix at that place only where
    every application it saw wants the same ``replacement``."""

    code: str
    #: The absolute path of the file the operation is written in.
    file: str
    #: The operation's place there: 1-based lines, 0-based columns (end exclusive).
    line: int
    column: int
    end_line: int
    end_column: int
    #: The operation's text as the analysis read it, checked again before anything is written.
    original: str
    #: The text the rule's fix would put there; None where it would leave the operation as
    #: written (it suits this application, or no one rewrite does).
    replacement: str | None

    @property
    def place(self) -> tuple[str, str, int, int, int, int]:
        return (self.code, self.file, self.line, self.column, self.end_line, self.end_column)


@dataclass
class FileResult:
    path: str
    diagnostics: list[Diagnostic] = field(default_factory=list)
    parsed: bool = False
    #: One line explaining why the file could not be checked (unreadable, internal error).
    error: str | None = None
    source: SourceText | Notebook | None = None
    #: Text after fixes, when fixing was asked for and changed something.
    fixed_text: str | None = None
    fixes_applied: int = 0
    #: With fixes: the diagnostics of the file as read (reported if the fixes cannot be written).
    unfixed_diagnostics: list[Diagnostic] = field(default_factory=list)
    #: With fixes: SHA-256 of the bytes read, to refuse writing over a file changed since.
    read_digest: str = ""
    #: Other project files the analysis read (imports), with the SHA-256 of their bytes.
    reads: dict[str, str] = field(default_factory=dict)
    #: A document's Python blocks left out, as (line, why): said, not reported as findings.
    notes: list[tuple[int, str]] = field(default_factory=list)
    #: The applications of init operations written at a place of a project file that the
    #: analysis of the text as read judged (``lint/run/runner.py`` merges them per place).
    uses: list[InitUse] = field(default_factory=list)


def cached_result(path: str, data: bytes, diagnostics: list[Diagnostic], parsed: bool,
                  extensions: Extensions = (), uses: list[InitUse] | None = None) -> FileResult:
    """A result taken from the cache; the source is only decoded when a reporter needs lines."""
    result = FileResult(path, diagnostics, parsed, uses=list(uses or ()))
    if diagnostics:
        try:
            result.source = read_source(path, data, extensions)
        except SourceError:
            pass  # an IA000 entry: there are no lines to show
    return result
