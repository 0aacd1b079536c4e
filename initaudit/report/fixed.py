"""``--show-fixes`` after ``--fix``: what was fixed, per file and rule."""

from __future__ import annotations

from collections import Counter
from typing import Iterable

from initaudit.lint.run.results import FileResult
from initaudit.report.printable import printable


def render_fixed(results: Iterable[FileResult]) -> str:
    """``Fixed N problems:`` then each file with ``count × CODE (name)`` lines; empty when
    nothing was fixed."""
    blocks = []
    total = 0
    for result in results:
        if not result.fixes_applied:
            continue
        before = Counter((d.code, d.name) for d in result.unfixed_diagnostics)
        before.subtract(Counter((d.code, d.name) for d in result.diagnostics))
        fixed = sorted((key, count) for key, count in before.items() if count > 0)
        total += sum(count for _, count in fixed)
        blocks.append(f"- {printable(result.path)}:\n" + "\n".join(
            f"    {count} × {code} ({name})" for (code, name), count in fixed))
    if not blocks:
        return ""
    return f"Fixed {total} problem{'s' if total != 1 else ''}:\n" + "\n".join(blocks)
