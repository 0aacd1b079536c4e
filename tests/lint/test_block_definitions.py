"""Classes and functions defined in the blocks a module's top level runs (``if __name__ ==
"__main__":``, ``try:``/``except``) bind module-level names as top-level ones do: models built
and helpers applied there are read the same way."""

from __future__ import annotations

import textwrap

import pytest

from tests.lint.selection import lint_selected

SCRIPT = """
import torch.nn as nn


def weights_init(m):
    if isinstance(m, nn.Linear):
        nn.init.xavier_uniform_(m.weight)
    elif isinstance(m, nn.LayerNorm):
        nn.init.constant_(m.bias, 0)
        nn.init.normal_(m.bias, 0)


class Critic(nn.Module):
    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(3, 8), nn.LayerNorm(8), nn.ReLU(), nn.Linear(8, 8), nn.ReLU())

    def forward(self, x):
        return self.net(x)


critic = Critic()
critic.apply(weights_init)
"""


def in_block(header: str, code: str, tail: str = "") -> str:
    """The code after its import line indented under ``header``."""
    head, _, rest = code.strip("\n").partition("\n")
    return f"{head}\n\n{header}\n{textwrap.indent(rest, '    ')}\n{tail}"


@pytest.mark.parametrize("header, tail", [
    ("if __name__ == '__main__':", ""),
    ("try:", "except ImportError:\n    pass\n"),
    ("with open(__file__):", ""),
])
def test_a_model_and_helper_defined_in_a_block_are_read(header: str, tail: str) -> None:
    flat = [(d.line, d.code) for d in lint_selected(SCRIPT, "IA103", "IA111")]
    assert flat == [(7, "IA103"), (9, "IA111")]
    nested = [(d.line - 1, d.code) for d in lint_selected(in_block(header, SCRIPT, tail), "IA103", "IA111")]
    assert nested == flat
