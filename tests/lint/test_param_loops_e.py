"""Loops over a model's parameters: a dimension test decided by the dimensions each tensor is
created with, a custom normalisation class's scale among what the loop draws, and modules bound
to local names before a container is built from them."""

from __future__ import annotations

import pytest

from tests.conftest import lint

NORM = '''
import math

import torch
import torch.nn as nn


class Norm(nn.Module):
    def __init__(self, n):
        super().__init__()
        self.gamma = nn.Parameter({shape})
        self.beta = nn.Parameter(torch.Tensor(1, n, 1))
        self.gamma.data.fill_(1)
        self.beta.data.zero_()

    def forward(self, y):
        mean = y.mean(dim=1, keepdim=True)
        var = ((y - mean) ** 2).mean(dim=1, keepdim=True)
        return {forward}


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv1d(4, 8, 3)
        self.norm = Norm(8)
        for p in self.parameters():
            if p.dim() > 1:
                nn.init.xavier_normal_(p)

    def forward(self, x):
        return self.norm(self.conv(x))
'''
NORMALISED = "self.gamma * (y - mean) / torch.pow(var + 1e-8, 0.5) + self.beta"
LOOP_LINE = 29


def _ia114(shape: str, forward: str) -> list[int]:
    return [d.line for d in lint(NORM.format(shape=shape, forward=forward)) if d.code == "IA114"]


def test_a_custom_norms_three_dimensional_scale_passes_the_dimension_test() -> None:
    assert _ia114("torch.Tensor(1, n, 1)", NORMALISED) == [LOOP_LINE]


@pytest.mark.parametrize(("shape", "expected"), [("torch.Tensor(1, n, 1)", [LOOP_LINE]), ("torch.ones(n)", [])])
def test_the_loop_voids_the_scale_the_norm_sets_when_built(shape: str, expected: list[int]) -> None:
    """``fill_(1)`` in the norm's construction, then the holder's loop draws the scale again."""
    found = [d for d in lint(NORM.format(shape=shape, forward=NORMALISED)) if d.code == "IA111"]
    assert [d.line for d in found] == expected
    assert all("line 13" in d.message for d in found)


@pytest.mark.parametrize("forward", [
    "self.gamma * (y - mean) * torch.rsqrt(var + 1e-8) + self.beta",
    "(y - mean) / y.std(dim=1, keepdim=True) * self.gamma + self.beta",
])
def test_other_spellings_of_a_normalisation(forward: str) -> None:
    assert _ia114("torch.ones(1, n, 1)", forward) == [LOOP_LINE]


def test_a_vector_scale_is_skipped_by_the_dimension_test() -> None:
    assert _ia114("torch.ones(n)", NORMALISED) == []


@pytest.mark.parametrize("forward", [
    # A learned gain on an unnormalised signal: a layer scale, not a norm.
    "self.gamma * (y - mean) + self.beta",
    # Divided by a root of a size, not of a spread of the input.
    "self.gamma * (y - mean) / math.sqrt(8) + self.beta",
])
def test_a_scale_without_a_normalisation_is_no_norm(forward: str) -> None:
    assert _ia114("torch.Tensor(1, n, 1)", forward) == []


LOCALS = '''
import torch.nn as nn


class Block(nn.Module):
    def __init__(self, n):
        super().__init__()
        conv = nn.Conv1d(n, n, 1, bias=False)
        act = nn.{activation}()
        self.net = nn.Sequential(conv, act)
        for p in self.parameters():
            if p.dim() > 1:
                nn.init.xavier_normal_(p)

    def forward(self, x):
        return self.net(x)
'''


@pytest.mark.parametrize(("activation", "expected"), [("PReLU", [13]), ("Tanh", [])])
def test_modules_bound_to_local_names_fill_the_container(activation: str, expected: list[int]) -> None:
    found = [d.line for d in lint(LOCALS.format(activation=activation)) if d.code == "IA103"]
    assert found == expected


DIMS = '''
import torch.nn as nn


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3)
        self.fc = nn.Linear(8, 8)
        for p in self.parameters():
            if p.dim() == {ndim}:
                nn.init.xavier_uniform_(p)

    def forward(self, x):
        return self.fc(self.conv(x).relu().mean((2, 3)))
'''


@pytest.mark.parametrize(("ndim", "expected"), [(4, [12]), (2, [])])
def test_an_equality_on_dimensions_keeps_the_tensors_with_that_many(ndim: int, expected: list[int]) -> None:
    """A Conv2d's weight has four dimensions: ``p.dim() == 2`` skips it."""
    assert [d.line for d in lint(DIMS.format(ndim=ndim)) if d.code == "IA103"] == expected
