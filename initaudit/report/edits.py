"""A fix's character-offset edits as rows and columns, the shape editors apply (ruff's JSON)."""

from __future__ import annotations

from initaudit.diagnostics import Diagnostic
from initaudit.lint.notebook import cell_row


def edit_locations(diagnostic: Diagnostic, text: str | None) -> list[dict[str, object]]:
    """``{content, location, end_location}`` per edit: 1-based rows and columns, end exclusive.

    ``text`` is what the offsets count in; in a notebook rows count within the diagnostic's cell.
    """
    if diagnostic.fix is None or text is None:
        return []
    in_cell = diagnostic.cell is not None
    return [{"content": edit.text,
             "location": _location(text, edit.start, in_cell),
             "end_location": _location(text, edit.end, in_cell)}
            for edit in diagnostic.fix.edits]


def _location(text: str, offset: int, in_cell: bool) -> dict[str, int]:
    if in_cell:
        row, column = cell_row(text, offset)
    else:
        row = text.count("\n", 0, offset) + 1
        column = offset - (text.rfind("\n", 0, offset) + 1) + 1
    return {"row": row, "column": column}
