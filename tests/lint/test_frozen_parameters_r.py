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


MASK = """
import torch
import torch.nn as nn


class Checkerboard(nn.Module):
    def __init__(self, h, w):
        super().__init__()
        self.mask = {made}
        for i in range(h):
            {write}
        self.mask = nn.Parameter(self.mask)
        {after}

    def forward(self, x):
        return x * self.mask
"""


@pytest.mark.parametrize("write", ["self.mask[0][i][i % w] = 0", "self.mask[0, i].fill_(0)", "self.mask.zero_()"])
def test_a_tensor_filled_before_it_becomes_a_parameter_is_not_guarded(write: str) -> None:
    """``self.mask = torch.ones(...)`` filled in place, then wrapped: the writes reach a plain
    tensor; the same write after the wrap reaches the Parameter."""
    code = MASK.format(made="torch.ones(1, h, w)", write=write, after="")
    assert lines(code, "IA107") == []
    after = MASK.format(made="torch.ones(1, h, w)", write="pass", after=write.replace("[i % w]", "[0]").replace("[0, i]", "[0, 0]"))
    assert lines(after, "IA107") == [(13, "IA107")]


def test_a_write_after_binding_a_trained_tensor_is_guarded() -> None:
    made = "torch.ones(1, h, w, requires_grad=True)"
    assert lines(MASK.format(made=made, write="self.mask[0][i][0] = 0", after=""), "IA107") == [(11, "IA107")]
