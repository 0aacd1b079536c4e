"""Helpers shared by the tests, and the environment every test runs in."""

from __future__ import annotations

import os
import sys
import textwrap
from pathlib import Path
from typing import Iterator

import pytest

from initaudit import lint_source
from initaudit.diagnostics import Diagnostic

#: A model whose first layer gets Xavier although ReLU follows it: one IA103, at line 6 of the class.
XAVIER_BEFORE_RELU = """class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(4, 4)
        self.fc2 = nn.Linear(4, 2)
        nn.init.xavier_uniform_(self.fc1.weight)

    def forward(self, x):
        return self.fc2(F.relu(self.fc1(x)))
"""


@pytest.fixture(autouse=True, scope="session")
def _user_cache_directory(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """The key that signs cached results lives in the user's cache directory: the suite's (and
    its subprocesses') is a temporary one, never the real home's."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("XDG_CACHE_HOME", str(tmp_path_factory.mktemp("user-cache")))
        yield


#: Packages only the tests see (torchvision for the zoo: see the Makefile), next to the venv.
TEST_ONLY = Path(sys.prefix) / "test-only"


@pytest.fixture(autouse=True, scope="session")
def _test_only_packages() -> Iterator[None]:
    """The tests, and the processes they start, see the packages kept out of the venv."""
    if not TEST_ONLY.is_dir():
        yield
        return
    sys.path.append(str(TEST_ONLY))
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("PYTHONPATH", os.pathsep.join(filter(None, (os.environ.get("PYTHONPATH"), str(TEST_ONLY)))))
        yield


def lint(code: str, path: str = "model.py") -> list[Diagnostic]:
    return lint_source(textwrap.dedent(code), path)


def codes(code: str) -> list[str]:
    return [d.code for d in lint(code)]
