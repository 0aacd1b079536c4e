"""``--add-noqa``: a ``# noqa: CODE`` comment on every line that has a finding, so that a
codebase can adopt the linter today and fix its findings over time.

Idempotent: a line's existing ``# noqa: X`` (or ``# initaudit: ignore[X]``) keeps its codes and
gets the new ones added; running it twice changes nothing the second time. A comment cannot end
a line inside a multi-line string or after a backslash continuation, so there it goes on the
line where the statement's string or continuation ends.
"""

from __future__ import annotations

import io
import re
import tokenize
from collections import defaultdict
from pathlib import Path

from initaudit.diagnostics import Diagnostic, Edit
from initaudit.lint.files.languages import Extensions
from initaudit.lint.files.markdown import Document
from initaudit.lint.files.notebook import Notebook
from initaudit.lint.files.reader import read_source
from initaudit.lint.files.source import SourceError, SourceText, line_starts, split_lines
from initaudit.lint.fixes.apply import apply_edits, digest, write_fixed
from initaudit.lint.parse.suppression import NOQA_COMMENT
from initaudit.lint.run.results import FileResult

_SYNTAX_ERROR = "IA000"


class NoqaRefused(Exception):
    """A file whose comments were not added; the message says why (one line)."""


def add_noqa(result: FileResult, extensions: Extensions = ()) -> int:
    """Add the comments for ``result``'s findings to its file (read as ``extensions`` say);
    returns how many lines changed."""
    diagnostics = [d for d in result.diagnostics if d.code != _SYNTAX_ERROR]
    if not diagnostics or result.source is None:
        return 0
    path = Path(result.path)
    data = path.read_bytes()
    try:
        source = read_source(result.path, data, extensions)
    except SourceError:
        raise NoqaRefused("changed since it was read; no comments added") from None
    if source.text != result.source.text:
        raise NoqaRefused("changed since it was read; no comments added")
    if source.encode(source.text) != data:
        raise NoqaRefused("writing it back would change bytes no comment touches; no comments added")
    edits = noqa_edits(source.text, _codes_by_line(source, diagnostics))
    if not edits:
        return 0
    new_text = apply_edits(source.text, edits)
    try:
        encoded = source.encode(new_text)
    except (UnicodeError, ValueError) as exc:
        raise NoqaRefused(f"the comments cannot be written in the file's encoding ({exc})") from None
    write_fixed(path, digest(data), encoded)
    return len(edits)


def _codes_by_line(source: SourceText | Notebook, diagnostics: list[Diagnostic]) -> dict[int, set[str]]:
    """Line of the checked text (a notebook's joined cells, a document's blocks) -> codes
    reported there."""
    codes: dict[int, set[str]] = defaultdict(set)
    for diagnostic in diagnostics:
        line: int | None = diagnostic.line
        if isinstance(source, Document):
            line = source.virtual_line_at(diagnostic.line)
        elif isinstance(source, Notebook) and diagnostic.cell is not None:
            line = source.virtual_line(diagnostic.cell, diagnostic.line)
        if line is not None:
            codes[line].add(diagnostic.code)
    return codes


def noqa_edits(text: str, codes_by_line: dict[int, set[str]]) -> list[Edit]:
    """One edit per line that needs a comment or more codes in its comment."""
    lines = split_lines(text, keepends=True)
    starts = line_starts(text)
    moved = _comment_lines(text)
    wanted: dict[int, set[str]] = defaultdict(set)
    for line, codes in codes_by_line.items():
        wanted[moved.get(line, line)] |= codes
    edits = []
    for line, codes in sorted(wanted.items()):
        if not 0 < line <= len(lines):
            continue
        content = lines[line - 1].rstrip("\r\n")
        edit = _line_edit(content, codes)
        if edit is not None:
            start, end, replacement = edit
            edits.append(Edit(starts[line - 1] + start, starts[line - 1] + end, replacement))
    return edits


def _line_edit(content: str, codes: set[str]) -> tuple[int, int, str] | None:
    """(start, end, text) within the line, or None when its comment already covers ``codes``."""
    match = NOQA_COMMENT.search(content)
    if match is None:
        return len(content), len(content), f"  # noqa: {', '.join(sorted(codes))}"
    listed = match.group("noqa") if match.group("noqa") is not None else match.group("ignore")
    if listed is None:
        return None  # a comment without codes covers every code
    present = {code.upper() for code in re.findall(r"[A-Za-z]+[0-9]+", listed)}
    missing = sorted(codes - present)
    if not missing:
        return None
    group = "noqa" if match.group("noqa") is not None else "ignore"
    end = match.end(group)
    separator = ", " if listed.strip() else ""
    return end, end, separator + ", ".join(missing)


def _comment_lines(text: str) -> dict[int, int]:
    """Lines where a comment cannot go -> the line where it can: the last line of a multi-line
    string or of a backslash continuation."""
    moved: dict[int, int] = {}
    try:
        tokens = list(tokenize.generate_tokens(io.StringIO(text).readline))
    except (tokenize.TokenError, SyntaxError):
        return moved
    for token in tokens:
        if token.type == tokenize.STRING and token.end[0] > token.start[0]:
            for line in range(token.start[0], token.end[0]):
                moved[line] = token.end[0]
    lines = split_lines(text)
    for number in range(len(lines), 0, -1):
        if lines[number - 1].rstrip("\r\n").endswith("\\"):
            target = moved.get(number + 1, number + 1)
            moved[number] = target
    # A string can end on a continued line: follow until the line can take a comment.
    for line, target in list(moved.items()):
        while target in moved and moved[target] != target:
            target = moved[target]
        moved[line] = target
    return moved
