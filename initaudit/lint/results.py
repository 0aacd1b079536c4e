"""What checking one file gives, kept free of the parser so that cached runs stay light."""

from __future__ import annotations

from dataclasses import dataclass, field

from initaudit.diagnostics import Diagnostic
from initaudit.lint.notebook import NOTEBOOK_SUFFIX, Notebook, read_notebook
from initaudit.lint.source import SourceError, SourceText, decode


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


def read_source(path: str, data: bytes) -> SourceText | Notebook:
    """The text to check: decoded source, or a notebook's joined code cells."""
    return read_notebook(data) if path.endswith(NOTEBOOK_SUFFIX) else decode(data)


def cached_result(path: str, data: bytes, diagnostics: list[Diagnostic], parsed: bool) -> FileResult:
    """A result taken from the cache; the source is only decoded when a reporter needs lines."""
    result = FileResult(path, diagnostics, parsed)
    if diagnostics:
        try:
            result.source = read_source(path, data)
        except SourceError:
            pass  # an IA000 entry: there are no lines to show
    return result
