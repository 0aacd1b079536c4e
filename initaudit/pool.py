"""Work in worker processes (the linter's files, the shards of a sharded checkpoint): one task
that kills its worker does not stop the run, and an interrupted run leaves no worker behind."""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import signal
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Callable, Iterator, Sequence, TypeVar

_ORPHAN_CHECK_SECONDS = 0.5
T = TypeVar("T")
R = TypeVar("R")


def run_in_processes(function: Callable[[T], R], tasks: Sequence[T], workers: int, chunksize: int,
                     crashed: Callable[[T], R]) -> Iterator[R]:
    """``function(task)`` for each task, in order, on ``workers`` processes. When a worker dies
    (a crash in native code), the unfinished tasks are run again one at a time on a single
    worker, which tells the task that kills it: that one gives ``crashed(task)``."""
    pending = list(tasks)
    while pending:
        done = 0
        pool = ProcessPoolExecutor(max_workers=workers, initializer=_leave_signals_to_the_parent,
                                   initargs=(os.getpid(),))
        try:
            with _signals_held():
                chunks = [pool.submit(_run_chunk, function, pending[start:start + chunksize])
                          for start in range(0, len(pending), chunksize)]
            for chunk in chunks:
                for result in chunk.result():
                    done += 1
                    yield result
        except BrokenProcessPool:
            pool.shutdown(wait=True)
            if workers == 1:  # tasks run in order: the first unfinished one killed the worker
                yield crashed(pending[done])
                done += 1
            pending, workers, chunksize = pending[done:], 1, 1
            continue
        except BaseException:  # interrupted, or the caller stopped reading
            _stop(pool)
            raise
        pool.shutdown(wait=True)
        return


def _run_chunk(function: Callable[[T], R], tasks: Sequence[T]) -> list[R]:
    # Submitted chunk by chunk rather than through ``pool.map``, whose results iterator cancels
    # the futures left when it is closed: the pool's own thread then fails to mark them broken
    # once the workers are stopped, and prints a traceback (CPython 3.11).
    return [function(task) for task in tasks]


@contextlib.contextmanager
def _signals_held() -> Iterator[None]:
    """SIGINT and SIGTERM wait while the pool forks its workers (all of them, at the first task
    submitted): an exception a handler raised inside the interpreter's fork hooks would be
    ignored, the signal lost and a lock left held. They arrive as soon as this ends."""
    if not hasattr(signal, "pthread_sigmask"):
        yield
        return
    held = {signal.SIGINT, signal.SIGTERM}
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, held)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


def _leave_signals_to_the_parent(parent: int) -> None:
    # Ctrl-C reaches the whole process group: the parent alone decides and stops the workers,
    # which must die on SIGTERM rather than run the parent's handler. ``parent`` is the pid the
    # parent gave: one killed before this ran is already gone, and os.getppid() would name the
    # process that adopted this worker. The signals the parent held while forking are held
    # here too, until the handlers are set.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    if hasattr(signal, "pthread_sigmask"):
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT, signal.SIGTERM})
    threading.Thread(target=_exit_when_orphaned, args=(parent,), daemon=True).start()


def _exit_when_orphaned(parent: int) -> None:
    """A parent killed outright (SIGKILL, the out-of-memory killer) cannot stop its workers, and
    they would wait for tasks forever: each leaves once it has another parent."""
    while os.getppid() == parent:
        time.sleep(_ORPHAN_CHECK_SECONDS)
    os._exit(1)


def _stop(pool: ProcessPoolExecutor) -> None:
    """Terminate the workers now instead of waiting for the tasks they are on. The pool may have
    been interrupted while starting one, before it knew of it: every child process is a worker."""
    # Tasks still buffered for the workers can never be written once they are gone, and the
    # interpreter would wait at exit for the thread writing them: the queue is told not to
    # (taken before shutdown, which drops it).
    queue = getattr(pool, "_call_queue", None)
    if queue is not None:
        queue.cancel_join_thread()
    # Futures are left pending, not cancelled: the pool's own thread marks them broken once it
    # sees the workers gone.
    pool.shutdown(wait=False)
    processes = multiprocessing.active_children()
    for process in processes:
        process.terminate()
    for process in processes:
        process.join(timeout=5)
