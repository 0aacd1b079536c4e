"""One auditor case: ``model`` on a checkpoint, then ``model --fix --output`` into a fresh folder."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from tests.fuzz.runner import CommandRunner
from tests.fuzz.verdicts import (CODE_EXECUTED, HANG, WRITES_OUTSIDE, Verdict, changed_paths, executed,
                                 judge_process, snapshot)

#: Where a shard index may point with an absolute path: replaced by the case's own folder.
OUTSIDE = b"/OUTSIDE"


@dataclass(frozen=True)
class ModelCase:
    files: dict[str, bytes]  # relative to input/ ("../outside/x" lands next to it)
    target: str  # what `initaudit model` is given, relative to input/
    what: str
    full_disk: bool = False  # also --fix with too little room to write the fixed checkpoint


def write_checkpoint(case: ModelCase, root: Path) -> Path:
    """Write the case's files under ``root``; return the path to audit."""
    inputs = root / "input"
    inputs.mkdir(parents=True, exist_ok=True)
    for relative, data in case.files.items():
        path = (inputs / relative).resolve()
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data.replace(OUTSIDE, str(root / "outside").encode()))
    return inputs / case.target


def run_model_case(case: ModelCase, root: Path, runner: CommandRunner, *, cpu: float,
                   memory: int) -> list[Verdict]:
    target = write_checkpoint(case, root)
    for folder in ("cwd", "home", "tmp", "out"):
        (root / folder).mkdir()
    env = {"HOME": str(root / "home"), "TMPDIR": str(root / "tmp")}
    suffix = target.suffix if target.is_file() else ""
    output = root / "out" / f"fixed{suffix}"
    verdicts: list[Verdict] = []
    for options, allowed in (([], None), (["--fix", "--output", str(output)], output)):
        before = snapshot(root)
        argv = ["model", str(target), "--format", "json", *options]
        outcome = runner.run(argv, cwd=root / "cwd", env=env, cpu=cpu, memory=memory)
        label = "model --fix" if options else "model"
        process_verdicts = judge_process(outcome, json_stdout=True, cpu=cpu)
        verdicts += [Verdict(v.category, f"{label}: {v.cause}") for v in process_verdicts]
        ran = executed(root)
        if ran:
            verdicts.append(Verdict(CODE_EXECUTED, f"{label}: loading ran code ({ran[0]} exists)"))
        if ran or any(verdict.category == HANG for verdict in process_verdicts):
            break  # --fix would only do the same again
        stray = [path for path in changed_paths(before, snapshot(root))
                 if allowed is None or not _within(root / path, allowed)]
        if stray:
            verdicts.append(Verdict(WRITES_OUTSIDE, f"{label} wrote {', '.join(stray[:3])}"))
    else:
        if case.full_disk:
            verdicts += _fix_on_a_full_disk(target, root / "full", runner, env, cpu=cpu, memory=memory)
    return verdicts


#: Room on the full disk: less than the smallest fixed checkpoint, more than one error line.
FULL_DISK = 2048


def _fix_on_a_full_disk(target: Path, folder: Path, runner: CommandRunner, env: dict[str, str], *,
                        cpu: float, memory: int) -> list[Verdict]:
    """--fix where no file may grow past ``FULL_DISK`` bytes: exit 2 with one line and nothing
    left in the output's folder, or (nothing to write) the output alone."""
    folder.mkdir()
    output = folder / f"fixed{target.suffix if target.is_file() else ''}"
    outcome = runner.run(["model", str(target), "--fix", "--output", str(output)], cwd=folder, env=env,
                         cpu=cpu, memory=memory, fsize=FULL_DISK, discard_stdout=True)
    label = "model --fix onto a full disk"
    verdicts = [Verdict(v.category, f"{label}: {v.cause}") for v in judge_process(outcome, json_stdout=False, cpu=cpu)]
    left = sorted(path.name for path in folder.iterdir())
    if left not in ([], [output.name]) or (outcome.status == 2 and left):
        verdicts.append(Verdict(WRITES_OUTSIDE, f"{label} left {', '.join(left[:3])} (exit {outcome.status})"))
    return verdicts


def _within(path: Path, allowed: Path) -> bool:
    return path == allowed or allowed in path.parents
