"""An initialiser handed in as a parameter (``fill_=nn.init.normal_``, called ``fill_(self.w)``)
initialises the tensor in place with whatever the caller passes: what the tensor held before
is void (no IA101 on its zero start), and as the scheme is the caller's, none is judged."""

from __future__ import annotations

import pytest

from tests.lint.selection import lint_selected

TABLE = """
import torch
import torch.nn as nn


class Mixer(nn.Module):
    def __init__(self, n, m, {parameter}):
        super().__init__()
        self.table = nn.Parameter(torch.zeros([n, m]))
        {call}

    def forward(self, x):
        return x @ self.table
"""


def found(parameter: str, call: str = "fill_(self.table)", *codes: str) -> list[str]:
    code = TABLE.format(parameter=parameter, call=call)
    return [f"{d.code}:{d.line}" for d in lint_selected(code, *(codes or ("IA101", "IA105", "IA111")))]


@pytest.mark.parametrize("parameter", ["fill_=nn.init.normal_", "*, fill_=torch.nn.init.uniform_",
                                       "fill_=nn.init.xavier_uniform_"])
def test_an_injected_initialiser_voids_the_zero_start_and_judges_no_scheme(parameter: str) -> None:
    assert found(parameter) == []


@pytest.mark.parametrize("parameter, call", [
    ("fill_=None", "fill_(self.table)"),  # no initialiser by default
    ("fill_=print", "fill_(self.table)"),  # a callable that initialises nothing
    ("fill_=nn.init.normal_", "pass"),  # never called
    ("fill_=nn.init.normal_", "other(self.table)"),  # another name
])
def test_a_zero_start_no_initialiser_rewrites_is_reported(parameter: str, call: str) -> None:
    assert found(parameter, call) == ["IA101:9"]


LAYER = """
import torch.nn as nn


class Block(nn.Module):
    def __init__(self, n, fill_=nn.init.orthogonal_):
        super().__init__()
        self.fc = nn.Linear(n, n)
        nn.init.kaiming_uniform_(self.fc.weight)
        {call}

    def forward(self, x):
        return self.fc(x)
"""


def test_an_injected_initialiser_voids_an_earlier_init_of_a_layer() -> None:
    assert [d.line for d in lint_selected(LAYER.format(call="fill_(self.fc.weight)"), "IA111")] == [9]
    assert lint_selected(LAYER.format(call="pass"), "IA111") == []
