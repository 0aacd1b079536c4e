"""IA100: a ``# noqa`` code of initaudit's that suppresses nothing, or names no rule."""

from __future__ import annotations

from typing import Callable, Iterable, Iterator

from initaudit.diagnostics import Applicability, Edit, Fix
from initaudit.lint.model.file_model import FileModel
from initaudit.lint.parse.suppression import Directive, Suppressions
from initaudit.lint.rules.base import Finding, rule

#: The codes a directive may name that are initaudit's to judge; others (E501) are left alone.
OWN_PREFIX = "IA"


@rule("IA100")
class UnusedNoqa:
    """Reported by the engine once the other rules have run: it depends on what they found."""

    def check(self, model: FileModel) -> Iterable[Finding]:
        return ()


def unused_codes(text: str, suppressions: Suppressions, known: frozenset[str],
                 enabled: Callable[[str], bool]) -> Iterator[tuple[Directive, str, Fix]]:
    """(directive, message, fix) for each directive with initaudit codes that name no rule, or
    name an enabled rule and suppressed nothing; the fix removes those codes (the whole comment
    when none is left, with the blanks before it)."""
    for directive in suppressions.directives():
        if directive.codes is None:
            continue
        unknown = [c for c in directive.codes if c.startswith(OWN_PREFIX) and c not in known]
        unused = [c for c in directive.codes if c.startswith(OWN_PREFIX) and c in known and enabled(c)
                  and (directive.start, c) not in suppressions.used]
        if not unknown and not unused:
            continue
        parts = ([f"unknown code{'s' if len(unknown) > 1 else ''} {', '.join(unknown)}"] if unknown else []) + (
            [f"unused code{'s' if len(unused) > 1 else ''} {', '.join(unused)} (nothing of "
             f"{'that rule' if len(unused) == 1 else 'those rules'} is suppressed here)"] if unused else [])
        kept = [c for c in directive.codes if c not in unknown and c not in unused]
        yield directive, f"`# noqa` with {' and '.join(parts)}", _removal(text, directive, kept)


def _removal(text: str, directive: Directive, kept: list[str]) -> Fix:
    comment = text[directive.start:directive.end]
    if kept:
        opening = comment[:comment.index("[") + 1] if "[" in comment else comment[:comment.lower().index("noqa") + 4] + ": "
        closing = "]" if "[" in comment else ""
        return Fix(Applicability.SAFE, f"Keep only {', '.join(kept)}",
                   (Edit(directive.start, directive.end, f"{opening}{', '.join(kept)}{closing}"),))
    start = directive.start
    while start > 0 and text[start - 1] in " \t":
        start -= 1
    line_start = text.rfind("\n", 0, start) + 1
    if start == line_start:  # a comment on a line of its own: the line goes
        end = directive.end
        rest = text[end:]
        if not rest.lstrip(" \t").startswith(("\n", "\r")) and rest.strip(" \t"):
            return Fix(Applicability.SAFE, "Remove the comment", (Edit(directive.start, directive.end, ""),))
        end += len(rest) - len(rest.lstrip(" \t"))
        end += 2 if text.startswith("\r\n", end) else 1 if text.startswith(("\n", "\r"), end) else 0
        return Fix(Applicability.SAFE, "Remove the comment", (Edit(line_start, end, ""),))
    return Fix(Applicability.SAFE, "Remove the comment", (Edit(start, directive.end, ""),))
