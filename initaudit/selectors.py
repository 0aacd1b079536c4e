"""Rule selectors as ruff reads them: ``ALL``, a code (``IA103``), a prefix (``IA1``, ``IA10``)
or a rule name (``zero-weight-init``). Anything else is a typo, and a typo must not quietly turn
rules off."""

from __future__ import annotations

import functools

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


def names_rule_of(selector: str, scope: str) -> bool:
    """Whether the resolved ``selector`` names a rule of ``initaudit <scope>`` (check or model)."""
    return any(entry.scope == scope and matches(entry.code, (selector,)) for entry in entries().values())


@functools.lru_cache(maxsize=1024)
def for_command(selectors: tuple[str, ...], code: str) -> tuple[str, ...]:
    """The part of a ``select`` that decides about ``code``: its selectors naming a rule of the
    command ``code`` belongs to. Both commands read one settings table, so a selection naming only
    the other command's rules (``IA1`` for ``model``, ``IA2`` for ``check``) leaves all of this
    command's rules on; an empty one stays empty."""
    found = entries().get(code)
    if found is None or not selectors:
        return selectors
    own = tuple(selector for selector in selectors if names_rule_of(selector, found.scope))
    return own or ("ALL",)
