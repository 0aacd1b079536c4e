"""``# noqa`` and ``# initaudit: ignore[...]`` comments."""

from __future__ import annotations

import re

from initaudit.lint.source import split_lines

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
    found: Suppressions = {}
    lowered = text.lower()
    if "noqa" not in lowered and "initaudit" not in lowered:
        return found
    for number, line in enumerate(split_lines(text), start=1):
        if "#" not in line:
            continue
        for match in NOQA_COMMENT.finditer(line):
            codes_text = match.group("noqa") or match.group("ignore")
            if codes_text is None:
                found[number] = None
                break
            codes = frozenset(code.upper() for code in _CODE.findall(codes_text))
            previous = found.get(number, frozenset())
            if previous is not None:
                found[number] = previous | codes
    return found


def is_suppressed(suppressions: Suppressions, code: str, lines: tuple[int, ...]) -> bool:
    for line in lines:
        if line in suppressions:
            codes = suppressions[line]
            if codes is None or code in codes:
                return True
    return False
