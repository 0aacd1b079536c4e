"""The composite GitHub Action (action.yml): its shape, and its shell steps run for real."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ACTION = Path(__file__).resolve().parent.parent / "action.yml"
BAD = "import torch.nn as nn\nnn.init.xavier_uniform(w)\n"


@pytest.fixture(scope="module")
def action() -> dict:
    return yaml.safe_load(ACTION.read_text())


def step(action: dict, name: str) -> dict:
    return next(s for s in action["runs"]["steps"] if s.get("name") == name)


def test_shape(action: dict) -> None:
    assert action["runs"]["using"] == "composite"
    assert {"paths", "args", "sarif"} <= set(action["inputs"])
    assert action["inputs"]["sarif"]["default"] == "false"
    install = step(action, "Install initaudit from this action's checkout")
    assert 'pip install --quiet "$GITHUB_ACTION_PATH"' in install["run"]
    assert "--output-format github" in step(action, "Check (annotations)")["run"]
    assert "--output-format sarif" in step(action, "Check (SARIF)")["run"]
    upload = step(action, "Upload SARIF")
    assert upload["uses"].startswith("github/codeql-action/upload-sarif@")
    assert upload["if"] == "inputs.sarif == 'true'"
    for s in action["runs"]["steps"]:
        assert "uses" in s or s.get("shell") == "bash"  # composite run steps need a shell
        # Inputs reach scripts through env only, never pasted into the script text.
        assert "${{" not in s.get("run", "")


def test_every_input_used_exists(action: dict) -> None:
    used = set(re.findall(r"inputs\.([\w-]+)", ACTION.read_text()))
    assert used == set(action["inputs"])


def run_step(action: dict, name: str, tmp_path: Path, inputs: dict[str, str]) -> tuple[int, str, str]:
    """Run one step's script with bash as the runner would, ``initaudit`` on PATH."""
    shim = tmp_path / "bin"
    shim.mkdir(exist_ok=True)
    (shim / "initaudit").write_text(f"#!/bin/sh\nexec {sys.executable} -m initaudit \"$@\"\n")
    (shim / "initaudit").chmod(0o755)
    github_env = tmp_path / "github_env"
    github_env.write_text("")
    env = {**os.environ, "PATH": f"{shim}{os.pathsep}{os.environ['PATH']}", "GITHUB_ENV": str(github_env),
           "PYTHONPATH": str(ACTION.parent)}
    s = step(action, name)
    for key, value in s.get("env", {}).items():
        env[key] = inputs[re.fullmatch(r"\$\{\{ inputs\.([\w-]+) \}\}", value).group(1)]
    result = subprocess.run(["bash", "-e", "-c", s["run"]], cwd=tmp_path, env=env, capture_output=True,
                            text=True, timeout=120)
    return result.returncode, result.stdout, github_env.read_text()


def test_annotation_step(action: dict, tmp_path: Path) -> None:
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "a.py").write_text(BAD)
    status, stdout, _ = run_step(action, "Check (annotations)", tmp_path,
                                 {"paths": "src", "args": "--select IA1"})
    assert status == 1 and stdout.startswith("::warning file=src/a.py,line=2,")


def test_sarif_step_keeps_going_on_findings(action: dict, tmp_path: Path) -> None:
    (tmp_path / "a.py").write_text(BAD)
    inputs = {"paths": "a.py", "args": "", "sarif-file": "out.sarif"}
    status, _, github_env = run_step(action, "Check (SARIF)", tmp_path, inputs)
    assert status == 0 and github_env.strip() == "INITAUDIT_STATUS=1"
    [result] = json.loads((tmp_path / "out.sarif").read_text())["runs"][0]["results"]
    assert result["ruleId"] == "IA104"
    status, _, _ = run_step(action, "Check (SARIF)", tmp_path, {**inputs, "paths": "missing.py"})
    assert status == 2  # an error still fails the step


def test_readme_workflow_uses_the_action_as_it_is(action: dict) -> None:
    readme = (ACTION.parent / "README.md").read_text()
    section = readme[readme.index("### CI (GitHub Actions)"):]
    workflow = yaml.safe_load(re.search(r"```yaml\n(.*?)```", section, re.DOTALL).group(1))
    [job] = workflow["jobs"].values()
    [usage] = [s for s in job["steps"] if s.get("uses", "").startswith("./")]
    assert set(usage["with"]) <= set(action["inputs"])
    assert all(s["uses"].startswith(("./", "actions/")) for s in job["steps"])  # nothing unpublished
