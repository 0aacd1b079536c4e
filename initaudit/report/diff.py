"""``--diff``: the fixes of a run as a unified diff, per file (per cell for notebooks)."""

from __future__ import annotations

import difflib
from typing import Iterable

from initaudit.lint.files.notebook import Notebook
from initaudit.lint.files.source import diff_lines
from initaudit.lint.run.results import FileResult


def render_diff(results: Iterable[FileResult]) -> str:
    """The patch for every file a fix changed; empty when none did."""
    parts: list[str] = []
    for result in results:
        if result.fixed_text is None or result.source is None:
            continue
        if isinstance(result.source, Notebook):
            parts += result.source.diff(result.path, result.fixed_text)
            continue
        before, after = diff_lines(result.source.text), diff_lines(result.fixed_text)
        parts += difflib.unified_diff(before, after, f"a/{result.path}", f"b/{result.path}")
    return "".join(parts)
