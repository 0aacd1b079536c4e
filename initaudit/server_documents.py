"""The documents ``initaudit server`` was sent, and its findings at the positions a client counts.

A Python file is a :class:`TextDocument`. A notebook is a :class:`NotebookDocument` (LSP 3.17):
its cells are text documents of their own, and it is checked as ``initaudit check`` checks an
``.ipynb`` file, as one module (:mod:`initaudit.lint.files.notebook` joins its Python code cells, IPython
magics neutralised); each finding is then published on its cell's document, at the cell's own
line, and a fix is offered when each of its edits falls inside one cell.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence

from lsprotocol import types
from pygls.uris import to_fs_path

from initaudit.catalogue import entries
from initaudit.diagnostics import Diagnostic, Fix, Severity
from initaudit.lint.files.notebook import NOTEBOOK_SUFFIX, Notebook, cell_row, read_notebook
from initaudit.lint.files.source import SourceError
from initaudit.server_lint import Linted, Source
from initaudit.server_text import Buffer

SOURCE = "initaudit"
_SEVERITY = {Severity.ERROR: types.DiagnosticSeverity.Error, Severity.WARNING: types.DiagnosticSeverity.Warning,
             Severity.INFO: types.DiagnosticSeverity.Information}
#: The client's text edits, per document URI.
Edits = dict[str, list[types.TextEdit]]
log = logging.getLogger(__name__)


class TextDocument:
    def __init__(self, item: types.TextDocumentItem, encoding: str) -> None:
        self.uri, self.path = item.uri, to_fs_path(item.uri) or item.uri
        self.buffer = Buffer(item.text, item.version, encoding)
        self.revision = 0  # one more for each change to what is checked

    def buffers(self) -> dict[str, Buffer]:
        return {self.uri: self.buffer}

    def source(self) -> Source:
        # A notebook file opened as text is its JSON: its cells come as a notebook document.
        return Source(self.path, "" if self.path.endswith(NOTEBOOK_SUFFIX) else self.buffer.text)

    def located(self, linted: Linted) -> list[tuple[str, Diagnostic]]:
        """Each finding with the document it is in (its line and column counted there)."""
        return [(self.uri, finding) for finding in linted.diagnostics]

    def edits(self, linted: Linted, fix: Fix) -> Edits | None:
        return {self.uri: [edit(self.buffer, change.start, change.end, change.text) for change in fix.edits]}

    def replacements(self, linted: Linted, fixed: str) -> Edits:
        """The edits that make the checked text ``fixed`` (none: nothing to offer)."""
        return {self.uri: [replacement(self.buffer, fixed)]} if fixed != self.buffer.text else {}


class NotebookDocument:
    def __init__(self, notebook: types.NotebookDocument, cells: Sequence[types.TextDocumentItem],
                 encoding: str) -> None:
        self.uri, self.path = notebook.uri, to_fs_path(notebook.uri) or notebook.uri
        self.encoding, self.revision = encoding, 0
        self.cells = list(notebook.cells)
        self._buffers: dict[str, Buffer] = {}
        self._python: set[str] = set()  # the cells whose text is Python
        self.open_cells(cells)

    def buffers(self) -> dict[str, Buffer]:
        """The cells' documents, in the notebook's order."""
        return {cell.document: self._buffers[cell.document] for cell in self.cells if cell.document in self._buffers}

    def open_cells(self, items: Sequence[types.TextDocumentItem]) -> None:
        for item in items:
            self._buffers[item.uri] = Buffer(item.text, item.version, self.encoding)
            self._python.discard(item.uri)
            if item.language_id == "python":
                self._python.add(item.uri)

    def change(self, params: types.DidChangeNotebookDocumentParams) -> list[str]:
        """Apply a change; the cells it removed."""
        changes = params.change.cells
        if changes is None:
            return []
        closed: list[str] = []
        if changes.structure is not None:
            array = changes.structure.array
            self.cells[array.start:array.start + array.delete_count] = array.cells or []
            self.open_cells(changes.structure.did_open or [])
            closed = [cell.uri for cell in changes.structure.did_close or []]
            for uri in closed:
                self._buffers.pop(uri, None)
        described = {cell.document: cell for cell in changes.data or []}  # a new kind or metadata
        self.cells = [described.get(cell.document, cell) for cell in self.cells]
        for content in changes.text_content or []:
            buffer = self._buffers.get(content.document.uri)
            if buffer is None:
                log.warning("initaudit server: a change to cell %s, which is not open, ignored", content.document.uri)
                continue
            for change in content.changes:
                buffer.change(change)
            buffer.version = content.document.version
        return closed

    def source(self) -> Source:
        cells: list[dict[str, object]] = [
            {"cell_type": "code" if self._is_python(cell) else "markdown", "metadata": {},
             "source": self._buffers[cell.document].text if cell.document in self._buffers else ""}
            for cell in self.cells]
        document = {"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": cells}
        try:
            notebook = read_notebook(json.dumps(document).encode())
        except SourceError as error:  # a cell that holds no text (a lone surrogate)
            log.error("initaudit: cannot check %s: %s", self.uri, error)
            return Source(self.path, "")
        return Source(self.path, notebook.text, notebook)

    def _is_python(self, cell: types.NotebookCell) -> bool:
        return cell.kind == types.NotebookCellKind.Code and cell.document in self._python

    def located(self, linted: Linted) -> list[tuple[str, Diagnostic]]:
        notebook = linted.source.notebook
        if notebook is None:
            return []
        return [(self.cells[finding.cell - 1].document, finding) for finding in notebook.locate(linted.diagnostics)
                if finding.cell is not None]

    def edits(self, linted: Linted, fix: Fix) -> Edits | None:
        """The fix's edits on the cells they fall in; None when one of them is not inside a cell."""
        notebook = linted.source.notebook
        assert notebook is not None
        edits: Edits = {}
        for change in fix.edits:
            start, end = self._place(notebook, change.start), self._place(notebook, change.end)
            if start is None or end is None or start[0] != end[0]:
                return None
            edits.setdefault(start[0], []).append(edit(self._buffers[start[0]], start[1], end[1], change.text))
        return edits

    def _place(self, notebook: Notebook, offset: int) -> tuple[str, int] | None:
        """The cell document an offset of the joined text falls in, and the offset there; None
        on a line between two cells."""
        text, boundary = notebook.text, notebook.boundary + "\n"
        line_start = text.rfind("\n", 0, offset) + 1
        if text.startswith(boundary, line_start):
            return None
        checked = list(notebook.cell_sources(text))  # the numbers of the cells checked, in order
        uri = self.cells[checked[text.count(boundary, 0, offset)] - 1].document
        line, column = cell_row(text, offset, notebook.boundary)
        return uri, self._buffers[uri].offset_of(line, column)

    def replacements(self, linted: Linted, fixed: str) -> Edits:
        notebook = linted.source.notebook
        if notebook is None:
            return {}
        try:
            sources = notebook.cell_sources(fixed)
        except ValueError as error:  # a fix crossed a cell boundary or moved a magic's line
            log.warning("initaudit: no fix-all for %s: %s", self.uri, error)
            return {}
        edits: Edits = {}
        for number, new in sources.items():
            uri = self.cells[number - 1].document
            if new != self._buffers[uri].text:
                edits[uri] = [replacement(self._buffers[uri], new)]
        return edits


