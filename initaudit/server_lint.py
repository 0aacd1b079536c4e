"""Checking the documents of ``initaudit server`` on a worker thread, newest text first.

Each change to a document (or to its settings) makes a new revision of it, and a check of that
revision is scheduled. One worker thread runs the checks, one at a time: a check replaced by a
newer revision before it starts never runs, and the findings of one replaced while it ran are
dropped. So diagnostics are published only for the revision the client has, in the order the
client made them. Findings are published no sooner than :data:`DEBOUNCE` seconds after the
change they are for (within a burst of typing the next change replaces them), and not while a
message the client sent waits to be read (it may be a newer version). A change that comes less
than :data:`DEBOUNCE` seconds after the one before (a burst, a paste in several parts) waits that
long for the next one before its check starts; a change after a pause is checked at once.

The engine, and libcst with it, is imported on the worker (:meth:`Linter.warm_up` does it after
initialisation), so that the server answers ``initialize`` first.
"""

from __future__ import annotations

import asyncio
import logging
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Callable, Generic, Protocol, TypeVar

from pygls.exceptions import JsonRpcContentModified

from initaudit.config import Config
from initaudit.diagnostics import Diagnostic

if TYPE_CHECKING:
    from initaudit.lint.files.notebook import Notebook
    from initaudit.lint.parse.reparse import Reparser

DEBOUNCE = 0.03
#: How long finished findings wait, at most, for the messages the client has already sent.
_SETTLE = 0.05
#: Checked once after initialisation, to import the engine and run every rule a first time.
_WARM_UP = "import torch.nn as nn\n\nnn.init.xavier_uniform(nn.Linear(2, 2).weight)\n"
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Source:
    """What one revision of a document is checked as: a module's text (for a notebook, the
    joined text of its code cells, which ``notebook`` maps back to them)."""

    path: str
    text: str
    notebook: Notebook | None = None


@dataclass
class Linted:
    """The findings for one source, and what its safe fixes make of it."""

    source: Source
    config: Config
    diagnostics: list[Diagnostic]
    fixed: str | None = None  # computed when first asked for


class Checked(Protocol):
    """A document as the linter sees it."""

    @property
    def uri(self) -> str: ...
    @property
    def revision(self) -> int: ...
    def source(self) -> Source: ...


D = TypeVar("D", bound=Checked)


@dataclass
class _Job:
    revision: int
    task: asyncio.Task[Linted] = field(init=False)
    started: bool = False  # past its wait: the check is queued or running on the worker


class Linter(Generic[D]):
    """Schedules the checks, on the server's event loop; ``publish`` is called there with the
    findings for a document's current revision. ``check`` runs on the worker."""

    def __init__(self, publish: Callable[[D, Linted], None],
                 check: Callable[[Source, Config], Linted] | None = None,
                 unread: Callable[[], bool] = lambda: False) -> None:
        """``unread``: whether the client has sent a message the server has not handled yet
        (findings wait for it: it may be a newer version of their document)."""
        self._publish = publish
        self._unread = unread
        self._check = check or self._check_reusing
        #: Per document path: the parse of its last version, whose unchanged statements the next
        #: check reuses (touched on the worker only).
        self._reparsers: dict[str, Reparser] = {}
        self._worker = ThreadPoolExecutor(1, thread_name_prefix="initaudit-check")
        self._jobs: dict[str, _Job] = {}
        self._changed: dict[str, float] = {}

    def schedule(self, document: D, config: Config) -> None:
        """Check the document's current revision, after a wait when it changed a moment ago."""
        now = asyncio.get_running_loop().time()
        burst = now - self._changed.get(document.uri, float("-inf")) < DEBOUNCE
        self._changed[document.uri] = now
        self._start(document, config, DEBOUNCE if burst else 0)

    async def findings(self, document: D, config: Config) -> Linted:
        """The findings for the document's current revision: those published, those being
        computed, or computed now. Raises ContentModified when the document changes first."""
        job = self._jobs.get(document.uri)
        if job is None or job.revision != document.revision or not job.started:
            job = self._start(document, config, 0)
        try:
            linted = await asyncio.shield(job.task)
        except asyncio.CancelledError:
            if not job.task.cancelled():  # the request itself was cancelled
                raise
            linted = None
        if linted is None or document.revision != job.revision:
            raise JsonRpcContentModified(f"{document.uri} changed while it was checked")
        return linted

    async def fixed(self, linted: Linted) -> str:
        """The source's text with every safe fix applied."""
        if linted.fixed is None:
            linted.fixed = await asyncio.get_running_loop().run_in_executor(self._worker, _fix, linted)
        return linted.fixed

    def forget(self, document: D) -> None:
        job = self._jobs.pop(document.uri, None)
        if job is not None:
            job.task.cancel()
        self._changed.pop(document.uri, None)
        self._worker.submit(self._reparsers.pop, document.source().path, None)

    def warm_up(self) -> None:
        self._worker.submit(_warm_up)

    def shutdown(self) -> None:
        self._worker.shutdown(wait=False, cancel_futures=True)

    def _check_reusing(self, source: Source, config: Config) -> Linted:
        from initaudit.lint.parse.reparse import Reparser  # with libcst: on the worker, after initialize

        reparser = self._reparsers.get(source.path)
        if reparser is None:
            reparser = self._reparsers[source.path] = Reparser()
        return _check(source, config, reparser)

    def _start(self, document: D, config: Config, delay: float) -> _Job:
        previous = self._jobs.get(document.uri)
        if previous is not None:
            previous.task.cancel()
        job = self._jobs[document.uri] = _Job(document.revision)
        job.task = asyncio.ensure_future(self._run(document, job, document.source(), config, delay))
        return job

    async def _run(self, document: D, job: _Job, source: Source, config: Config, delay: float) -> Linted:
        if delay:
            await asyncio.sleep(delay)
        job.started = True
        loop = asyncio.get_running_loop()
        linted = await loop.run_in_executor(self._worker, self._check, source, config)
        # Published no sooner than a burst's next change could come: one that comes replaces them.
        hold = self._changed.get(document.uri, float("-inf")) + DEBOUNCE - loop.time()
        if hold > 0:
            await asyncio.sleep(hold)
        give_up = loop.time() + _SETTLE
        while self._unread() and document.revision == job.revision and loop.time() < give_up:
            await asyncio.sleep(_SETTLE / 50)
        if document.revision == job.revision:
            self._publish(document, linted)
        return linted


def _check(source: Source, config: Config, reparser: Reparser | None = None) -> Linted:
    from initaudit.lint.run.engine import check_text
    from initaudit.lint.run.runner import collector_paused

    with collector_paused():
        try:
            diagnostics, _ = check_text(source.path, source.text, config, reparser)
        except Exception as error:  # a bug or a pathological buffer (RecursionError): log it, go on
            log.error("initaudit: cannot check %s: %s: %s", source.path, type(error).__name__, error)
            diagnostics = []
    return Linted(source, config, diagnostics)


def _fix(linted: Linted) -> str:
    from initaudit.lint.run.engine import fix_text
    from initaudit.lint.run.runner import collector_paused

    source = linted.source
    with collector_paused():
        try:
            return fix_text(source.path, source.text, linted.config)
        except Exception as error:  # as for _check: the text is then left as it is
            log.error("initaudit: cannot fix %s: %s: %s", source.path, type(error).__name__, error)
            return source.text


def _warm_up() -> None:
    from initaudit.catalogue import entries

    entries()
    _check(Source("warm_up.py", _WARM_UP), Config())
