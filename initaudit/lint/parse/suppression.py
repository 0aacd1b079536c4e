"""``# noqa`` and ``# initaudit: ignore[...]`` comments on a line, ``# initaudit: noqa`` for a
whole file, and which of their codes suppressed something (what IA100 reports)."""

from __future__ import annotations

import bisect
import io
import re
import tokenize
from dataclasses import dataclass, field
from typing import Iterator

from initaudit.lint.files.prefilter import STRINGS_AND_COMMENTS
from initaudit.lint.files.source import line_starts

#: A suppression comment; ``noqa`` or ``ignore`` holds its codes when it lists some. ``file``
#: marks ``# initaudit: noqa``, which suppresses in the whole file.
NOQA_COMMENT = re.compile(
    r"#\s*(?:(?P<file>initaudit:\s*)?noqa(?::\s*(?P<noqa>[A-Z]+[0-9]+(?:[\s,]+[A-Z]+[0-9]+)*))?"
    r"|initaudit:\s*ignore(?:\[(?P<ignore>[^\]]*)\])?)",
    re.IGNORECASE,
)
_CODE = re.compile(r"[A-Za-z]+[0-9]+")


@dataclass(frozen=True)
class Directive:
    """One suppression comment: where it is written, and its codes (None: every code)."""

    line: int
    start: int  # offset of its ``#`` in the text
    end: int
    codes: tuple[str, ...] | None
    whole_file: bool


@dataclass
class Suppressions:
    """The directives of one file, and which of their codes have suppressed a finding."""

    by_line: dict[int, list[Directive]] = field(default_factory=dict)
    whole_file: list[Directive] = field(default_factory=list)
    used: set[tuple[int, str]] = field(default_factory=set)  # (directive start, code)

    def directives(self) -> Iterator[Directive]:
        yield from self.whole_file
        for directives in self.by_line.values():
            yield from directives

    def suppresses(self, code: str, lines: tuple[int, ...]) -> bool:
        """Whether a finding of ``code`` on ``lines`` is suppressed; the codes that do are marked used."""
        candidates = [d for line in lines for d in self.by_line.get(line, ())] + self.whole_file
        for directive in candidates:
            if directive.codes is None:
                return True
            if code in directive.codes:
                self.used.add((directive.start, code))
                return True
        return False


def parse_suppressions(text: str) -> Suppressions:
    """Suppressions read from the comments of ``text``, never from its strings (``"see # noqa"``
    in a literal suppresses nothing)."""
    found = Suppressions()
    lowered = text.lower()
    if "noqa" not in lowered and "initaudit" not in lowered:
        return found
    starts = line_starts(text)
    for line, column, comment in _comments(text):
        for match in NOQA_COMMENT.finditer(comment):
            codes_text = match.group("noqa") or match.group("ignore")
            codes = None if codes_text is None else tuple(
                dict.fromkeys(code.upper() for code in _CODE.findall(codes_text)))
            offset = starts[line - 1] + column
            own_line = not text[starts[line - 1]:offset].strip()  # file-wide only on a line of its own
            directive = Directive(line, offset + match.start(), offset + match.end(), codes,
                                  match.group("file") is not None and own_line)
            if directive.whole_file:
                found.whole_file.append(directive)
            else:
                found.by_line.setdefault(line, []).append(directive)
    return found


def _comments(text: str) -> list[tuple[int, int, str]]:
    """(line, column, text) of each comment, as Python's tokenizer reads them; where it cannot
    (syntax newer than this interpreter's), as the prefilter's scan of literals and comments
    reads them."""
    try:
        return [(token.start[0], token.start[1], token.string)
                for token in tokenize.generate_tokens(io.StringIO(text, newline="").readline)
                if token.type == tokenize.COMMENT]
    except (tokenize.TokenError, SyntaxError):
        starts = line_starts(text)
        found = []
        for match in STRINGS_AND_COMMENTS.finditer(text):
            if match.group().startswith("#"):
                line = bisect.bisect_right(starts, match.start())
                found.append((line, match.start() - starts[line - 1], match.group()))
        return found
