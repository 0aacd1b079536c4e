"""A pre-loaded Python that forks one child per command, so a run skips interpreter start-up.

Run as a script; it reads one JSON job per line on stdin and answers one JSON line per job:
``{"argv": [...], "cwd": DIR, "stdout": FILE, "stderr": FILE, "env": {...}, "timeout": S,
"cpu": S, "memory": BYTES, "fsize": BYTES (optional: the largest file it may write)}`` -> ``{"status": EXIT, "timed_out": BOOL, "seconds": S,
"cpu_seconds": S, "max_rss": BYTES}``. A child runs ``python -m initaudit ARGV`` in its own
session, so a timeout kills all it started. EXIT is negative for a child killed by a signal, as
with subprocess. CPU time is limited too (SIGXCPU): unlike wall time, it does not depend on how
busy the machine is.
"""

from __future__ import annotations

import json
import math
import os
import resource
import runpy
import signal
import sys
import tempfile
import time
import traceback
import warnings


def preload(with_torch: bool) -> None:
    import initaudit.cli  # noqa: F401
    import initaudit.lint.run.engine  # noqa: F401

    if with_torch:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            import initaudit.auditor.fix.fixer  # noqa: F401
            import initaudit.auditor.pipeline  # noqa: F401


def child(job: dict) -> None:
    """In the forked child: become ``python -m initaudit ARGV`` and never return."""
    os.setsid()
    if job.get("memory"):
        resource.setrlimit(resource.RLIMIT_AS, (job["memory"], job["memory"]))
    if job.get("cpu"):
        seconds = math.ceil(job["cpu"])
        resource.setrlimit(resource.RLIMIT_CPU, (seconds, seconds + 1))
    if job.get("fsize") is not None:  # a full disk: a write past it fails with EFBIG
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (job["fsize"], job["fsize"]))
    os.chdir(job["cwd"])
    os.environ.update(job.get("env", {}))
    tempfile.tempdir = None  # re-read TMPDIR
    stdin = os.open(os.devnull, os.O_RDONLY)
    stdout = os.open(job["stdout"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    stderr = os.open(job["stderr"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    for source, target in ((stdin, 0), (stdout, 1), (stderr, 2)):
        os.dup2(source, target)
        os.close(source)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    sys.argv = ["initaudit", *job["argv"]]
    status = 0
    try:
        runpy.run_module("initaudit", run_name="__main__", alter_sys=True)
    except SystemExit as exit_:
        status = _exit_status(exit_.code)
    except BaseException:  # what the interpreter does with an uncaught exception
        traceback.print_exc()
        status = 1
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    finally:
        os._exit(status)


def _exit_status(code: object) -> int:
    if code is None:
        return 0
    if isinstance(code, int):
        return code & 0xFF
    print(code, file=sys.stderr)
    return 1


def supervise(job: dict) -> dict:
    sys.stdout.flush()
    started = time.monotonic()
    pid = os.fork()
    if pid == 0:
        try:
            child(job)
        finally:
            os._exit(70)
    deadline = started + job["timeout"]
    timed_out = False
    while True:
        waited, wait_status, usage = os.wait4(pid, os.WNOHANG)
        if waited:
            break
        if time.monotonic() > deadline:
            timed_out = True
            os.killpg(pid, signal.SIGKILL)
            waited, wait_status, usage = os.wait4(pid, 0)
            break
        time.sleep(0.002)
    try:
        os.killpg(pid, signal.SIGKILL)  # whatever the child left running
    except ProcessLookupError:
        pass
    return {"status": os.waitstatus_to_exitcode(wait_status), "timed_out": timed_out,
            "seconds": time.monotonic() - started, "cpu_seconds": usage.ru_utime + usage.ru_stime,
            "max_rss": usage.ru_maxrss * 1024}


def main() -> None:
    preload(with_torch="--torch" in sys.argv[1:])
    print(json.dumps({"ready": True}), flush=True)
    for line in sys.stdin:
        print(json.dumps(supervise(json.loads(line))), flush=True)


if __name__ == "__main__":
    main()
