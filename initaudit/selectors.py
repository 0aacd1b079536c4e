"""Rule selectors as ruff reads them: ``ALL``, a code (``IA103``), a prefix (``IA1``, ``IA10``)
or a rule name (``zero-weight-init``). Anything else is a typo, and a typo must not quietly turn
rules off."""

from __future__ import annotations

from initaudit.catalogue import entries


class UnknownSelector(ValueError):
    """A selector that names no rule; the message says which and what is accepted."""


def resolve(selector: str) -> str:
    """The code prefix ``selector`` stands for (a name becomes its code; ``ALL`` stays)."""
    text = selector.strip()
    if text.upper() == "ALL":
        return "ALL"
    known = entries().values()
    for entry in known:
        if entry.name == text.lower():
            return entry.code
    prefix = text.upper()
    if prefix and any(entry.code.startswith(prefix) for entry in known):
        return prefix
    hint = " (separate several with commas)" if any(c in text for c in " ;") else ""
    raise UnknownSelector(f"unknown rule selector {selector!r}{hint}: use a code (IA103), a prefix "
                          f"(IA1) or a rule name; `initaudit rules` lists them")


def resolve_all(selectors: tuple[str, ...] | list[str]) -> tuple[str, ...]:
    return tuple(resolve(selector) for selector in selectors)


def matches(code: str, selectors: tuple[str, ...]) -> bool:
    """Whether ``code`` is one of the resolved ``selectors``."""
    return any(selector == "ALL" or code.startswith(selector) for selector in selectors)
