"""Run ``initaudit`` commands through a pre-loaded zygote process (see ``zygote.py``)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

REPOSITORY = Path(__file__).resolve().parents[2]
ZYGOTE = Path(__file__).with_name("zygote.py")


@dataclass(frozen=True)
class Outcome:
    status: int  # negative: killed by that signal
    timed_out: bool  # past the wall-clock limit
    seconds: float
    cpu_seconds: float
    max_rss: int
    stdout: str
    stderr: str


class CommandRunner:
    """One zygote; ``run`` is not thread-safe, so give each worker thread its own runner."""

    def __init__(self, scratch: Path, *, with_torch: bool) -> None:
        self._scratch = scratch
        self._with_torch = with_torch
        self._process: subprocess.Popen[str] | None = None

    def _start(self) -> subprocess.Popen[str]:
        env = dict(os.environ)
        # The initaudit under test is the one in this repository, not an installed copy.
        env["PYTHONPATH"] = os.pathsep.join(filter(None, (str(REPOSITORY), env.get("PYTHONPATH"))))
        env["PYTHONWARNINGS"] = "ignore"
        command = [sys.executable, str(ZYGOTE), *(["--torch"] if self._with_torch else [])]
        process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                   text=True, env=env, cwd=REPOSITORY)
        assert process.stdout is not None
        if json.loads(process.stdout.readline() or "{}").get("ready") is not True:
            raise RuntimeError("the fuzz zygote did not start")
        return process

    def run(self, argv: list[str], *, cwd: Path, env: dict[str, str], cpu: float,
            memory: int | None, fsize: int | None = None, discard_stdout: bool = False) -> Outcome:
        """Run ``initaudit ARGV`` with ``cpu`` seconds of CPU time and four times that of wall
        time; ``fsize``: no file it writes may grow past that (a full disk), ``discard_stdout``:
        its standard output goes to the null device, where that limit does not apply."""
        if self._process is None or self._process.poll() is not None:
            self._process = self._start()
        self._scratch.mkdir(parents=True, exist_ok=True)
        stdout, stderr = self._scratch / "stdout", self._scratch / "stderr"
        job = {"argv": argv, "cwd": str(cwd), "env": env, "timeout": 4 * cpu, "cpu": cpu, "memory": memory,
               "stdout": os.devnull if discard_stdout else str(stdout), "stderr": str(stderr), "fsize": fsize}
        stdout.write_bytes(b"")
        assert self._process.stdin is not None and self._process.stdout is not None
        self._process.stdin.write(json.dumps(job) + "\n")
        self._process.stdin.flush()
        answer = json.loads(self._process.stdout.readline())
        return Outcome(answer["status"], answer["timed_out"], answer["seconds"], answer["cpu_seconds"],
                       answer["max_rss"],
                       stdout.read_text(errors="replace"), stderr.read_text(errors="replace"))

    def close(self) -> None:
        if self._process is not None:
            self._process.stdin.close()  # type: ignore[union-attr]
            self._process.wait(timeout=30)
            self._process = None
