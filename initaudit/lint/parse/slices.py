"""The part of an imported file that its importers need parsed.

An importer of ``Block`` from ``blocks.py`` reads the class, its base classes and the helpers it
calls, not the file's other classes and functions. The slice keeps every top-level statement that
is not a ``class`` or ``def`` (imports, constants, ``if`` blocks), the definitions named, and,
transitively, every top-level definition whose name a class's text mentions and every function
whose name a function's text mentions. The others become empty lines, so that every kept node
keeps its line and column. Found from the text alone (strings and comments blanked, offsets
kept), so a slice can be wrong only where a line inside brackets starts at column 0; the caller
parses the whole file when a slice does not parse.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from initaudit.lint.files.prefilter import STRINGS_AND_COMMENTS

#: A top-level statement's first line: a decorator, a definition (keyword, name), or another
#: statement (a closing bracket at column 0 continues one: ``) -> None:`` ending a signature).
_TOP_LEVEL = re.compile(r"^(?:(@)|(?:async[ \t]+)?(def|class)[ \t]+(\w+)|[^\W\d]|[(\[*])", re.MULTILINE)
#: The colon ending a class statement's header (a colon inside its bases is not followed by a
#: line break).
_HEADER_END = re.compile(r":[ \t]*(?:\n|$)", re.MULTILINE)
_WORD = re.compile(r"\w+")
_NOT_LINE_BREAK = re.compile(r"[^\r\n]+")
#: A slice keeping more than this share of the definitions' text is not worth a second parse later.
_WHOLE_SHARE = 0.6


@dataclass(frozen=True)
class Definition:
    """A top-level ``class`` or ``def``, its decorators included."""

    keyword: str
    name: str
    start: int
    end: int
    #: For a class: the words of its bases, and where its body starts.
    bases: frozenset[str] = frozenset()
    body: int = 0


def definitions(text: str) -> list[Definition]:
    code = STRINGS_AND_COMMENTS.sub(lambda match: _NOT_LINE_BREAK.sub(_spaces, match.group()), text)
    starts: list[tuple[int, re.Match[str]]] = []
    decorated_from: int | None = None
    for match in _TOP_LEVEL.finditer(code):
        if match.group(1):
            decorated_from = match.start() if decorated_from is None else decorated_from
            continue
        starts.append((match.start() if decorated_from is None else decorated_from, match))
        decorated_from = None
    found = []
    for index, (start, match) in enumerate(starts):
        keyword, name = match.group(2), match.group(3)
        if name is None:
            continue
        end = starts[index + 1][0] if index + 1 < len(starts) else len(text)
        bases, body = frozenset(), match.end()
        if keyword == "class":
            header = _HEADER_END.search(code, match.end(), end)
            body = header.end() if header is not None else end
            bases = frozenset(_WORD.findall(code, match.end(), body))
        found.append(Definition(keyword, name, start, end, bases, body))
    return found


def slice_text(text: str, names: frozenset[str], found: list[Definition]) -> tuple[str, frozenset[str]] | None:
    """The text with the definitions that ``names`` do not need blanked, and the names of the
    definitions kept; None when the slice would keep most of the file (parse it whole)."""
    needed = set(names)
    pending = list(names)
    by_name: dict[str, list[Definition]] = {}
    for definition in found:
        by_name.setdefault(definition.name, []).append(definition)
    # A class needs its bases, the classes it builds and the helpers it calls; a function, what
    # an importer reads of it (its own init operations), only the functions it calls.
    functions = {d.name for d in found if d.keyword == "def"}
    while pending:
        for definition in by_name.get(pending.pop(), ()):
            named = set(_WORD.findall(text, definition.start, definition.end))
            for word in named & (by_name.keys() if definition.keyword == "class" else functions):
                if word not in needed:
                    needed.add(word)
                    pending.append(word)
    total = sum(d.end - d.start for d in found)
    kept = sum(d.end - d.start for d in found if d.name in needed)
    if total == 0 or kept > _WHOLE_SHARE * total:
        return None
    parts, position = [], 0
    for definition in found:
        if definition.name not in needed:
            parts.append(text[position:definition.start])
            parts.append(_NOT_LINE_BREAK.sub("", text[definition.start:definition.end]))
            position = definition.end
    parts.append(text[position:])
    return "".join(parts), frozenset(needed)


def _spaces(match: re.Match[str]) -> str:
    return " " * len(match.group())
