"""A Parameter made with ``requires_grad=False`` (by keyword, or second by position as Python
binds ``Parameter(data, requires_grad)``) is outside autograd's guard: writing into it in place,
by item assignment or by an in-place method, raises nothing."""

from __future__ import annotations

import pytest

from tests.lint.selection import lint_selected


def lines(code: str, *rules: str) -> list[tuple[int, str]]:
    return [(d.line, d.code) for d in lint_selected(code, *rules)]


SIGNS = """
import torch
import torch.nn as nn


class Signs(nn.Module):
    def __init__(self, n):
        super().__init__()
        self.flip = nn.Parameter(torch.eye(n){flag})
        {write}

    def forward(self, x):
        return x @ self.flip
"""


@pytest.mark.parametrize("write", ["self.flip[n - 1, n - 1] = -1", "self.flip.fill_(1)", "self.flip[0].zero_()"])
def test_a_parameter_that_requires_grad_is_guarded(write: str) -> None:
    for flag in ("", ", requires_grad=True", ", True"):
        assert lines(SIGNS.format(flag=flag, write=write), "IA107") == [(10, "IA107")], (flag, write)


@pytest.mark.parametrize("write", ["self.flip[n - 1, n - 1] = -1", "self.flip.fill_(1)", "self.flip[0].zero_()"])
def test_a_parameter_made_without_grad_is_not_guarded(write: str) -> None:
    for flag in (", requires_grad=False", ", False"):
        assert lines(SIGNS.format(flag=flag, write=write), "IA107") == [], (flag, write)


def test_a_flag_python_binds_elsewhere_leaves_the_parameter_trained() -> None:
    # ``False`` passed as ``data`` by keyword leaves the second position empty: the flag is True.
    code = SIGNS.format(flag="", write="self.flip[0, 0] = -1").replace(
        "nn.Parameter(torch.eye(n))", "nn.Parameter(data=torch.eye(n))")
    assert lines(code, "IA107") == [(10, "IA107")]


def test_a_parameter_made_trained_in_one_arm_is_guarded() -> None:
    code = """
    import torch
    import torch.nn as nn


    class Signs(nn.Module):
        def __init__(self, n, learn):
            super().__init__()
            if learn:
                self.flip = nn.Parameter(torch.eye(n))
            else:
                self.flip = nn.Parameter(torch.eye(n), requires_grad=False)
            self.flip[n - 1, n - 1] = -1

        def forward(self, x):
            return x @ self.flip
    """
    assert lines(code, "IA107") == [(13, "IA107")]


def test_another_attribute_keeps_its_own_guard() -> None:
    code = """
    import torch
    import torch.nn as nn


    class Signs(nn.Module):
        def __init__(self, n):
            super().__init__()
            self.flip = nn.Parameter(torch.eye(n), requires_grad=False)
            self.gain = nn.Parameter(torch.ones(n))
            self.flip[0, 0] = -1
            self.gain[0] = 2

        def forward(self, x):
            return x @ self.flip * self.gain
    """
    assert lines(code, "IA107") == [(12, "IA107")]
