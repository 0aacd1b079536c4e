"""A fix's character-offset edits as rows and columns, the shape editors apply (ruff's JSON)."""

from __future__ import annotations

from initaudit.diagnostics import Diagnostic
from initaudit.lint.files.notebook import cell_row


def edit_locations(diagnostic: Diagnostic, text: str | None, boundary: str | None = None) -> list[dict[str, object]]:
    """``{content, location, end_location}`` per edit: 1-based rows and columns, end exclusive.

    ``text`` is what the offsets count in; in a notebook (its cells joined by ``boundary``
    lines) rows count within the diagnostic's cell.
    """
    if diagnostic.fix is None or text is None:
        return []
    cells = boundary if diagnostic.cell is not None else None
    return [{"content": edit.text,
             "location": _location(text, edit.start, cells),
             "end_location": _location(text, edit.end, cells)}
            for edit in diagnostic.fix.edits]


def _location(text: str, offset: int, boundary: str | None) -> dict[str, int]:
    if boundary is not None:
        row, column = cell_row(text, offset, boundary)
    else:
        row = text.count("\n", 0, offset) + 1
        column = offset - (text.rfind("\n", 0, offset) + 1) + 1
    return {"row": row, "column": column}
