"""One linter case: ``check`` on a file, then ``check --fix`` twice on a copy, and the verdicts."""

from __future__ import annotations

import difflib
import io
import json
import os
import re
import tokenize
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.fuzz.runner import CommandRunner
from tests.fuzz.verdicts import (CODE_EXECUTED, CRASH, FIX_DAMAGE, HANG, READS_OUTSIDE, WRITES_OUTSIDE, Verdict,
                                 changed_paths, executed, judge_process, snapshot)

BOM = b"\xef\xbb\xbf"


@dataclass(frozen=True)
class LintCase:
    name: str  # file name, .py or .ipynb
    data: bytes
    unsafe: bool  # --unsafe-fixes
    link: bool  # the fixed copy is reached through a symlink
    mode: int
    what: str  # the mutations applied
    checkout: bool = False  # also checked inside a hostile checkout (links and a cache leading out)
    full_disk: bool = False  # also fixed with too little room to write the fixed file


def run_lint_case(case: LintCase, root: Path, runner: CommandRunner, *, cpu: float,
                  memory: int) -> tuple[list[Verdict], bool]:
    """Run the case in the empty directory ``root``: what went wrong, and whether --fix changed
    the file."""
    for folder in ("input", "fix/real", "cwd", "home", "tmp"):
        (root / folder).mkdir(parents=True)
    original = root / "input" / case.name
    original.write_bytes(case.data)
    fixed = root / "fix" / case.name
    real = root / "fix" / "real" / case.name if case.link else fixed
    real.write_bytes(case.data)
    os.chmod(real, case.mode)
    if case.link:
        fixed.symlink_to(Path("real") / case.name)
    env = {"HOME": str(root / "home"), "TMPDIR": str(root / "tmp")}

    def check(path: Path, *options: str) -> tuple[list[Verdict], dict[str, Any] | None]:
        argv = ["check", "--no-cache", "--format", "json", *options, str(path)]
        outcome = runner.run(argv, cwd=root / "cwd", env=env, cpu=cpu, memory=memory)
        verdicts = judge_process(outcome, json_stdout=True, cpu=cpu)
        if verdicts:
            label = " ".join(["check", *options])
            return [Verdict(v.category, f"{label}: {v.cause}") for v in verdicts], None
        return [], json.loads(outcome.stdout)

    before = snapshot(root)
    verdicts, report = check(original)
    stray = changed_paths(before, snapshot(root))
    if stray:
        verdicts.append(Verdict(WRITES_OUTSIDE, f"check without --fix wrote {', '.join(stray[:3])}"))
    if any(verdict.category == HANG for verdict in verdicts):
        return verdicts, False  # --fix would only hang as well
    fix_options = ("--fix", "--unsafe-fixes") if case.unsafe else ("--fix",)
    before = snapshot(root)
    fix_verdicts, _ = check(fixed, *fix_options)
    verdicts += fix_verdicts
    once = fixed.read_bytes()
    if case.link and (not fixed.is_symlink() or os.readlink(fixed) != str(Path("real") / case.name)):
        verdicts.append(Verdict(FIX_DAMAGE, "the symlink was replaced by a file"))
    if (fixed.stat().st_mode & 0o7777) != case.mode:
        verdicts.append(Verdict(FIX_DAMAGE, f"mode {case.mode:o} became {fixed.stat().st_mode & 0o7777:o}"))
    if not fix_verdicts and report is not None and once != case.data:
        verdicts += [Verdict(FIX_DAMAGE, problem) for problem in _fix_damage(case, report, once)]
        again_verdicts, _ = check(fixed, *fix_options)
        verdicts += again_verdicts
        if not again_verdicts and fixed.read_bytes() != once:
            verdicts.append(Verdict(FIX_DAMAGE, "a second --fix changed the file again"))
    allowed = {str(real.relative_to(root)), str(fixed.relative_to(root))}  # a lost link is fix damage
    stray = [path for path in changed_paths(before, snapshot(root)) if path not in allowed]
    if stray:
        verdicts.append(Verdict(WRITES_OUTSIDE, f"check {' '.join(fix_options)} left {', '.join(stray[:3])}"))
    if case.checkout:
        verdicts += _hostile_checkout(case, root / "checkout", runner, cpu=cpu, memory=memory)
    if case.full_disk and once != case.data and not fix_verdicts:
        verdicts += _fix_on_a_full_disk(case, root / "full", once, runner, cpu=cpu, memory=memory)
    ran = executed(root)
    if ran:
        verdicts.append(Verdict(CODE_EXECUTED, f"the checked code ran: {ran[0]} exists"))
    return verdicts, once != case.data


