"""Turning a file's bytes into text to analyse, and text back into bytes to write."""

from __future__ import annotations

import ast
import io
import re
import tokenize
import warnings
from dataclasses import dataclass

_LINE_BREAK = re.compile(r"\r\n?|\n")
_BYTE_LINE_BREAK = re.compile(rb"\r\n?|\n")


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
    except (LookupError, UnicodeError) as exc:  # a cookie naming rot13, base64, undefined, ...
        raise SourceError(f"cannot decode source: {exc}") from None


def _position_of(data: bytes, offset: int) -> tuple[int, int]:
    """1-based (line, column) of a byte offset, counting columns in bytes."""
    starts = [0] + [match.end() for match in _BYTE_LINE_BREAK.finditer(data, 0, offset)]
    return len(starts), offset - starts[-1] + 1


def syntax_error(text: str, path: str) -> SourceError | None:
    """The interpreter's own verdict on the grammar of ``text`` (clearer messages than a CST
    parser's). Compiling to bytecode is about twice as fast as building the ``ast`` objects; what
    only the compiler rejects (``return`` outside a function, nesting too deep for the compiler
    but not for the parser) is not a grammar error, so such a file is asked again for its syntax
    tree alone."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # invalid escapes and the like are not errors
        try:
            compile(text, path, "exec", dont_inherit=True)
        except (SyntaxError, RecursionError, MemoryError):
            return grammar_check(text, path)[0]
        except ValueError as exc:  # e.g. "source code string cannot contain null bytes"
            return SourceError(str(exc))
    return None


def compiles(text: str, path: str) -> bool:
    """Whether the interpreter compiles ``text``, scope rules (``nonlocal``, ``global``) included."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            compile(text, path, "exec", dont_inherit=True)
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            return False
    return True


def grammar_check(text: str, path: str) -> tuple[SourceError | None, ast.Module | None]:
    """The interpreter's grammar verdict and, when it accepts, the syntax tree. Nesting deeper
    than the interpreter's parser can follow (it raises RecursionError or MemoryError for that)
    is rejected as the interpreter rejects it."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            tree = compile(text, path, "exec", dont_inherit=True, flags=ast.PyCF_ONLY_AST)
        except SyntaxError as exc:
            message = exc.msg or "invalid syntax"
            return SourceError(message, exc.lineno or 1, max(exc.offset or 1, 1)), None
        except (RecursionError, MemoryError):
            return SourceError("too deeply nested for the interpreter to parse"), None
        except ValueError as exc:
            return SourceError(str(exc)), None
    return None, tree


def line_starts(text: str) -> list[int]:
    """Offset of the first character of each line (line 1 at index 0), lines as the parser
    counts them: see :func:`split_lines`."""
    if "\r" in text:
        return [0] + [match.end() for match in _LINE_BREAK.finditer(text)]
    starts = [0]
    index = text.find("\n")
    while index != -1:
        starts.append(index + 1)
        index = text.find("\n", index + 1)
    return starts


def diff_lines(text: str, container: str = "file") -> list[str]:
    """``text``'s lines for a unified diff, a missing final line break marked as ``diff`` does."""
    lines = split_lines(text, keepends=True)
    if lines and not lines[-1].endswith(("\n", "\r")):
        lines[-1] += f"\n\\ No newline at end of {container}\n"
    return lines


def split_lines(text: str, keepends: bool = False) -> list[str]:
    """The lines of ``text`` as CPython's tokenizer and libcst count them: ``\\n``, ``\\r\\n``
    and a lone ``\\r`` end a line; form feeds, ``\\x1c``-``\\x1e``, ``\\x85`` and U+2028/U+2029,
    which ``str.splitlines`` also breaks at, do not. A final line break adds no empty line."""
    starts = line_starts(text)
    lines = [text[start:end] for start, end in zip(starts, [*starts[1:], len(text)], strict=True)]
    if lines[-1] == "":
        lines.pop()
    return lines if keepends else [line.rstrip("\r\n") for line in lines]
