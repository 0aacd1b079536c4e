"""What a check run found, in the shape every reporter reads, and its JSON form (the contract
other tools parse)."""

from __future__ import annotations

from dataclasses import dataclass, field

from initaudit.diagnostics import Applicability, Diagnostic, Severity
from initaudit.lint.files.notebook import StoredLines
from initaudit.lint.fixes.edit_locations import edit_locations


@dataclass
class Summary:
    diagnostics: list[Diagnostic]
    files: int
    parsed: int
    skipped: int
    #: Source lines of files with diagnostics, for snippets.
    lines: dict[str, list[str]] = field(default_factory=dict)
    #: The same for notebooks, per (path, cell number).
    cell_lines: dict[tuple[str, int], list[str]] = field(default_factory=dict)
    fixed: int = 0
    #: The text that the offsets of a file's fix edits count in: the file's source, or for a
    #: notebook the joined text of its code cells.
    texts: dict[str, str] = field(default_factory=dict)
    #: Each notebook file with diagnostics as stored on disk (its JSON text).
    notebook_files: dict[str, str] = field(default_factory=dict)
    #: The line joining a notebook's cells in its text (see ``lint/files/notebook.py``).
    boundaries: dict[str, str] = field(default_factory=dict)
    _stored: dict[str, StoredLines] = field(default_factory=dict, repr=False, compare=False)

    def source_lines(self, diagnostic: Diagnostic) -> list[str]:
        """The lines ``diagnostic.line`` counts in: its file's, or its notebook cell's."""
        if diagnostic.cell is None:
            return self.lines.get(diagnostic.path, [])
        return self.cell_lines.get((diagnostic.path, diagnostic.cell), [])

    def file_line(self, diagnostic: Diagnostic) -> int | None:
        """For a notebook's diagnostic, the line of the ``.ipynb`` file that stores its source
        line (None where it cannot be found); for a Python file, its line."""
        if diagnostic.cell is None:
            return diagnostic.line
        if diagnostic.path not in self._stored:
            self._stored[diagnostic.path] = StoredLines(self.notebook_files.get(diagnostic.path, ""))
        return self._stored[diagnostic.path].line(diagnostic.cell, diagnostic.line)

    def count(self, severity: Severity) -> int:
        return sum(1 for d in self.diagnostics if d.severity is severity)

    def counts(self) -> dict[str, int]:
        """files: files checked; parsed: those that parsed; skipped: those that could not be
        checked (unreadable, internal error); errors, warnings, info: findings of that severity;
        diagnostics: all findings."""
        return {"files": self.files, "parsed": self.parsed, "skipped": self.skipped,
                "errors": self.count(Severity.ERROR), "warnings": self.count(Severity.WARNING),
                "info": self.count(Severity.INFO), "diagnostics": len(self.diagnostics)}

    def fixable(self, applicability: Applicability) -> int:
        return sum(1 for d in self.diagnostics if d.fix is not None and d.fix.edits
                   and d.fix.applicability is applicability)

    def to_dict(self) -> dict[str, object]:
        """The object ``--output-format json`` prints."""
        return {"version": 1, "diagnostics": [self.diagnostic_dict(d) for d in self.diagnostics],
                "summary": self.counts()}

    def diagnostic_dict(self, diagnostic: Diagnostic) -> dict[str, object]:
        """The contract's diagnostic object, with ``fix.edits`` and a notebook's ``cell``."""
        data = diagnostic.to_dict()
        if isinstance(data["fix"], dict):
            data["fix"] = {**data["fix"], "edits": edit_locations(diagnostic, self.texts.get(diagnostic.path),
                                                                  self.boundaries.get(diagnostic.path), self.texts)}
        if diagnostic.cell is not None:
            data["cell"] = diagnostic.cell
        return data
