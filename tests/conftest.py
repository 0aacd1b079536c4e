"""Helpers shared by the linter tests."""

from __future__ import annotations

import textwrap
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


def lint(code: str, path: str = "model.py") -> list[Diagnostic]:
    return lint_source(textwrap.dedent(code), path)


def codes(code: str) -> list[str]:
    return [d.code for d in lint(code)]
