"""The pre-commit hook, installed the way pre-commit installs it, in its own environment."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def git(cwd: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True)


@pytest.mark.skipif(shutil.which("git") is None, reason="needs git")
def test_hook_fails_on_bad_file_and_passes_on_clean_one(tmp_path: Path) -> None:
    project = tmp_path / "project"
    project.mkdir()
    git(project, "init", "-q")
    (project / "bad.py").write_text("import torch.nn as nn\nnn.init.kaiming_normal(w)\n")
    (project / "clean.py").write_text("import torch.nn as nn\nnn.init.kaiming_normal_(w)\n")
    git(project, "add", ".")
    env = {**os.environ, "PRE_COMMIT_HOME": str(tmp_path / "cache"), "SKIP": ""}

    def try_repo(*files: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "pre_commit", "try-repo", str(ROOT), "initaudit", "--files", *files],
            cwd=project, env=env, capture_output=True, text=True, timeout=600,
        )

    failing = try_repo("bad.py")
    assert failing.returncode == 1, failing.stdout + failing.stderr
    assert "IA104" in failing.stdout
    passing = try_repo("clean.py")
    assert passing.returncode == 0, passing.stdout + passing.stderr


@pytest.mark.skipif(shutil.which("git") is None, reason="needs git")
def test_the_readme_configuration_runs_as_written(tmp_path: Path) -> None:
    """The README's `.pre-commit-config.yaml`, copied as it is, with the initaudit of this
    environment on the PATH (as after `pip install` of a clone)."""
    readme = (ROOT / "README.md").read_text()
    section = readme[readme.index("### pre-commit"):readme.index("### CI (GitHub Actions)")]
    config = section.split("```yaml\n", 1)[1].split("```", 1)[0]
    project = tmp_path / "project"
    project.mkdir()
    git(project, "init", "-q")
    (project / ".pre-commit-config.yaml").write_text(config)
    (project / "bad.py").write_text("import torch.nn as nn\nnn.init.kaiming_normal(w)\n")
    (project / "clean.py").write_text("import torch.nn as nn\nnn.init.kaiming_normal_(w)\n")
    git(project, "add", ".")
    env = {**os.environ, "PRE_COMMIT_HOME": str(tmp_path / "cache"), "SKIP": "",
           "PATH": os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])}

    def run(*files: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "pre_commit", "run", "--files", *files], cwd=project,
                              env=env, capture_output=True, text=True, timeout=600)

    failing = run("bad.py")
    assert failing.returncode == 1 and "IA104" in failing.stdout, failing.stdout + failing.stderr
    passing = run("clean.py")
    assert passing.returncode == 0, passing.stdout + passing.stderr
