"""Turning a file's bytes into text to analyse, and text back into bytes to write."""

from __future__ import annotations

import ast
import io
import tokenize
import warnings
from dataclasses import dataclass


class SourceError(Exception):
    """The file cannot be read as Python source; carries a 1-based position."""

    def __init__(self, message: str, line: int = 1, column: int = 1) -> None:
        super().__init__(message)
        self.message = message
        self.line = line
        self.column = column


@dataclass(frozen=True)
class SourceText:
    text: str
    encoding: str  # as detected from a BOM or PEP 263 cookie; "utf-8-sig" keeps a BOM

    def encode(self, text: str) -> bytes:
        return text.encode(self.encoding)


def decode(data: bytes) -> SourceText:
    """Decode like the interpreter does (BOM, coding cookie, else UTF-8); newlines untouched."""
    if b"\x00" in data:
        line, column = _position_of(data, data.index(b"\x00"))
        raise SourceError("source code contains a null byte", line, column)
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
    except SyntaxError as exc:
        raise SourceError(str(exc)) from None
    try:
        return SourceText(data.decode(encoding), encoding)
    except UnicodeDecodeError as exc:
        line, column = _position_of(data, exc.start)
        raise SourceError(f"cannot decode source as {encoding}: {exc.reason}", line, column) from None


def _position_of(data: bytes, offset: int) -> tuple[int, int]:
    """1-based (line, column) of a byte offset, counting columns in bytes."""
    line = data.count(b"\n", 0, offset) + 1
    column = offset - (data.rfind(b"\n", 0, offset) + 1) + 1
    return line, column


def syntax_error(text: str, path: str) -> SourceError | None:
    """The interpreter's own verdict on the grammar of ``text`` (clearer messages than a CST
    parser's). Compiling to bytecode is about twice as fast as building the ``ast`` objects; what
    only the compiler rejects (``return`` outside a function) is not a grammar error, as for
    libcst, so such a file is asked again for its syntax tree alone."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # invalid escapes and the like are not errors
        try:
            compile(text, path, "exec", dont_inherit=True)
        except SyntaxError:
            return _grammar_error(text, path)
        except ValueError as exc:  # e.g. "source code string cannot contain null bytes"
            return SourceError(str(exc))
    return None


def _grammar_error(text: str, path: str) -> SourceError | None:
    try:
        compile(text, path, "exec", dont_inherit=True, flags=ast.PyCF_ONLY_AST)
    except SyntaxError as exc:
        message = exc.msg or "invalid syntax"
        return SourceError(message, exc.lineno or 1, max(exc.offset or 1, 1))
    return None


def line_starts(text: str) -> list[int]:
    """Offset of the first character of each line (line 1 at index 0)."""
    starts = [0]
    index = text.find("\n")
    while index != -1:
        starts.append(index + 1)
        index = text.find("\n", index + 1)
    return starts
