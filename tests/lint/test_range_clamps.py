"""IA103 through a clamp: given both bounds it only holds the output in a range and passes the
values inside unchanged, so the layer before it is judged by what follows; one bound alone
(``clamp(y, min=0)``, a ReLU) is no such pass."""

from __future__ import annotations

import pytest

from initaudit.diagnostics import Diagnostic
from tests.lint.selection import lint_selected

# A stem feeding a PReLU, then an output conv clamped into a range; every conv drawn He by default.
RESTORER = """
import torch
import torch.nn as nn


class Restorer(nn.Module):
    def __init__(self, c=3, width=8):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(c, width, 3), nn.PReLU())
        self.last = nn.Conv2d(width, c, 3)
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.{init}(m.weight{args})

    def forward(self, x):
        y = self.last(self.stem(x))
        {clamp}
        return y
"""

BOTH_BOUNDS = ("y = torch.clamp_(y, 0.0, 1.0)", "y = torch.clamp(y, min=-1, max=1)", "y = y.clip(0, 1)",
               "y.clamp_(0.0, 1.0)", "y = torch.relu(torch.clamp(y, -1, 1))")


def found(clamp: str, init: str = "kaiming_normal_", args: str = "") -> list[Diagnostic]:
    return lint_selected(RESTORER.format(clamp=clamp, init=init, args=args), "IA103")


@pytest.mark.parametrize("clamp", BOTH_BOUNDS[:4])
def test_he_on_an_output_only_clamped_into_a_range_is_reported(clamp: str) -> None:
    findings = found(clamp)
    assert len(findings) == 1 and "last (Conv2d) feeds no activation" in findings[0].message


def test_a_range_clamp_leaves_the_verdict_to_what_follows_it() -> None:
    assert found(BOTH_BOUNDS[4]) == []
    assert not any("last" in finding.message for finding in found(BOTH_BOUNDS[0], "xavier_normal_"))


@pytest.mark.parametrize("clamp", ("y = torch.clamp(y, min=0)", "y = y.clamp(0)", "y = torch.clamp(y, 0, None)",
                                   "y.clamp_(min=0)"))
def test_a_clamp_with_one_bound_stays_an_unknown_consumer(clamp: str) -> None:
    assert found(clamp) == []
