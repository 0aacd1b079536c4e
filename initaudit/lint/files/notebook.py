"""Jupyter notebooks: their code cells as one Python text, with positions and fixes mapped back.

The code cells of an nbformat 4 notebook are joined into one *virtual* text, a boundary comment
line between consecutive cells, so the linter sees the notebook as the kernel runs it (a model
defined in one cell, initialised in another). IPython syntax that is not Python (line magics,
shell escapes, help) becomes ``pass`` at the same indentation, and cells run by a cell magic
(``%%time``, ``%%bash``) are left out, so line numbers stay those of the cells.

Cells are numbered from 1 in file order, counting every cell (markdown and raw included), so
"cell 4" is the fourth cell from the top whatever its kind.
"""

from __future__ import annotations

import bisect
import codecs
import dataclasses
import difflib
import json
import re
from dataclasses import dataclass
from typing import Any

from initaudit.diagnostics import Diagnostic
from initaudit.lint.files.source import SourceError, diff_lines, line_starts, split_lines

NOTEBOOK_SUFFIX = ".ipynb"
#: The line between two cells in the joined text; a notebook whose cells hold it gets a longer one.
_BOUNDARY = "# -- next notebook cell --"
#: IPython lines that are not Python: ``%magic``, ``!cmd``, ``?obj``, ``obj?``, ``x = !cmd``.
_MAGIC = re.compile(r"\s*(?:[%!?]|[\w.]+\?{1,2}\s*$|[\w.]+\s*=\s*[%!])")
_SURROGATE = re.compile("[\ud800-\udfff]")
_INDENT = re.compile(r"\n([ \t]+)\S")


@dataclass(frozen=True)
class _Cell:
    index: int  # position in the notebook's "cells" list
    source: str  # as stored, joined when it is a list of lines
    text: str  # as linted: magics neutralised, ending with a newline
    magics: dict[int, str]  # 0-based line in the cell -> the original line


@dataclass(frozen=True)
class _Style:
    """How the file was serialised, so a fixed notebook is written the same way."""

    indent: str | None
    ensure_ascii: bool
    newline: str
    final_newline: bool
    bom: bool


class Notebook:
    """A notebook read from bytes; ``text`` is what the linter checks (see the module doc)."""

    def __init__(self, document: dict[str, Any], cells: list[_Cell], style: _Style) -> None:
        self._document = document
        self._cells = cells
        self._style = style
        self.boundary = _BOUNDARY
        while any(self.boundary in cell.text for cell in cells):
            self.boundary += "-"
        self.text = (self.boundary + "\n").join(cell.text for cell in cells)
        #: Virtual line (0-based) -> (cell number, line in the cell), both 1-based.
        self._origin: list[tuple[int, int]] = []
        for cell in cells:
            lines = len(line_starts(cell.text)) - 1  # the cell's text ends with a line break
            self._origin += [(cell.index + 1, line) for line in range(1, lines + 1)]
            self._origin.append((cell.index + 1, lines))  # the boundary line after the cell

    def locate(self, diagnostics: list[Diagnostic]) -> list[Diagnostic]:
        """Diagnostics on the virtual text, re-expressed as (cell, line in cell)."""
        located = []
        for d in diagnostics:
            cell, line = self._position(d.line)
            end_cell, end_line = self._position(d.end_line)
            if end_cell != cell:
                end_line = line
            located.append(dataclasses.replace(d, line=line, end_line=end_line, cell=cell))
        return sorted(located, key=lambda d: (d.cell, d.line, d.column, d.code))

    def virtual_line(self, cell: int, line: int) -> int:
        """The line of the virtual text (1-based) that is ``line`` of ``cell``."""
        return self._origin.index((cell, line)) + 1

    def _position(self, line: int) -> tuple[int, int]:
        if not self._origin:
            return 1, 1
        return self._origin[min(max(line, 1), len(self._origin)) - 1]

    def cell_sources(self, text: str) -> dict[int, str]:
        """Cell number -> source, for every linted cell, after the virtual text became ``text``."""
        if not self._cells:
            return {}
        segments = text.split("\n" + self.boundary + "\n")
        if len(segments) != len(self._cells):
            raise ValueError("a fix crossed a notebook cell boundary")
        sources = {}
        for cell, segment in zip(self._cells, segments, strict=False):
            if cell is not self._cells[-1]:
                segment += "\n"  # the newline the split took
            sources[cell.index + 1] = _restore(cell, segment)
        return sources

    def encode(self, text: str) -> bytes:
        """The notebook's bytes with the cells' sources taken from a fixed virtual ``text``."""
        cells = list(self._document["cells"])
        for number, source in self.cell_sources(text).items():
            cell = cells[number - 1]
            if source != _joined(cell["source"]):
                as_list = isinstance(cell["source"], list)
                cells[number - 1] = {**cell, "source": split_lines(source, keepends=True) if as_list else source}
        style = self._style
        document = {**self._document, "cells": cells}
        dumped = json.dumps(document, indent=style.indent, ensure_ascii=style.ensure_ascii)
        dumped += "\n" if style.final_newline else ""
        return dumped.replace("\n", style.newline).encode("utf-8-sig" if style.bom else "utf-8")

    def diff(self, path: str, text: str) -> list[str]:
        """Unified diff of the cells a fixed virtual ``text`` changes, one hunk set per cell."""
        lines: list[str] = []
        for cell, source in zip(self._cells, self.cell_sources(text).values(), strict=False):
            if source != cell.source:
                name = f"{path}:cell {cell.index + 1}"
                lines += difflib.unified_diff(diff_lines(cell.source, "cell"), diff_lines(source, "cell"),
                                              f"a/{name}", f"b/{name}")
        return lines

    def cell_lines(self, text: str) -> dict[int, list[str]]:
        """Cell number -> its source lines, for snippets."""
        return {number: split_lines(source) for number, source in self.cell_sources(text).items()}


