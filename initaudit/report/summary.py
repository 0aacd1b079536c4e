"""What a check run found, in the shape every reporter reads."""

from __future__ import annotations

from dataclasses import dataclass, field

from initaudit.diagnostics import Applicability, Diagnostic


@dataclass
class Summary:
    diagnostics: list[Diagnostic]
    files: int
    parsed: int
    skipped: int
    errors: int
    #: Source lines of files with diagnostics, for snippets.
    lines: dict[str, list[str]] = field(default_factory=dict)
    #: The same for notebooks, per (path, cell number).
    cell_lines: dict[tuple[str, int], list[str]] = field(default_factory=dict)
    fixed: int = 0

    def source_lines(self, diagnostic: Diagnostic) -> list[str]:
        """The lines ``diagnostic.line`` counts in: its file's, or its notebook cell's."""
        if diagnostic.cell is None:
            return self.lines.get(diagnostic.path, [])
        return self.cell_lines.get((diagnostic.path, diagnostic.cell), [])

    def counts(self) -> dict[str, int]:
        return {"files": self.files, "parsed": self.parsed, "skipped": self.skipped,
                "errors": self.errors, "diagnostics": len(self.diagnostics)}

    def fixable(self, applicability: Applicability) -> int:
        return sum(1 for d in self.diagnostics if d.fix is not None and d.fix.edits
                   and d.fix.applicability is applicability)
