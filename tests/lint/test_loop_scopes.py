"""A loop's iterable is read where Python evaluates it: before the loop binds its variable, so a
name there means what it meant around the loop (a helper that calls itself on the elements of a
list, each bound to the same name as its inner loop's variable)."""

from __future__ import annotations

from pathlib import Path

from tests.lint.test_binding_holders import findings

RECURSIVE_HELPER = """\
import torch.nn as nn


def init_all(model, std=0.01):
    if isinstance(model, list):
        for m in model:
            init_all(m, std)
    else:
        for m in model.modules():
            if isinstance(m, nn.Linear):
                m.weight.data.zero_()


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(4, 4)
        self.out = nn.Linear(4, 1)
        init_all(self)

    def forward(self, x):
        return self.out(self.fc(x).relu())
"""


def test_a_helper_called_on_its_own_loop_variable_is_checked(tmp_path: Path) -> None:
    # fc feeds relu: its zeroed weight is reported; out is the output (zero heads are fine).
    assert findings(tmp_path, {"net.py": RECURSIVE_HELPER}, "IA101") == [("net.py", 11, "IA101")]
