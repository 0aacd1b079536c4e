"""The order of the writes an applied helper makes, exclusive and conditional branches, and
script code: which init a later one voids (IA111), and which one the other rules then judge."""

from __future__ import annotations

import pytest

from tests.lint.selection import lint_selected

HELPER = """
import torch.nn as nn


def weights_init(m):
    if isinstance(m, nn.Linear):
        {first}
        {second}
    elif isinstance(m, nn.LayerNorm):
        nn.init.normal_(m.weight, 1.0, 0.02)
        nn.init.constant_(m.bias, 0)
        nn.init.normal_(m.bias, 0)


class Critic(nn.Module):
    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(3, 8), nn.LayerNorm(8), nn.LeakyReLU(0.2), nn.Linear(8, 1))
{applied_in_class}
    def forward(self, x):
        return self.net(x)

{applied_in_script}
"""


def found(code: str, *rules: str) -> list[tuple[int, str]]:
    return [(d.line, d.code) for d in lint_selected(code, *rules)]


@pytest.mark.parametrize("where", ["class", "script"])
def test_a_helpers_write_replaced_by_its_next_statement_is_voided(where: str) -> None:
    """``constant_(m.bias, 0)`` then ``normal_(m.bias, 0)`` in the branch an ``apply`` takes:
    the first has no effect, in a class's construction and in script code alike."""
    code = HELPER.format(first="nn.init.constant_(m.weight, 0.5)", second="nn.init.normal_(m.weight, 0, 0.01)",
                         applied_in_class="        self.apply(weights_init)\n" if where == "class" else "",
                         applied_in_script="critic = Critic()\ncritic.apply(weights_init)\n" if where == "script" else "")
    assert found(code, "IA111", "IA102") == [(7, "IA111"), (11, "IA111")]


def test_the_helpers_last_write_is_the_one_judged() -> None:
    code = HELPER.format(first="nn.init.normal_(m.weight, 0, 0.01)", second="nn.init.constant_(m.weight, 0.5)",
                         applied_in_class="        self.apply(weights_init)\n", applied_in_script="")
    assert found(code, "IA111", "IA102") == [(7, "IA111"), (8, "IA102"), (11, "IA111")]


BRANCHES = """
import torch.nn as nn


class Net(nn.Module):
    def __init__(self, constant=True, reinit=False):
        super().__init__()
        self.fc = nn.Linear(3, 8)
        if constant:
            nn.init.constant_(self.fc.weight, 0.5)
        {other}
            nn.init.normal_(self.fc.weight, 0, 0.01)

    def forward(self, x):
        return self.fc(x)
"""


@pytest.mark.parametrize("other", ["else:", "if reinit:"])
def test_a_write_in_another_branch_or_under_its_own_test_voids_nothing(other: str) -> None:
    """The constant weight the default branch writes stands: the normal_ in the ``else`` (or
    under a test of its own) does not always run after it."""
    assert found(BRANCHES.format(other=other), "IA111", "IA102") == [(10, "IA102")]


def test_a_write_that_always_runs_after_voids_the_branch() -> None:
    code = BRANCHES.format(other="if True:").replace("if True:", "with open('/dev/null'):")
    assert found(code, "IA111", "IA102") == [(10, "IA111")]


BARE = """
import math
import torch
import torch.nn as nn
from torch.nn import init


class Reservoir(nn.Module):
    def __init__(self, n):
        super().__init__()
        self.weight_res = nn.Parameter(torch.Tensor(n, n), requires_grad=False)
        self.reset_parameters()

    def reset_parameters(self):
        mask = (torch.rand(self.weight_res.shape) < 0.1).float()
        init.kaiming_uniform_(self.weight_res, a=math.sqrt(5))
        {between}
        {again}

    def forward(self, x):
        return torch.tanh(x @ self.weight_res)
"""


@pytest.mark.parametrize("between", ["self.weight_res *= mask", "self.weight_res.data.mul_(mask)", "pass"])
def test_a_bare_parameter_drawn_again_voids_the_first_draw_and_what_was_done_to_it(between: str) -> None:
    code = BARE.format(between=between, again="init.kaiming_uniform_(self.weight_res, a=math.sqrt(5))")
    assert [(d.line, d.code) for d in lint_selected(code, "IA111")] == [(16, "IA111")]


@pytest.mark.parametrize("again", [
    "pass",
    "if n > 100:\n            init.kaiming_uniform_(self.weight_res)",
    "self.weight_res.data[:, 0] = 0.0",
])
def test_a_bare_parameter_kept_or_partly_written_is_not_voided(again: str) -> None:
    code = BARE.format(between="self.weight_res *= mask", again=again).replace("(self, n)", "(self, n=10)")
    assert lint_selected(code, "IA111") == []


def test_arms_of_a_module_loop_that_reach_no_layer_void_nothing() -> None:
    """The Conv2d and BatchNorm2d arms find no such layer here: what they would write is no bare
    Parameter, and no arm replaces another."""
    code = """
import torch.nn as nn


class Head(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(8, 2)
        for module in self.modules():
            if isinstance(module, nn.Conv2d):
                nn.init.kaiming_normal_(module.weight, mode="fan_out", nonlinearity="relu")
                nn.init.constant_(module.bias, 0)
            elif isinstance(module, nn.BatchNorm2d):
                nn.init.constant_(module.weight, 1)
                nn.init.constant_(module.bias, 0)

    def forward(self, x):
        return self.fc(x)
"""
    assert lint_selected(code, "IA111") == []
