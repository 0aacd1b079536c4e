"""The public API is typed for its users: code calling it passes ``mypy --strict``, and a wrong
call fails it (the package ships ``py.typed``)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

USES = '''
from pathlib import Path
from typing import Callable

import initaudit
from initaudit.auditor.results import AuditReport
from initaudit.diagnostics import Diagnostic
from initaudit.testing import assert_well_initialized


def check_source() -> list[Diagnostic]:
    return initaudit.lint_source("import torch.nn as nn\\n", "m.py")


def check_paths() -> int:
    return len(initaudit.lint_paths([Path("src")], jobs=1).results)


def audit_model(model: object, factory: Callable[[], object]) -> bool:
    report: AuditReport = initaudit.audit(model)
    again: AuditReport = initaudit.audit(factory, input_shape=(2, 4), seed=1)
    return report.ok and again.exit_code == 0 and assert_well_initialized(model, ignore=["IA207"]).ok


def version() -> str:
    return initaudit.__version__
'''
MISUSES = '''
import initaudit

count: int = initaudit.lint_source(1, "m.py")
'''


def _mypy(tmp_path: Path, source: str) -> subprocess.CompletedProcess[str]:
    pytest.importorskip("mypy")
    (tmp_path / "user.py").write_text(source)
    return subprocess.run([sys.executable, "-m", "mypy", "--strict", "--follow-imports=silent", "--cache-dir",
                           str(tmp_path / "cache"), "user.py"], cwd=tmp_path, capture_output=True, text=True,
                          timeout=600)


def test_code_using_the_public_api_passes_mypy_strict(tmp_path: Path) -> None:
    checked = _mypy(tmp_path, USES)
    assert checked.returncode == 0, checked.stdout


def test_a_wrong_call_fails_it(tmp_path: Path) -> None:
    checked = _mypy(tmp_path, MISUSES)
    assert checked.returncode == 1
    assert 'Argument 1 to "lint_source" has incompatible type "int"' in checked.stdout
    assert '"list[Diagnostic]", variable has type "int"' in checked.stdout
