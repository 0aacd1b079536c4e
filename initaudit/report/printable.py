"""Text from files (paths, tensor names, source lines) made safe to print on a terminal.

A name read from a checkpoint or a path on disk may hold escape sequences, carriage returns or
bidirectional overrides that would rewrite or reorder what the report shows. Such characters are
written as Python escapes (``\\x1b``, ``\\n``, ``\\u202e``) so that the output stays one line
per item and shows exactly what the file holds.
"""

from __future__ import annotations

import re

#: C0 and C1 controls, DEL, line and paragraph separators, the bidirectional controls, and the
#: lone surrogates that stand for the bytes of a file name that is not UTF-8.
_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u200e\u200f\u202a-\u202e\u2066-\u2069\udc80-\udcff]")
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _escape(match: re.Match[str]) -> str:
    char = match.group()
    if char in _NAMED:
        return _NAMED[char]
    code = ord(char)
    if 0xDC80 <= code <= 0xDCFF:
        code -= 0xDC00  # the byte itself, as Python's repr of the bytes shows it
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def printable(text: str, *, keep_tabs: bool = False) -> str:
    """``text`` with every control character escaped; ``keep_tabs`` leaves tabs (source lines)."""
    if keep_tabs:
        return _UNSAFE.sub(lambda m: "\t" if m.group() == "\t" else _escape(m), text)
    return _UNSAFE.sub(_escape, text)
