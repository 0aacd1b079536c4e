"""Where a bare Parameter is a weight (IA105): copies of it that a product takes with the signal
(``torch.cat([self.w] * n)``, ``torch.tile``, ``expand``), and a product of the class's
Parameters alone, with no signal in it, which makes a learned table rather than a layer unless
the product itself multiplies the signal."""

from __future__ import annotations

import pytest

from tests.lint.selection import lint_selected


def lines(code: str, *rules: str) -> list[tuple[int, str]]:
    return [(d.line, d.code) for d in lint_selected(code, *rules)]


# ---------------------------------------------------------------- copies of a weight


ROUTER = """
import torch
import torch.nn as nn


class Router(nn.Module):
    def __init__(self, n, d):
        super().__init__()
        self.route = nn.Parameter(torch.randn(1, n, d, d))

    def forward(self, x):
        b = x.size(0)
        route = {tiled}
        return torch.matmul(route, x)
"""


@pytest.mark.parametrize("tiled", [
    "torch.cat([self.route] * b, dim=0)", "torch.cat(b * [self.route], 0)", "torch.stack((self.route, self.route))",
    "torch.concat(tensors=[self.route] * b)", "torch.tile(self.route, (b, 1, 1, 1))",
    "torch.broadcast_to(self.route, (b, -1, -1, -1))", "self.route.expand(b, -1, -1, -1)",
    "torch.cat([self.route] * b).unsqueeze(0)",
])
def test_copies_of_a_weight_multiplied_by_the_signal(tiled: str) -> None:
    assert lines(ROUTER.format(tiled=tiled), "IA105") == [(9, "IA105")], tiled


@pytest.mark.parametrize("tiled", [
    "torch.cat([self.route, x], dim=0)", "torch.cat([x] * b, dim=0)", "torch.stack([self.route.sum(), x])",
    "torch.cat([*self.route] * b)", "torch.ones_like(torch.cat([self.route] * b))",
])
def test_a_join_of_other_tensors_is_not_the_weight(tiled: str) -> None:
    assert lines(ROUTER.format(tiled=tiled), "IA105") == [], tiled


def test_copies_of_a_weight_inline_and_in_a_script() -> None:
    assert lines(ROUTER.format(tiled="x").replace(
        "torch.matmul(route, x)", "torch.matmul(torch.cat([self.route] * b), x)"), "IA105") == [(9, "IA105")]
    script = """
    import torch

    W = torch.randn(8, 8, requires_grad=True)


    def step(x):
        return torch.cat([W] * x.size(0)) @ x
    """
    assert lines(script, "IA105") == [(4, "IA105")]


# ---------------------------------------------------------------- a product of Parameters alone


GRAPH = """
import torch
import torch.nn as nn
import torch.nn.functional as F


class Graph(nn.Module):
    def __init__(self, n, d):
        super().__init__()
        self.src = nn.Parameter(torch.randn(n, 10))
        self.dst = nn.Parameter(torch.randn(10, n))
        self.mix = nn.Linear(d, d)

    def forward(self, x):
        {body}
"""


@pytest.mark.parametrize("body", [
    "adj = F.softmax(F.relu(torch.mm(self.src, self.dst)), dim=1)\n        return self.mix(adj @ x)",
    "adj = F.softmax(self.src @ self.dst, dim=1)\n        return self.mix(torch.matmul(adj, x))",
    "adj = torch.einsum('nk,km->nm', self.src, self.dst)\n        return self.mix(torch.einsum('nm,bmd->bnd', adj.relu(), x))",
    "adj = self.src.mm(self.dst.t().t())\n        return self.mix(adj.softmax(-1) @ x)",
])
def test_parameters_multiplied_only_by_one_another_make_a_table(body: str) -> None:
    assert lines(GRAPH.format(body=body), "IA105") == [], body


@pytest.mark.parametrize("body", [
    "w = self.src @ self.dst\n        return self.mix(x @ w)",
    "return self.mix(x @ (self.src @ self.dst))",
    "w = torch.mm(self.src, self.dst)\n        return self.mix(F.linear(x, w))",
    "w = self.src @ self.dst\n        wt = w.t()\n        return self.mix(torch.matmul(x, wt))",
])
def test_a_product_of_parameters_that_multiplies_the_signal_is_a_weight(body: str) -> None:
    assert lines(GRAPH.format(body=body), "IA105") == [(10, "IA105"), (11, "IA105")], body


def test_a_parameter_multiplied_by_a_buffer_stays_a_weight() -> None:
    body = "return self.mix(torch.mm(self.adj, self.src) @ self.dst)"
    code = GRAPH.format(body=body).replace(
        "self.mix = nn.Linear(d, d)", "self.mix = nn.Linear(d, d)\n        self.register_buffer('adj', torch.eye(n))")
    assert lines(code, "IA105") == [(10, "IA105"), (11, "IA105")]


def test_one_parameter_of_the_pair_also_multiplying_the_signal_is_a_weight() -> None:
    body = "adj = torch.softmax(self.src @ self.dst, dim=1)\n        return self.mix(adj @ x @ self.src)"
    assert lines(GRAPH.format(body=body), "IA105") == [(10, "IA105")]


def test_a_product_read_before_the_parameters_are_made_is_judged_with_the_class_whole() -> None:
    code = """
    import torch
    import torch.nn as nn


    class Graph(nn.Module):
        def forward(self, x):
            return torch.softmax(self.src @ self.dst, dim=1) @ x

        def __init__(self, n):
            super().__init__()
            self.src = nn.Parameter(torch.randn(n, 10))
            self.dst = nn.Parameter(torch.randn(10, n))
    """
    assert lines(code, "IA105") == []
