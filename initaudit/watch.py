"""``check --watch``: the report again whenever a source or settings file changes (watchfiles)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Callable, Iterator

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
    for changes in _batches(watched, relevant):
        if not (changes or first):
            continue
        first = False
        if sys.stdout.isatty():
            click.clear()
        check()
        sys.stdout.flush()  # the report reaches a pipe (| tee) now, not when a buffer fills
        click.echo("initaudit: watching for changes (Ctrl-C stops)", err=True)


def _batches(watched: list[Path], relevant: DefaultFilter) -> Iterator[set[tuple[Change, str]]]:
    """Batches of changes, from the system's file events or, when it lends no more watchers (a
    user's inotify instances all taken: "Too many open files"), by polling, said in one line."""
    options = dict(watch_filter=relevant, yield_on_timeout=True, rust_timeout=_WAKE_MS)
    batches = watch(*watched, **options)  # type: ignore[arg-type]
    try:
        first = next(batches)
    except RuntimeError as error:  # watchfiles' internal error: the watcher could not be made
        reason = str(error).strip().splitlines()[-1] if str(error).strip() else type(error).__name__
        click.echo(f"initaudit: note: no file-system events ({reason}); polling for changes instead", err=True)
        batches = watch(*watched, force_polling=True, poll_delay_ms=_WAKE_MS, **options)  # type: ignore[arg-type]
        first = next(batches)
    yield first
    yield from batches


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
