"""Matching a ``.gitignore`` pattern in polynomial time, whatever its wildcards.

pathspec turns a pattern into one regular expression: ``**`` between segments becomes
``(?:/.+)?`` and ``*`` becomes ``[^/]*``. With several of them the backtracking engine tries every
way of sharing a path among them, so ``a/**/a/**/.../b`` against a deep ``a/a/a/...`` path, or
``*a*a*a*a*b`` against a long name, takes exponential time. Here a pattern is matched as git's
wildmatch reads it: segments, each a glob of one path component, and ``**`` segments standing for
any number of components between them. Each run of fixed segments is placed at its leftmost
position after the previous one, and inside a segment each star-free piece (literals, ``?``,
brackets: one character each) at its leftmost position after the previous piece; the earliest
placement never loses a match, so no placement is ever revisited. The pattern is normalised as
pathspec normalises it, so the answers are pathspec's, but for one: a bracket expression never
matches a slash, as in git (pathspec's ``[!a]`` can take the slash between two components).
"""

from __future__ import annotations

import re
from typing import Callable

#: Wildcards (``*`` and ``**`` segments) up to which pathspec's own expression is used: with
#: two, its backtracking stays within the square of the path's length.
MAX_REGEX_WILDCARDS = 2

Glob = Callable[[str], bool]


def wildcards(line: str) -> int:
    """How many unbounded repetitions pathspec's expression for the pattern of a ``.gitignore``
    line holds: one per ``**`` segment (a name without a slash before it gets one) and one per
    ``*`` (an escaped or bracketed one counted too)."""
    segments = _normalised(line)
    return 0 if segments is None else sum(1 if segment == "**" else segment.count("*") for segment in segments)


def compile_line(line: str) -> Glob | None:
    """A matcher of relative paths (directories with a trailing slash) for the pattern of a
    ``.gitignore`` line that pathspec accepts; None for the patterns pathspec special-cases (they
    match everything, or everything below the top), which its expression matches at once."""
    segments = _normalised(line)
    if segments is None or all(segment == "**" for segment in segments):
        return None
    leading, trailing = segments[0] == "**", segments[-1] == "**"
    groups: list[list[Glob]] = [[]]
    for segment in segments:
        if segment == "**":
            if groups[-1]:
                groups.append([])
        else:
            groups[-1].append(_segment(segment))
    if not groups[-1]:
        groups.pop()
    return lambda path: _match(groups, leading, trailing, path.split("/"))


def _normalised(line: str) -> list[str] | None:
    """The pattern's segments as pathspec normalises them (``**`` runs collapsed, a bare name
    matched at any depth, a trailing slash meaning everything inside); None for a line that is
    no pattern, and for the patterns pathspec replaces by a fixed expression."""
    pattern = line if line.endswith("\\ ") else line.rstrip()
    if not pattern or pattern.startswith("#") or pattern == "/":
        return None
    segments = pattern.removeprefix("!").split("/")
    if not segments[0]:
        del segments[0]
    elif (len(segments) == 1 or (len(segments) == 2 and not segments[1])) and segments[0] != "**":
        segments.insert(0, "**")
    if not segments:
        return None
    if not segments[-1]:
        segments[-1] = "**"
    collapsed = [segment for index, segment in enumerate(segments)
                 if not (segment == "**" and index and segments[index - 1] == "**")]
    if collapsed in (["**"], ["**", "*"], ["**", "*", "**"]):
        return None
    return collapsed


def _match(groups: list[list[Glob]], leading: bool, trailing: bool, components: list[str]) -> bool:
    position = 0
    for index, group in enumerate(groups):
        start = _place(group, components, position, floating=leading or index > 0)
        if start is None:
            return False
        position = start + len(group)
    # A trailing ``**`` needs something below the last component matched; otherwise the match
    # may end there or before a slash (``foo`` matches ``foo/bar``).
    return position < len(components) if trailing else True


def _place(group: list[Glob], components: list[str], start: int, floating: bool) -> int | None:
    """The leftmost index from ``start`` where the group's globs match consecutive components;
    only ``start`` itself when the group does not float. What a ``**`` passes over cannot hold a
    line break (pathspec's ``.`` does not match one)."""
    last = len(components) - len(group)
    for index in range(start, last + 1):
        if all(glob(components[index + offset]) for offset, glob in enumerate(group)):
            return index
        if not floating or "\n" in components[index]:
            return None
    return None


def _segment(segment: str) -> Glob:
    """A glob of one component: ``*`` alone must match something; star-free pieces are matched
    leftmost, the first at the start and the last at the end."""
    pieces = [re.compile(piece) for piece in _pieces(segment)]
    if len(pieces) == 1:
        return lambda component: pieces[0].fullmatch(component) is not None
    first, middle, last = pieces[0], pieces[1:-1], re.compile(f"(?:{pieces[-1].pattern})\\Z")
    nonempty = segment == "*"

    def glob(component: str) -> bool:
        found = first.match(component)
        if found is None or (nonempty and not component):
            return False
        position = found.end()
        for piece in middle:
            found = piece.search(component, position)
            if found is None:
                return False
            position = found.end()
        return last.search(component, position) is not None
    return glob


def _pieces(segment: str) -> list[str]:
    """The regular expressions of the star-free pieces between the ``*`` runs of a segment, as
    pathspec translates their characters (an escape, ``?``, a bracket expression, a literal)."""
    pieces, piece = [], ""
    index, end = 0, len(segment)
    while index < end:
        char = segment[index]
        index += 1
        if char == "\\" and index < end:
            piece += re.escape(segment[index])
            index += 1
        elif char == "*":
            pieces.append(piece)
            piece = ""
            while index < end and segment[index] == "*":
                index += 1
        elif char == "?":
            piece += "[^/]"
        elif char == "[" and (close := _bracket_end(segment, index)) is not None:
            negated = index < end and segment[index] in "!^"
            body = segment[index + negated:close]
            piece += "[" + ("^" if negated else "") + body.replace("\\", "\\\\")
            index = close
        else:
            piece += re.escape(char)
    return [*pieces, piece]


def _bracket_end(segment: str, index: int) -> int | None:
    """One past the ``]`` closing a bracket expression opened before ``index`` (``[!]a]``: a
    ``]`` first is a member), or None when none closes it."""
    end = len(segment)
    if index < end and segment[index] in "!^":
        index += 1
    if index < end and segment[index] == "]":
        index += 1
    close = segment.find("]", index)
    return None if close == -1 else close + 1
