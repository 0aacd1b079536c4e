"""``check --watch``: the report again whenever a source or settings file changes (watchfiles)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Callable

import click
from watchfiles import Change, DefaultFilter, watch

from initaudit.lint.files.languages import Extensions, language_of
from initaudit.settings_files import CONFIG_NAMES

#: How often (ms) the watcher wakes without a change. Its first wake-up says it is watching: the
#: first report waits for it, so that no change made after that report can be missed.
_WAKE_MS = 200


def watch_and_check(paths: list[Path], settings: list[Path], extensions: Extensions,
                    check: Callable[[], object]) -> None:
    """Run ``check`` once the watcher is live, then after each batch of changes to a file a run
    reads (by its suffix, ``extensions`` included) or a settings file under ``paths`` (existing
    files and directories), or to one of the ``settings`` files in use. Ctrl-C ends it with
    KeyboardInterrupt."""
    watched = [*paths, *(path for path in settings if path.exists())]
    relevant = _Relevant(settings, extensions)
    first = True
    for changes in watch(*watched, watch_filter=relevant, yield_on_timeout=True, rust_timeout=_WAKE_MS):
        if not (changes or first):
            continue
        first = False
        if sys.stdout.isatty():
            click.clear()
        check()
        click.echo("initaudit: watching for changes (Ctrl-C stops)", err=True)


class _Relevant(DefaultFilter):
    """watchfiles' default filter (editor back-ups, caches, .git), keeping only what a check reads."""

    def __init__(self, settings: list[Path], extensions: Extensions) -> None:
        super().__init__()
        self._settings = {str(path.resolve()) for path in settings}
        self._extensions = extensions

    def __call__(self, change: Change, path: str) -> bool:
        name = Path(path).name
        return super().__call__(change, path) and (
            language_of(name, self._extensions) is not None or name in CONFIG_NAMES
            or str(Path(path).resolve()) in self._settings)