#: Text of the file a hostile checkout's links lead to: it must never be read into a report.
SECRET = b"SECRET-7f3a: not part of the checked tree\nimport torch.nn as nn\nnn.init.normal(w)\n"


def _hostile_checkout(case: LintCase, root: Path, runner: CommandRunner, *, cpu: float,
                      memory: int) -> list[Verdict]:
    """The case's file in a checkout whose links lead out: a source file linked to an outside
    file, and a results cache linked to an outside directory. Neither may be read, written or
    deleted, with the cache on, with --fix and with --add-noqa."""
    tree, outside = root / "tree", root / "outside"
    (outside / "cache").mkdir(parents=True)
    tree.mkdir()
    (tree / "pyproject.toml").write_text("[tool.initaudit]\n")
    (tree / case.name).write_bytes(case.data)
    (outside / "secret.py").write_bytes(SECRET)
    (outside / "cache" / "results-0.json").write_text("{}")
    (tree / "leak.py").symlink_to(outside / "secret.py")
    (tree / ".initaudit_cache").symlink_to(outside / "cache")
    verdicts: list[Verdict] = []
    for options in ((), ("--fix", "--unsafe-fixes"), ("--add-noqa",)):
        before = snapshot(outside)
        outcome = runner.run(["check", "--format", "json", *options, str(tree)], cwd=root, cpu=cpu, memory=memory,
                             env={"HOME": str(root), "XDG_CACHE_HOME": str(root / "user-cache")})
        label = " ".join(["check (hostile checkout)", *options])
        verdicts += [Verdict(v.category, f"{label}: {v.cause}")
                     for v in judge_process(outcome, json_stdout=not options, cpu=cpu)]
        if SECRET.split(b":")[0].decode() in outcome.stdout + outcome.stderr:
            verdicts.append(Verdict(READS_OUTSIDE, f"{label} printed the text of a file outside the tree"))
        changed = changed_paths(before, snapshot(outside))
        if changed:
            verdicts.append(Verdict(WRITES_OUTSIDE, f"{label} changed {', '.join(changed[:3])} outside the tree"))
    return verdicts


