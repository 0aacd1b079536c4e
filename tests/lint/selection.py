"""Linting with some rules selected, the way ``initaudit check --select CODES`` runs, so that a
test of one rule cannot be broken by another rule that also fires on its code."""

from __future__ import annotations

import textwrap

from initaudit import lint_source
from initaudit.config import Config, parse_code_list
from initaudit.diagnostics import Diagnostic

#: Rules whose findings depend on what the other rules found: IA100 judges whether a
#: ``# noqa: IA104`` suppressed anything, and it leaves alone the codes of unselected rules.
#: Their tests run every rule and keep only their own findings.
JUDGES_OTHER_RULES = frozenset({"IA100"})


def selecting(*rules: str) -> Config:
    """The settings of ``--select`` naming ``rules`` (all of them when one judges the others)."""
    wanted = "ALL" if JUDGES_OTHER_RULES.intersection(rules) else ",".join(rules)
    return Config().with_options(select=parse_code_list(wanted))


def lint_text(text: str, *rules: str, path: str = "model.py") -> list[Diagnostic]:
    """The diagnostics of ``rules`` on ``text``, as written, with only those rules selected."""
    return [d for d in lint_source(text, path, selecting(*rules)) if d.code in rules]


def lint_selected(code: str, *rules: str, path: str = "model.py") -> list[Diagnostic]:
    """:func:`lint_text` on ``code`` dedented, like ``tests.conftest.lint``."""
    return lint_text(textwrap.dedent(code), *rules, path=path)


def codes_selected(code: str, *rules: str) -> list[str]:
    return [d.code for d in lint_selected(code, *rules)]
