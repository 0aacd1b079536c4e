"""Progress bars for long runs, on standard error and on a terminal only: never in a pipe, a CI
log (``CI`` set), under ``TERM=dumb``, or in machine-readable output (which goes to standard
output anyway)."""

from __future__ import annotations

import contextlib
import os
import sys
from typing import ContextManager

from initaudit.progress import Progress

#: Below this many items, no bar flashes by.
SHOWN_FROM = 30


def progress_bar(label: str) -> ContextManager[Progress | None]:
    """A transient bar labelled ``label`` where one can be shown, else nothing (None)."""
    if not sys.stderr.isatty() or os.environ.get("CI") or os.environ.get("TERM") == "dumb":
        return contextlib.nullcontext()
    return _Bar(label)


class _Bar:
    def __init__(self, label: str) -> None:
        self._label = label
        self._task: object = None

    def __enter__(self) -> Progress:
        from rich.progress import BarColumn, MofNCompleteColumn, Progress as RichProgress, TextColumn

        from initaudit.report.console import make_console

        self._progress = RichProgress(TextColumn(self._label), BarColumn(), MofNCompleteColumn(),
                                      console=make_console(stderr=True), transient=True)
        return self._advance

    def _advance(self, done: int, total: int) -> None:
        if total < SHOWN_FROM:
            return
        if self._task is None:
            self._progress.start()
            self._task = self._progress.add_task(self._label, total=total)
        self._progress.update(self._task, completed=done)

    def __exit__(self, *exc: object) -> None:
        if self._task is not None:
            self._progress.stop()