def _fix_on_a_full_disk(case: LintCase, root: Path, fixed: bytes, runner: CommandRunner, *, cpu: float,
                        memory: int) -> list[Verdict]:
    """--fix where no file may grow past half the case's size: the file stays as it was, or is
    fixed whole; nothing is left beside it, and a write that failed is exit 2."""
    root.mkdir()
    path = root / case.name
    path.write_bytes(case.data)
    limit = max(len(case.data) // 2, 1024)
    fix_options = ("--fix", "--unsafe-fixes") if case.unsafe else ("--fix",)
    outcome = runner.run(["check", "--no-cache", "-q", *fix_options, "-o", os.devnull, str(path)], cwd=root,
                         env={}, cpu=cpu, memory=memory, fsize=limit, discard_stdout=True)
    label = f"check {' '.join(fix_options)} onto a full disk"
    verdicts = [Verdict(v.category, f"{label}: {v.cause}") for v in judge_process(outcome, json_stdout=False, cpu=cpu)]
    after = path.read_bytes()
    if after not in (case.data, fixed):
        verdicts.append(Verdict(FIX_DAMAGE, f"{label} left a partly written file"))
    left = sorted(p.name for p in root.iterdir() if p != path)
    if left:
        verdicts.append(Verdict(WRITES_OUTSIDE, f"{label} left {', '.join(left[:3])}"))
    if after == case.data and len(fixed) > limit and outcome.status != 2:
        verdicts.append(Verdict(CRASH, f"{label}: the write failed but the exit status is {outcome.status}"))
    return verdicts


def _fix_damage(case: LintCase, report: dict[str, Any], after: bytes) -> list[str]:
    """What the fix changed that the fixes reported by ``check`` (``report``) do not explain."""
    applicable = [d for d in report.get("diagnostics", [])
                  if d.get("fix") and (case.unsafe or d["fix"].get("applicability") == "safe")]
    if not applicable:
        return ["changed although no applicable fix was reported"]
    if case.name.endswith(".ipynb"):
        return _notebook_damage(case.data, after, {d.get("cell") for d in applicable})
    return _source_damage(case.data, after, applicable)


# ----------------------------------------------------------------------------- Python files


def _compiles(data: bytes) -> bool:
    try:
        compile(data, "<fuzz>", "exec", dont_inherit=True)
    except Exception:  # SyntaxError, ValueError, RecursionError, MemoryError, LookupError...
        return False
    return True


def _encoding(data: bytes) -> str:
    try:
        return tokenize.detect_encoding(io.BytesIO(data).readline)[0]
    except SyntaxError as error:
        return f"error: {error.msg}"


def _source_damage(before: bytes, after: bytes, applicable: list[dict[str, Any]]) -> list[str]:
    problems = []
    if _compiles(before) and not _compiles(after):
        problems.append("the fixed file no longer compiles")
    if before.startswith(BOM) != after.startswith(BOM) or _encoding(before) != _encoding(after):
        problems.append(f"encoding changed: {_encoding(before)} -> {_encoding(after)}")
    spans = set()
    for diagnostic in applicable:
        spans.update(range(diagnostic["line"], diagnostic["end_line"] + 1))
        for edit in diagnostic["fix"].get("edits") or []:
            spans.update(range(edit["location"]["row"], edit["end_location"]["row"] + 1))
    outside = _changes_outside(before.splitlines(keepends=True), after.splitlines(keepends=True), spans)
    if outside:
        problems.append(outside)
    return problems


def _terminator(line: bytes) -> bytes:
    return line[len(line.rstrip(b"\r\n")):]


def _unrenamed(line: bytes) -> bytes:
    """The line with the deprecated-alias renames undone (``xavier_uniform_`` -> ``xavier_uniform``)."""
    return re.sub(rb"(\w)_\b", rb"\1", line)


def _changes_outside(old: list[bytes], new: list[bytes], spans: set[int]) -> str | None:
    """Where the fix changed bytes that no reported fix covers, or line endings it should keep."""
    head = 0
    while head < min(len(old), len(new)) and old[head] == new[head]:
        head += 1
    tail = 0
    while tail < min(len(old), len(new)) - head and old[-1 - tail] == new[-1 - tail]:
        tail += 1
    old_middle, new_middle = old[head:len(old) - tail], new[head:len(new) - tail]
    endings = {_terminator(line) for line in old} | {b""}
    matcher = difflib.SequenceMatcher(None, old_middle, new_middle, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            continue
        if tag == "replace" and i2 - i1 == j2 - j1:  # line by line
            for number, before, after in zip(range(head + i1 + 1, head + i2 + 1),
                                             old_middle[i1:i2], new_middle[j1:j2]):
                if _terminator(before) != _terminator(after):
                    return f"line {number}: line ending {_terminator(before)!r} became {_terminator(after)!r}"
                if number not in spans and _unrenamed(before) != _unrenamed(after):
                    return f"line {number} changed outside the reported fixes: {before[:80]!r} -> {after[:80]!r}"
            continue
        # Lines removed, or the two lines around an insertion: all inside the reported fixes.
        lines = range(head + i1 + 1, head + i2 + 1) if i2 > i1 else range(head + i1, head + i1 + 2)
        if not all(line in spans for line in lines):
            return f"lines {lines.start}-{lines.stop - 1} changed outside the reported fixes"
        written = {_terminator(line) for line in new_middle[j1:j2]}
        if not written <= endings:
            return f"line ending {sorted(written - endings)} written into a file that has only {sorted(endings)}"
    return None


# ----------------------------------------------------------------------------- notebooks


def _notebook_damage(before: bytes, after: bytes, cells: set[int | None]) -> list[str]:
    """Everything but the sources of the fixed cells must stay, key order and final newline too."""
    try:
        old = json.loads(before, object_pairs_hook=tuple)
    except ValueError:
        return ["a notebook that is not valid JSON was changed"]
    try:
        new = json.loads(after, object_pairs_hook=tuple)
    except ValueError:
        return ["the fixed notebook is not valid JSON"]
    problems = []
    if _masked(old, cells) != _masked(new, cells):
        problems.append("the fix changed the notebook outside the sources of the fixed cells")
    if before.endswith(b"\n") != after.endswith(b"\n"):
        problems.append("the final newline changed")
    endings = {_terminator(line) for line in before.splitlines(keepends=True)}
    if not {_terminator(line) for line in after.splitlines(keepends=True)} <= endings | {b""}:
        problems.append("line endings changed")
    if after.startswith(BOM) != before.startswith(BOM):
        problems.append("the byte order mark changed")
    return problems


def _masked(notebook: Any, cells: set[int | None]) -> Any:
    """The notebook (objects as tuples of key/value pairs, so key order counts) with the source
    of each fixed cell replaced by its type."""
    if not isinstance(notebook, tuple):
        return notebook
    masked = []
    for key, value in notebook:
        if key == "cells" and isinstance(value, list):
            value = [_mask_cell(cell) if number in cells else cell for number, cell in enumerate(value, 1)]
        masked.append((key, value))
    return masked


def _mask_cell(cell: Any) -> Any:
    if not isinstance(cell, tuple):
        return cell
    return [(key, type(value).__name__ if key == "source" else value) for key, value in cell]
