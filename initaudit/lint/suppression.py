"""``# noqa`` and ``# initaudit: ignore[...]`` comments."""

from __future__ import annotations

import bisect
import io
import re
import tokenize
from typing import Iterator

from initaudit.lint.prefilter import STRINGS_AND_COMMENTS
from initaudit.lint.source import line_starts

#: A suppression comment; ``noqa`` or ``ignore`` holds its codes when it lists some.
NOQA_COMMENT = re.compile(
    r"#\s*(?:noqa(?::\s*(?P<noqa>[A-Z]+[0-9]+(?:[\s,]+[A-Z]+[0-9]+)*))?"
    r"|initaudit:\s*ignore(?:\[(?P<ignore>[^\]]*)\])?)",
    re.IGNORECASE,
)
_CODE = re.compile(r"[A-Za-z]+[0-9]+")

#: Suppressions of one file: line -> codes, where None means every code.
Suppressions = dict[int, frozenset[str] | None]


def parse_suppressions(text: str) -> Suppressions:
    """Suppressions read from the comments of ``text``, never from its strings (``"see # noqa"``
    in a literal suppresses nothing)."""
    found: Suppressions = {}
    lowered = text.lower()
    if "noqa" not in lowered and "initaudit" not in lowered:
        return found
    for number, comment in _comments(text):
        for match in NOQA_COMMENT.finditer(comment):
            codes_text = match.group("noqa") or match.group("ignore")
            if codes_text is None:
                found[number] = None
                break
            codes = frozenset(code.upper() for code in _CODE.findall(codes_text))
            previous = found.get(number, frozenset())
            if previous is not None:
                found[number] = previous | codes
    return found


def _comments(text: str) -> Iterator[tuple[int, str]]:
    """(line, text) of each comment, as Python's tokenizer reads them; where it cannot (syntax
    newer than this interpreter's), as the prefilter's scan of literals and comments reads them."""
    try:
        tokens = [(token.start[0], token.string) for token in tokenize.generate_tokens(io.StringIO(text, newline="").readline)
                  if token.type == tokenize.COMMENT]
    except (tokenize.TokenError, SyntaxError):
        starts = line_starts(text)
        tokens = [(bisect.bisect_right(starts, match.start()), match.group())
                  for match in STRINGS_AND_COMMENTS.finditer(text) if match.group().startswith("#")]
    return iter(tokens)


def is_suppressed(suppressions: Suppressions, code: str, lines: tuple[int, ...]) -> bool:
    for line in lines:
        if line in suppressions:
            codes = suppressions[line]
            if codes is None or code in codes:
                return True
    return False