def read_notebook(data: bytes) -> Notebook:
    """Parse an nbformat 4 notebook; raises SourceError (reported as IA000) for anything else."""
    try:
        raw = data.decode("utf-8-sig")
        document = json.loads(raw)
    except UnicodeDecodeError as exc:
        raise SourceError(f"notebook is not UTF-8: {exc.reason}") from None
    except json.JSONDecodeError as exc:
        raise SourceError(f"notebook is not valid JSON: {exc.msg}", exc.lineno, exc.colno) from None
    except (ValueError, RecursionError) as exc:  # e.g. an integer with too many digits
        raise SourceError(f"notebook cannot be read: {exc}") from None
    return Notebook(document, _code_cells(document), _style(raw, bom=data.startswith(codecs.BOM_UTF8)))


def _code_cells(document: object) -> list[_Cell]:
    if not isinstance(document, dict) or not isinstance(document.get("cells"), list):
        raise SourceError("not a Jupyter notebook: no list of cells")
    if document.get("nbformat") != 4:
        raise SourceError(f"unsupported notebook format {document.get('nbformat')!r}: nbformat 4 is read")
    if not _is_python(document.get("metadata")):
        return []
    cells = []
    for index, cell in enumerate(document["cells"]):
        if not isinstance(cell, dict) or not _valid_source(cell.get("source")):
            raise SourceError(f"cell {index + 1} is malformed: it needs a source string or list of strings")
        if cell.get("cell_type") == "code":
            source = _joined(cell["source"])
            surrogate = _SURROGATE.search(source)
            if surrogate is not None:
                # JSON can spell one (\udce9); no Python source can hold it.
                raise SourceError(f"cell {index + 1} holds a lone surrogate {surrogate.group()!r}, "
                                  "which is not text")
            if not _is_cell_magic(source):
                cells.append(_neutralised(index, source))
    return cells


def _is_python(metadata: object) -> bool:
    language = metadata.get("language_info", {}) if isinstance(metadata, dict) else {}
    name = language.get("name", "python") if isinstance(language, dict) else "python"
    return str(name).lower() == "python"


def _valid_source(source: object) -> bool:
    return isinstance(source, str) or isinstance(source, list) and all(isinstance(s, str) for s in source)


def _joined(source: str | list[str]) -> str:
    return source if isinstance(source, str) else "".join(source)


def _is_cell_magic(source: str) -> bool:
    return source.lstrip().startswith("%%")


def _neutralised(index: int, source: str) -> _Cell:
    lines = split_lines(source, keepends=True)
    magics = {}
    continued = False
    for number, line in enumerate(lines):
        body = line.rstrip("\r\n")
        if continued or _MAGIC.match(body):
            magics[number] = body
            indent = body[: len(body) - len(body.lstrip())]
            lines[number] = ("" if continued else indent + "pass") + line[len(body):]
            continued = body.endswith("\\")  # a shell escape may go on over several lines
    text = "".join(lines)
    # A cell ending in a lone CR gets CRLF: still one line break, and _restore drops the LF.
    return _Cell(index, source, text if text.endswith("\n") else text + "\n", magics)


def _restore(cell: _Cell, segment: str) -> str:
    """The cell source for a (possibly fixed) segment of the virtual text."""
    if not cell.source.endswith("\n"):
        segment = segment.removesuffix("\n")
    if not cell.magics:
        return segment
    lines = split_lines(segment, keepends=True)
    if len(lines) != len(split_lines(cell.source, keepends=True)):
        raise ValueError(f"a fix changed the lines of cell {cell.index + 1}, which holds IPython magics")
    for number, body in cell.magics.items():
        lines[number] = body + lines[number][len(lines[number].rstrip("\r\n")):]
    return "".join(lines)


def _style(raw: str, *, bom: bool) -> _Style:
    indent = _INDENT.search(raw)
    return _Style(
        indent=indent.group(1) if indent else None,
        ensure_ascii=raw.isascii(),
        newline="\r\n" if "\r\n" in raw else "\n",
        final_newline=raw.endswith("\n"),
        bom=bom,
    )


