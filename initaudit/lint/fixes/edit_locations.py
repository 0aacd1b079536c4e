"""A fix's character-offset edits as rows and columns, the shape editors apply (ruff's JSON)."""

from __future__ import annotations

from typing import Mapping

from initaudit.diagnostics import Diagnostic
from initaudit.lint.files.notebook import cell_row


def edit_locations(diagnostic: Diagnostic, text: str | None, boundary: str | None = None,
                   texts: Mapping[str, str] | None = None) -> list[dict[str, object]]:
    """``{content, location, end_location}`` per edit: 1-based rows and columns, end exclusive.

    ``text`` is what the offsets count in; in a notebook (its cells joined by ``boundary``
    lines) rows count within the diagnostic's cell. An edit of another file counts in that
    file's text in ``texts`` and names it (``path``); one whose text is unknown is left out.
    """
    if diagnostic.fix is None:
        return []
    cells = boundary if diagnostic.cell is not None else None
    found: list[dict[str, object]] = []
    for edit in diagnostic.fix.edits:
        counted = text if edit.path is None else (texts or {}).get(edit.path)
        if counted is None:
            continue
        location: dict[str, object] = {"content": edit.text,
                                       "location": _location(counted, edit.start, cells if edit.path is None else None),
                                       "end_location": _location(counted, edit.end, cells if edit.path is None else None)}
        if edit.path is not None:
            location["path"] = edit.path
        found.append(location)
    return found


def _location(text: str, offset: int, boundary: str | None) -> dict[str, int]:
    if boundary is not None:
        row, column = cell_row(text, offset, boundary)
    else:
        row = text.count("\n", 0, offset) + 1
        column = offset - (text.rfind("\n", 0, offset) + 1) + 1
    return {"row": row, "column": column}
