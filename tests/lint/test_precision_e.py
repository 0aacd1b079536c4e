"""A near-zero gain on the last layer of a residual branch (IA112), a helper that tests only
``hasattr`` read alone (IA114), and a helper handed ``w.data`` by its call (IA107)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.lint.selection import lint_selected, selecting
from tests.lint.test_project import findings, write


def lines(code: str, rule: str) -> list[int]:
    return sorted(d.line for d in lint_selected(code, rule))


# ---------------------------------------------------------------- IA112: residual ends

ATTENTION = """\
import torch.nn as nn
from torch.nn import init


class Attention(nn.Module):
    def __init__(self, ch):
        super().__init__()
        self.norm = nn.GroupNorm(8, ch)
        self.qkv = nn.Conv2d(ch, ch, 1)
        self.proj = nn.Conv2d(ch, ch, 1)
        init.xavier_uniform_(self.proj.weight, gain=1e-5)

    def forward(self, x):
        h = self.proj(self.qkv(self.norm(x)))
        return {returned}


class Block(nn.Module):
    def __init__(self, ch):
        super().__init__()
        self.body = nn.Sequential(nn.GroupNorm(8, ch), nn.SiLU(), nn.Conv2d(ch, ch, 3, padding=1))
        self.attn = Attention(ch)
        init.xavier_uniform_(self.body[-1].weight, gain=1e-5)

    def forward(self, x):
        h = self.body(x)
        h = {summed}
        return self.attn(h)
"""


def test_a_tiny_gain_ending_a_residual_branch_is_the_identity_start() -> None:
    # In a block another class builds (``x + h`` on the way out) and in the class that builds it.
    assert lines(ATTENTION.format(returned="x + h", summed="h + x"), "IA112") == []


def test_a_tiny_gain_on_a_layer_that_ends_no_residual_branch_is_reported() -> None:
    # (Read in Block, the block's output is the model's: a head there, not at its own line.)
    assert lines(ATTENTION.format(returned="h", summed="h + x"), "IA112") == [11]
    assert lines(ATTENTION.format(returned="x + h", summed="h"), "IA112") == [23]


def test_a_residual_sum_feeding_another_layer_leaves_the_layer_before_it_alone() -> None:
    code = """\
        import torch.nn as nn
        from torch.nn import init


        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.a = nn.Linear(8, 8)
                self.b = nn.Linear(8, 8)
                init.xavier_uniform_(self.a.weight, gain=1e-5)

            def forward(self, x):
                return self.b({inner})
    """
    assert lines(code.format(inner="self.a(x) + x"), "IA112") == []
    assert lines(code.format(inner="self.a(x)"), "IA112") == [10]


def test_a_zero_residual_end_of_a_block_built_elsewhere_stays_quiet() -> None:
    code = ATTENTION.format(returned="x + h", summed="h + x").replace(
        "init.xavier_uniform_(self.proj.weight, gain=1e-5)", "init.zeros_(self.proj.weight)")
    assert lines(code, "IA101") == []


# ---------------------------------------------------------------- IA114: what a helper's test names

HELPER = """\
import math
import torch
import torch.nn as nn


def sine_init(m):
    with torch.no_grad():
        if {test}:
            n = m.weight.size(-1)
            m.weight.uniform_(-math.sqrt(6 / n) / 30, math.sqrt(6 / n) / 30)
"""


@pytest.mark.parametrize("test", ["hasattr(m, 'weight')", "m.weight.dim() >= 1", "not isinstance(m, nn.Linear)"])
def test_a_helper_testing_what_a_module_holds_is_no_norm_init_alone(test: str) -> None:
    assert lines(HELPER.format(test=test), "IA114") == []


@pytest.mark.parametrize("test", ["isinstance(m, nn.LayerNorm)", "isinstance(m, (nn.Linear, nn.BatchNorm1d))",
                                  "hasattr(m, 'weight') and isinstance(m, nn.LayerNorm)",
                                  "type(m).__name__.startswith('BatchNorm')"])
def test_a_helper_naming_a_norm_class_is_judged_alone(test: str) -> None:
    assert lines(HELPER.format(test=test), "IA114") == [10]


def test_a_norm_class_named_by_the_else_of_a_negated_test() -> None:
    code = HELPER.format(test="not isinstance(m, nn.LayerNorm)").replace(
        "            n = m.weight.size(-1)\n", "            pass\n        else:\n            n = m.weight.size(-1)\n")
    assert lines(code, "IA114") == [12]


def test_a_hasattr_helper_applied_to_a_model_with_a_norm_is_judged_there() -> None:
    code = HELPER.format(test="hasattr(m, 'weight')") + """

class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(2, 8), nn.{layer}(8), nn.Linear(8, 1))
        self.net.apply(sine_init)

    def forward(self, x):
        return self.net(x)
"""
    assert lines(code.format(layer="LayerNorm"), "IA114") == [10]
    assert lines(code.format(layer="Dropout"), "IA114") == []


# ---------------------------------------------------------------- IA107: a tensor handed to a helper

GLOROT = """\
import numpy as np
import torch.nn as nn


def glorot(t):
    limit = np.sqrt(6.0 / sum(t.size()))
    t.uniform_(-limit, limit)


def param_init(m):
    if isinstance(m, nn.Linear):
        glorot(m.weight{suffix})


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(4, 4)
        glorot(self.fc.weight{suffix})

    def forward(self, x):
        return self.fc(x)
"""


@pytest.mark.parametrize("suffix", [".data", ".detach()", ".data[:2]"])
def test_a_helper_handed_a_detached_tensor_writes_no_parameter(suffix: str) -> None:
    assert lines(GLOROT.format(suffix=suffix), "IA107") == []


def test_a_helper_handed_the_parameter_itself_is_reported() -> None:
    assert lines(GLOROT.format(suffix=""), "IA107") == [7]


def test_a_helper_of_another_file_handed_data(tmp_path: Path) -> None:
    helper, model = GLOROT.split("\n\n\nclass Net")
    model = "import torch.nn as nn\nfrom init_utils import glorot\n\n\nclass Net" + model
    for suffix, expected in ((".data", []), ("", [("init_utils.py", 7), ("model.py", 9)])):
        root = write(tmp_path / (suffix or "plain"), {"init_utils.py": helper.format(suffix=suffix),
                                                      "model.py": model.format(suffix=suffix)})
        found = findings([root], config=selecting("IA107"))
        assert [(name, line) for name, line, _, _ in found] == expected, suffix
