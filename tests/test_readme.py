"""The README's examples run as written."""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text()


def section(title: str) -> str:
    heading = re.search(rf"^#+ {re.escape(title)}\n", README, re.MULTILINE)
    assert heading is not None, title
    start = heading.start()
    end = README.find("\n#", start + 1)
    return README[start: end if end != -1 else None]


def test_testing_models_example_runs() -> None:
    pytest.importorskip("torch")
    [code] = re.findall(r"```python\n(.*?)```", section("Testing models"), re.DOTALL)
    namespace: dict[str, object] = {"__name__": "readme_example"}
    exec(compile(code, "README.md", "exec"), namespace)
    namespace["test_model_is_well_initialized"]()  # type: ignore[operator]


# --- console blocks --------------------------------------------------------------------------

#: Commands the walkthrough may run (anything else in a `$` line is a mistake in the README).
_RUNNABLE = ("initaudit ",)


def _console_sessions() -> list[tuple[str, list[tuple[str, list[str]]]]]:
    """Each ```console block with `$` lines: (first command, [(command, expected lines)])."""
    sessions = []
    for block in re.findall(r"```console\n(.*?)```", README, re.DOTALL):
        commands: list[tuple[str, list[str]]] = []
        for line in block.splitlines():
            if line.startswith("$ "):
                commands.append((line[2:], []))
            elif commands:
                commands[-1][1].append(line)
        if commands:
            sessions.append((commands[0][0], commands))
    return sessions


def _matches(expected: list[str], actual: list[str]) -> bool:
    """Line by line; a line `...` stands for any number of lines, `...` inside a line for any
    text."""
    if not expected:
        return not actual
    head, rest = expected[0], expected[1:]
    if head == "...":
        return any(_matches(rest, actual[skip:]) for skip in range(len(actual) + 1))
    pattern = ".*".join(re.escape(part) for part in head.split("..."))
    return bool(actual) and re.fullmatch(pattern, actual[0]) is not None and _matches(rest, actual[1:])


def test_every_console_example_is_covered() -> None:
    sessions = _console_sessions()
    assert len(sessions) >= 5
    for _, commands in sessions:
        for command, _ in commands:
            assert command.startswith(_RUNNABLE), command


@pytest.mark.parametrize(("first", "commands"), _console_sessions(), ids=lambda value: value if isinstance(value, str) else "")
def test_console_examples_print_what_the_readme_shows(first: str, commands: list[tuple[str, list[str]]],
                                                        tmp_path: Path) -> None:
    """Each block runs in a fresh copy of examples/, its commands in order, as a user would
    type them (standard output and error together, no colour, 100 columns)."""
    if any(" model " in f" {command} " for command, _ in commands):
        pytest.importorskip("torch")
    shutil.copytree(ROOT / "examples", tmp_path / "examples")
    env = {**os.environ, "COLUMNS": "100", "NO_COLOR": "1", "PYTHONPATH": os.pathsep.join(
        [str(ROOT), os.environ.get("PYTHONPATH", "")])}
    env.pop("FORCE_COLOR", None)
    for command, expected in commands:
        argv = [sys.executable, "-m", "initaudit", *shlex.split(command)[1:]]
        done = subprocess.run(argv, cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                              text=True, timeout=300)
        assert done.returncode in (0, 1), f"$ {command}\n{done.stdout}"
        actual = [line.rstrip() for line in done.stdout.splitlines()]
        assert _matches([line.rstrip() for line in expected], actual), f"$ {command}\n{done.stdout}"