Document = TextDocument | NotebookDocument


def lsp_diagnostic(buffer: Buffer, d: Diagnostic) -> types.Diagnostic:
    start = buffer.position(buffer.offset_of(d.line, d.column))
    end = buffer.position(buffer.offset_of(d.end_line, d.end_column))
    entry = entries().get(d.code)
    return types.Diagnostic(
        range=types.Range(start=start, end=end),
        severity=_SEVERITY[d.severity],
        code=d.code,
        code_description=types.CodeDescription(href=entry.url) if entry is not None else None,
        source=SOURCE,
        message=f"{d.message} [{d.name}]",
    )


def edit(buffer: Buffer, start: int, end: int, text: str) -> types.TextEdit:
    return types.TextEdit(range=types.Range(start=buffer.position(start), end=buffer.position(end)), new_text=text)


def replacement(buffer: Buffer, new: str) -> types.TextEdit:
    """One edit that turns the buffer's text into ``new``: the part between what the two share at
    their start and at their end, widened where it would split a ``\\r\\n``."""
    old = buffer.text
    start = _shared_prefix(old, new)
    kept = _shared_prefix(old[start:][::-1], new[start:][::-1])  # shared at the end
    end = len(old) - kept
    if buffer.splits_line_break(start):
        start -= 1
    if buffer.splits_line_break(end):
        end, kept = end + 1, kept - 1
    return edit(buffer, start, end, new[start:len(new) - kept])


def _shared_prefix(a: str, b: str) -> int:
    """The length of the longest common prefix, found by comparing slices (not characters)."""
    low, high = 0, min(len(a), len(b))
    while low < high:
        middle = (low + high + 1) // 2
        if a[:middle] == b[:middle]:
            low = middle
        else:
            high = middle - 1
    return low
