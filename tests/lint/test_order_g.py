"""``Module.apply`` runs its function on every module inside the receiver first and on the
receiver itself last: a branch that loops over the module's parameters, taken for the
receiver's class, writes every layer again after the branches taken for the layers."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import lint
from tests.lint.test_project import findings, write

APPLIED = '''
import math

import torch.nn as nn


def init_weights(module):
    if {test}:
        module.weight.data.normal_(0, 1)
    else:
        for p in module.parameters():
            if p.dim() == 1:
                p.data.zero_()
            elif p.dim() == 2:
                p.data.normal_(0, 1. / math.sqrt(p.size(1)))


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.embed = nn.Embedding(10, 8)
        self.out = nn.Linear(8, 10)
        self.apply(init_weights)

    def forward(self, y):
        return self.out(self.embed(y))
'''


def _ia111(test: str) -> list[tuple[int, str]]:
    return [(d.line, d.message) for d in lint(APPLIED.format(test=test)) if d.code == "IA111"]


def test_the_receivers_visit_rewrites_what_the_layers_visits_wrote() -> None:
    """``Net`` is no Embedding: its own visit, the last, draws the table again (line 15)."""
    found = _ia111("type(module) == nn.Embedding")
    assert [line for line, _ in found] == [9]
    assert "line 15" in found[0][1]


def test_a_loop_taken_only_for_other_classes_never_visits_the_receiver() -> None:
    """The loop runs for Linear layers alone: the table keeps its draw."""
    assert _ia111("not isinstance(module, nn.Linear)") == []


HELPER = """\
import math
from torch import nn


def init_weights(module):
    if {test}:
        module.weight.data.normal_(0, 1)
    else:
        for p in module.parameters():
            if p.dim() == 1:
                p.data.zero_()
            elif p.dim() == 2:
                p.data.normal_(0, 1. / math.sqrt(p.size(1)))
            elif p.dim() == 4:
                p.data.normal_(0, 1. / math.sqrt(p[0].numel()))
"""

MODEL = """\
import torch.nn as nn

from util import init_weights


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(1, 8, 3)
        self.embed = nn.Embedding(10, 8)
        self.out = nn.Linear(8, 10)
        self.apply(init_weights)

    def forward(self, x, y):
        return self.out(self.conv(x).mean((2, 3)) + self.embed(y))
"""


@pytest.mark.parametrize(("test", "expected"), [
    ("type(module) == nn.Embedding", [("net.py", 12)]),
    ("not isinstance(module, nn.Linear)", []),
])
def test_an_imported_helper_applied_is_reported_at_the_call(tmp_path: Path, test: str,
                                                            expected: list[tuple[str, int]]) -> None:
    """The helper's branch for the table is voided by its loop over the parameters of ``Net``,
    which ``apply`` visits last; the finding is at the call, naming the voided draw."""
    root = write(tmp_path, {"pyproject.toml": "", "util.py": HELPER.format(test=test), "net.py": MODEL})
    found = [(name, line, message) for name, line, code, message in findings([root]) if code == "IA111"]
    assert [(name, line) for name, line, _ in found] == expected
    assert all("util.py:7" in message for _, _, message in found)
