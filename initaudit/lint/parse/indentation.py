"""Indentation that mixes tabs and spaces, which the interpreter accepts and libcst does not.

Python reads a tab in a line's indentation as reaching the next multiple of eight columns, so
eight spaces then a tab open a block at column 16. libcst's tokenizer rejects such a file ("no
matching outer block for dedent"). The text with each line's leading tabs replaced by the spaces
Python counts for them parses the same, every node on the same line; only the columns within a
changed line's indentation move, which :class:`ExpandedColumns` moves back.
"""

from __future__ import annotations

import re

_INDENTATION = re.compile(r"^[ \t]*\t[ \t]*", re.MULTILINE)
_TAB_SIZE = 8


class ExpandedColumns:
    """The text with its indentation tabs expanded, and how to move a column found in it back
    to the text as written."""

    def __init__(self, text: str) -> None:
        #: 1-based line -> (length of its indentation as written, as expanded).
        self._changed: dict[int, tuple[int, int]] = {}
        pieces: list[str] = []
        last = 0
        line, counted = 1, 0
        for match in _INDENTATION.finditer(text):
            line += text.count("\n", counted, match.start())
            counted = match.start()
            expanded = _expand(match.group())
            self._changed[line] = (len(match.group()), len(expanded))
            pieces += [text[last:match.start()], expanded]
            last = match.end()
        pieces.append(text[last:])
        self.text = "".join(pieces)

    @property
    def changed(self) -> bool:
        return bool(self._changed)

    def column(self, line: int, column: int) -> int:
        """A 1-based column of the expanded text, in the text as written."""
        written, expanded = self._changed.get(line, (0, 0))
        if column > expanded:
            return column - expanded + written
        return min(column, written + 1)  # inside the indentation: its place as written


def _expand(indentation: str) -> str:
    width = 0
    for character in indentation:
        width = (width // _TAB_SIZE + 1) * _TAB_SIZE if character == "\t" else width + 1
    return " " * width
