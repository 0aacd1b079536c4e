"""Helpers shared by the linter tests."""

from __future__ import annotations

import textwrap

import pytest

from initaudit import lint_source
from initaudit.diagnostics import Diagnostic


def lint(code: str, path: str = "model.py") -> list[Diagnostic]:
    return lint_source(textwrap.dedent(code), path)


def codes(code: str) -> list[str]:
    return [d.code for d in lint(code)]


@pytest.fixture
def run_lint():
    return lint