def cell_row(text: str, offset: int, boundary: str) -> tuple[int, int]:
    """1-based (line within its cell, column) of an offset into a notebook's virtual ``text``
    whose cells are joined by ``boundary`` lines."""
    before = text[:offset]
    cell_start = before.rfind(boundary + "\n")
    start = 0 if cell_start == -1 else cell_start + len(boundary) + 1
    line_start = before.rfind("\n") + 1
    return before.count("\n", start) + 1, offset - line_start + 1


_DECODER = json.JSONDecoder()
_SPACE = re.compile(r"[ \t\r\n]*")


class StoredLines:
    """Where a notebook file stores each line of its cells: the file's JSON text is read once,
    each cell's source when a line of it is first asked for, so that a report of every cell of
    a large notebook stays linear."""

    def __init__(self, file_text: str) -> None:
        self._text = file_text
        self._sources: list[tuple[int, int]] | None = None
        #: Per cell: the file line of a source held in one string, or for a list of strings the
        #: line breaks up to the end of each, whether it ends one, and the file line it is on.
        self._cells: dict[int, int | tuple[list[int], list[bool], list[int]] | None] = {}

    def line(self, cell: int, line: int) -> int | None:
        """The 1-based line of the file that stores line ``line`` of cell ``cell`` (both
        1-based), or None where the file is not laid out as a notebook."""
        if cell not in self._cells:
            try:
                self._cells[cell] = self._read(cell)
            except (ValueError, IndexError):
                self._cells[cell] = None
        found = self._cells[cell]
        if found is None or isinstance(found, int):  # one string: every line is on its file line
            return found
        breaks, ended, lines = found
        # The first string after which the line has begun: it holds ``line - 1`` breaks and
        # does not end with one, or it holds ``line`` breaks.
        index = bisect.bisect_left(breaks, line - 1)
        while index < len(breaks) and breaks[index] == line - 1 and ended[index]:
            index += 1
        return lines[index] if index < len(breaks) else None

    def _read(self, cell: int) -> int | tuple[list[int], list[bool], list[int]] | None:
        text = self._text
        if self._sources is None:
            self._sources = []  # also when the file cannot be read as a notebook
            self._sources = self._source_positions()
        if not 0 < cell <= len(self._sources) or self._sources[cell - 1][0] < 0:
            return None
        source, line = self._sources[cell - 1]
        if text[source] == '"':
            return line
        breaks: list[int] = []
        ended: list[bool] = []
        lines: list[int] = []
        counted, count = source, 0
        position = _element(text, source, 0)
        while position is not None:
            chunk, _ = _DECODER.raw_decode(text, position)
            line += text.count("\n", counted, position)
            counted = position
            count += chunk.count("\n")
            breaks.append(count)
            ended.append(chunk.endswith("\n"))
            lines.append(line)
            position = _next_item(text, position)
        return breaks, ended, lines

    def _source_positions(self) -> list[tuple[int, int]]:
        """Where each cell's ``source`` value starts and on which line (-1: a cell without
        one), in one pass."""
        text = self._text
        cells = _member(text, 0, "cells")
        found: list[tuple[int, int]] = []
        line, counted = 1, 0
        position = _element(text, cells, 0) if cells is not None else None
        while position is not None:
            source = _member(text, position, "source")
            if source is None:
                found.append((-1, 0))
            else:
                line += text.count("\n", counted, source)
                counted = source
                found.append((source, line))
            position = _next_item(text, position)
        return found


def _skip(text: str, position: int) -> int:
    return _SPACE.match(text, position).end()  # type: ignore[union-attr]


def _member(text: str, position: int, key: str) -> int | None:
    """Where the value of ``key`` starts in the JSON object at ``position``."""
    position = _skip(text, position)
    if text[position] != "{":
        return None
    found: int | None = _skip(text, position + 1)
    while found is not None and text[found] == '"':
        name, position = _DECODER.raw_decode(text, found)
        position = _skip(text, _skip(text, position) + 1)  # past the colon
        if name == key:
            return position
        found = _next_item(text, position)
    return None


def _element(text: str, position: int, index: int) -> int | None:
    """Where element ``index`` starts in the JSON array at ``position``."""
    position = _skip(text, position)
    if text[position] != "[":
        return None
    found: int | None = _skip(text, position + 1)
    for _ in range(index):
        if found is None or text[found] == "]":
            return None
        found = _next_item(text, found)
    return None if found is None or text[found] == "]" else found


def _next_item(text: str, position: int) -> int | None:
    """Past the JSON value at ``position`` and its comma: where the next item starts, or None
    at the end of the container."""
    _, position = _DECODER.raw_decode(text, position)
    position = _skip(text, position)
    return _skip(text, position + 1) if text[position] == "," else None
