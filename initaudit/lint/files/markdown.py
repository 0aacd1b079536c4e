"""Markdown and reStructuredText documents: their Python code blocks linted as one module.

The blocks (see ``code_blocks.py``) are a notebook's code cells here: joined into one virtual
text, IPython magics neutralised, mapped back and restored by :class:`Notebook`'s machinery. What
differs is the outside: a document has lines of its own, so diagnostics carry the document's
line and column (no cell), and a fix rewrites the lines of its block alone, every other byte of
the document kept. A tagged block that does not parse (a fragment, a session with a typo) is left
out with a note; an untagged one that does not parse is not Python.
"""

from __future__ import annotations

import codecs
import dataclasses
import difflib
from bisect import bisect_right

from initaudit.diagnostics import Diagnostic, Edit
from initaudit.lint.files.code_blocks import Block, markdown_blocks, rst_blocks
from initaudit.lint.files.notebook import Notebook, _Cell, _is_cell_magic, _neutralised
from initaudit.lint.files.source import SourceError, diff_lines, line_starts, split_lines, syntax_error

#: Languages read as documents (see ``languages.py``).
DOCUMENT_LANGUAGES = ("markdown", "rst")


class Document(Notebook):
    """A document read from bytes; ``text`` is what the linter checks, ``document_text`` the
    document itself, ``notes`` the (line, message) of each Python block left out."""

    def __init__(self, document_text: str, language: str, bom: bool, blocks: list[Block], cells: list[_Cell],
                 notes: list[tuple[int, str]]) -> None:
        super().__init__({}, cells, None)  # type: ignore[arg-type]  # no JSON: encode and diff are its own
        self.document_text = document_text
        self.language = language
        self.notes = notes
        self._bom = bom
        self._blocks = blocks  # the block of each cell, in order
        self._lines = split_lines(document_text, keepends=True)

    def locate(self, diagnostics: list[Diagnostic]) -> list[Diagnostic]:
        """Diagnostics on the virtual text at the document's lines and columns, their fixes'
        edits at offsets into the document."""
        virtual_starts, starts = line_starts(self.text), line_starts(self.document_text)

        def offset(virtual: int) -> int:
            line = bisect_right(virtual_starts, virtual)
            row, column = self._place(line, virtual - virtual_starts[line - 1] + 1)
            return starts[row - 1] + column - 1

        def edit(e: Edit, indent: str) -> Edit:
            return Edit(offset(e.start), offset(e.end), e.text.replace("\n", "\n" + indent))

        located = []
        for d in diagnostics:
            line, column = self._place(d.line, d.column)
            end_line, end_column = self._place(d.end_line, d.end_column)
            fix = d.fix
            if fix is not None:
                indent = self._blocks[self._position(d.line)[0] - 1].indent
                fix = dataclasses.replace(fix, edits=tuple(edit(e, indent) for e in fix.edits))
            located.append(dataclasses.replace(d, line=line, column=column, end_line=end_line,
                                               end_column=end_column, fix=fix))
        return located

    def _place(self, line: int, column: int) -> tuple[int, int]:
        """The document's (line, column) of a virtual one, all 1-based."""
        cell, row = self._position(line)
        block = self._blocks[cell - 1]
        prefix = block.prefixes[row - 1] if row <= len(block.prefixes) else ""
        return block.start + row, column + len(prefix)

    def virtual_line_at(self, line: int) -> int | None:
        """The virtual line holding the code of the document's ``line``, None outside the blocks."""
        for number, block in enumerate(self._blocks, start=1):
            if block.start < line <= block.start + len(block.lines):
                return self.virtual_line(number, line - block.start)
        return None

    def written(self, text: str) -> str:
        """The document with the blocks' code taken from a (fixed) virtual ``text``. Raises
        ValueError where a fix cannot be written back (see :meth:`Notebook.cell_sources`)."""
        sources = self.cell_sources(text)
        pieces: list[str] = []
        position = 0
        for number, block in enumerate(self._blocks, start=1):
            pieces += self._lines[position:block.start]
            pieces += _restored(block, sources[number])
            position = block.start + len(block.lines)
        pieces += self._lines[position:]
        return "".join(pieces)

    def encode(self, text: str) -> bytes:
        return self.written(text).encode("utf-8-sig" if self._bom else "utf-8")

    def diff(self, path: str, text: str) -> list[str]:
        return list(difflib.unified_diff(diff_lines(self.document_text), diff_lines(self.written(text)),
                                         f"a/{path}", f"b/{path}"))

    def fixed(self, text: str) -> Document:
        """The document as a fixed virtual ``text`` leaves it, read again (its lines may have
        moved); itself where that does not give the same blocks."""
        try:
            again = _document(self.written(text), self.language, self._bom)
        except ValueError:
            return self
        return again if again.text == text else self


def read_document(data: bytes, language: str) -> Document:
    """A Markdown or reST document (UTF-8, with or without a BOM); anything else raises
    SourceError, which is reported as IA000."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise SourceError(f"document is not UTF-8: {exc.reason}", line) from None
    return _document(text, language, data.startswith(codecs.BOM_UTF8))


def _document(text: str, language: str, bom: bool) -> Document:
    lines = split_lines(text, keepends=True)
    blocks: list[Block] = []
    cells: list[_Cell] = []
    notes: list[tuple[int, str]] = []
    for block in (markdown_blocks if language == "markdown" else rst_blocks)(lines):
        code = block.code
        if _is_cell_magic(code):
            continue  # %%bash and the like: not Python
        cell = _neutralised(len(cells), code)
        error = syntax_error(cell.text, "<block>")
        if error is None:
            blocks.append(block)
            cells.append(cell)
        elif block.tagged:
            notes.append((block.start + error.line, f"Python code block not checked: it does not parse "
                                                    f"({error.message})"))
    return Document(text, language, bom, blocks, cells, notes)


def _restored(block: Block, code: str) -> list[str]:
    """The block's lines holding ``code``, each line's prefix put back. Where the line count
    changed, the lines kept keep theirs and new lines get the block's indentation; in a console
    session a fix may only change lines of code."""
    new = split_lines(code, keepends=True)
    old = split_lines(block.code, keepends=True)
    if len(new) == len(old):
        if block.console and any(n != o and not o.strip() for n, o in zip(new, old, strict=True)):
            raise ValueError(f"a fix wrote into the output of the console session at line {block.start + 1}")
        prefixes = list(block.prefixes)
    elif block.console:
        raise ValueError(f"a fix changed the lines of the console session at line {block.start + 1}")
    else:
        prefixes = []
        for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, old, new, autojunk=False).get_opcodes():
            if tag == "equal" or i2 - i1 == j2 - j1:
                prefixes += block.prefixes[i1:i2]
            else:
                prefixes += [block.indent if line.strip() else "" for line in new[j1:j2]]
    return [prefix + line for prefix, line in zip(prefixes, new, strict=True)]
