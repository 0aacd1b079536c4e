"""IA103 through matrix products of two signals: a layer's output multiplied by a tensor the
block is given (attention probabilities passed in as its first argument) is carried on to what
follows; a product of two layers' outputs (attention scores) says nothing of either."""

from __future__ import annotations

import pytest

from initaudit.diagnostics import Diagnostic
from tests.lint.selection import lint_selected

HEADER = "import torch\nimport torch.nn as nn\n"

ATTENTION = """
class Projection(nn.Module):
    def __init__(self, n, m, gain="linear"):
        super().__init__()
        self.layer = nn.Linear(n, m)
        nn.init.xavier_uniform_(self.layer.weight, gain=nn.init.calculate_gain(gain))

    def forward(self, x):
        return self.layer(x)


class Attention(nn.Module):
    def __init__(self):
        super().__init__()
        self.value = Projection(8, 8, gain="{gain}")

    def forward(self, probabilities, values):
        values = self.value(values) if hasattr(self, "value") else values
        {product}
        return mixed.transpose(1, 2)
"""

PRODUCTS = ("mixed = torch.bmm(probabilities, values.transpose(0, 1))", "mixed = probabilities @ values",
            "mixed = torch.matmul(probabilities, values)")


def found(code: str) -> list[Diagnostic]:
    return lint_selected(HEADER + code, "IA103")


@pytest.mark.parametrize("product", PRODUCTS)
def test_a_layer_mixed_by_given_probabilities_feeds_what_follows(product: str) -> None:
    [finding] = found(ATTENTION.format(gain="tanh", product=product))
    assert "value.layer" in finding.message and "model's output" in finding.message


@pytest.mark.parametrize("product", PRODUCTS)
def test_the_gain_the_output_needs_is_quiet(product: str) -> None:
    assert found(ATTENTION.format(gain="linear", product=product)) == []


def test_a_product_of_two_layers_outputs_says_nothing_of_either() -> None:
    code = """
class Scores(nn.Module):
    def __init__(self):
        super().__init__()
        self.q = nn.Linear(8, 8)
        self.k = nn.Linear(8, 8)
        nn.init.xavier_uniform_(self.q.weight, gain=nn.init.calculate_gain("tanh"))
        nn.init.xavier_uniform_(self.k.weight, gain=nn.init.calculate_gain("tanh"))

    def forward(self, x):
        return self.q(x) @ self.k(x).transpose(1, 2)
"""
    assert found(code) == []


def test_a_layer_of_the_input_times_the_input_is_two_signals() -> None:
    """``self.fc(x) @ x.t()`` is a bilinear form of the input, not a mix by a given matrix."""
    code = """
class Bilinear(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(8, 8)
        nn.init.xavier_uniform_(self.fc.weight, gain=nn.init.calculate_gain("tanh"))

    def forward(self, x):
        return torch.relu(self.fc(x) @ x.transpose(1, 2))
"""
    assert found(code) == []
