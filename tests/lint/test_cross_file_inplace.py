"""IA107 on a helper of another file that ``self.apply`` runs: what the helper writes through
(``.data``) is read where the helper is written, not from the call that applies it."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.lint.selection import selecting
from tests.lint.test_project import findings, write

#: IA107 selected alone: no other rule's finding on these helpers can change a case.
IA107 = selecting("IA107")

MLP = """
import torch.nn as nn
from policy import weight_init

class MLP(nn.Module):
    def __init__(self):
        super().__init__()
        self.l1 = nn.Linear(4, 4)
        self.apply(weight_init)

    def forward(self, x):
        return self.l1(x)
"""
POLICY = """
import torch
import torch.nn as nn

def weight_init(module):
    if isinstance(module, nn.Linear):
        nn.init.xavier_uniform_(module.weight)
        {bias}
"""


@pytest.mark.parametrize("bias", ["module.bias.data.zero_()", "module.bias.detach().zero_()",
                                  "module.bias.data.fill_(0.01)", "nn.init.zeros_(module.bias)"])
def test_a_helper_writing_through_data_in_another_file_is_no_error(tmp_path: Path, bias: str) -> None:
    root = write(tmp_path, {"mlp.py": MLP, "policy.py": POLICY.format(bias=bias)})
    assert findings([root], config=IA107) == []


def test_a_helper_writing_in_place_in_another_file_is_reported_at_the_apply_and_at_the_helper(tmp_path: Path) -> None:
    """At the apply, as every cross-file finding is; at the helper too, whose class test fixes
    what it writes (so a run over the helper's file alone shows it)."""
    root = write(tmp_path, {"mlp.py": MLP, "policy.py": POLICY.format(bias="module.bias.zero_()")})
    found = findings([root], config=IA107)
    assert [(name, line, code) for name, line, code, _ in found] == [("mlp.py", 9, "IA107"), ("policy.py", 8, "IA107")]
    assert all(message.startswith("`module.bias.zero_(...)` modifies a Parameter that requires grad in place")
               for *_, message in found)


def test_the_same_helper_in_one_file_agrees(tmp_path: Path) -> None:
    one_file = POLICY.format(bias="module.bias.data.zero_()") + MLP.replace("from policy import weight_init\n", "")
    root = write(tmp_path, {"mlp.py": one_file})
    assert findings([root], config=IA107) == []
