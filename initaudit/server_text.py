"""An open document as the language server protocol counts it.

A line ends at ``\\n``, ``\\r\\n`` or ``\\r`` only: the other breaks ``str.splitlines`` knows
(form feed, ``\\x85``, U+2028, ...) are characters within a line, as they are for the linter. A
column counts code units of the encoding negotiated at initialisation (UTF-16 unless the client
offered another), so a character outside the BMP is two columns in UTF-16.
"""

from __future__ import annotations

import re
from bisect import bisect_right

from lsprotocol import types

from initaudit.lint.files.source import line_starts

_ASTRAL = re.compile("[\U00010000-\U0010ffff]")


def units(text: str, encoding: str) -> int:
    """How many code units of ``encoding`` ``text`` takes (a lone surrogate counts as one)."""
    if encoding == types.PositionEncodingKind.Utf32 or text.isascii():
        return len(text)
    if encoding == types.PositionEncodingKind.Utf8:
        return len(text.encode("utf-8", "surrogatepass"))
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


def _index(line: str, character: int, encoding: str) -> int:
    """The index in ``line`` of the column ``character``: the line's end past it, the start of a
    character whose code units it splits."""
    simple = encoding == types.PositionEncodingKind.Utf32 or line.isascii() or (
        encoding == types.PositionEncodingKind.Utf16 and _ASTRAL.search(line) is None)
    if simple:
        return min(character, len(line))
    utf8 = encoding == types.PositionEncodingKind.Utf8
    counted = 0
    for index, char in enumerate(line):
        code = ord(char)
        if utf8:
            counted += 1 if code < 0x80 else 2 if code < 0x800 else 3 if code < 0x10000 else 4
        else:
            counted += 2 if code > 0xFFFF else 1
        if counted > character:
            return index
    return len(line)


class Buffer:
    """A document's text and version, with offsets turned into positions and back."""

    def __init__(self, text: str, version: int | None, encoding: str) -> None:
        self.version, self.encoding = version, encoding
        self._set(text)

    def _set(self, text: str) -> None:
        self.text = text
        self._starts = line_starts(text)

    def _line(self, line: int) -> tuple[int, str]:
        """Where line ``line`` starts and its text without its line break."""
        start = self._starts[line]
        end = self._starts[line + 1] if line + 1 < len(self._starts) else len(self.text)
        return start, self.text[start:end].rstrip("\r\n")

    def position(self, offset: int) -> types.Position:
        line = bisect_right(self._starts, offset) - 1
        start = self._starts[line]
        return types.Position(line, units(self.text[start:offset], self.encoding))

    def offset(self, position: types.Position) -> int:
        """The offset of ``position``; past a line's end is its end, past the last line the text's."""
        if position.line >= len(self._starts):
            return len(self.text)
        start, line = self._line(position.line)
        return start + _index(line, position.character, self.encoding)

    def offset_of(self, line: int, column: int) -> int:
        """The offset of a 1-based line and column counted in characters, as diagnostics have them."""
        if line > len(self._starts):
            return len(self.text)
        start, text = self._line(max(line, 1) - 1)
        return start + min(max(column, 1) - 1, len(text))

    def splits_line_break(self, offset: int) -> bool:
        """Whether ``offset`` falls between the two characters of a ``\\r\\n``, which no position
        can name."""
        return 0 < offset < len(self.text) and self.text[offset - 1:offset + 1] == "\r\n"

    def change(self, change: types.TextDocumentContentChangeEvent) -> None:
        if isinstance(change, types.TextDocumentContentChangePartial):
            start, end = sorted((self.offset(change.range.start), self.offset(change.range.end)))
            self._set(self.text[:start] + change.text + self.text[end:])
        else:
            self._set(change.text)
