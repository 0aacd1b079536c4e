"""A method of the class whose one statement returns the module it builds (``self.tail =
self.make_tail()`` in ``__init__``, ``return nn.Sequential(nn.Conv2d(...))``): the attribute holds
that module, its parameters bound to the call's arguments, so what its layers feed is known
(IA103), in the class's file and where a helper of another file is applied to the model."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.lint.selection import lint_selected
from tests.lint.test_project import findings, write

HELPER = """
import torch.nn as nn


def he_convs(m):
    if isinstance(m, nn.Conv2d):
        nn.init.kaiming_normal_(m.weight, nonlinearity="relu")
"""

# The body of ``make_tail`` is the part the tests change.
RESTORER = '''
import torch.nn as nn


class Restorer(nn.Module):
    def __init__(self, c=3, width=8):
        super().__init__()
        self.width = width
        self.head = self.make_head(c)
        self.tail = self.make_tail(c)

    def make_head(self, c):
        return nn.Sequential(nn.Conv2d(c, self.width, 3), nn.ReLU())

    def make_tail(self, c):
        {tail}

    def forward(self, x):
        return self.tail(self.head(x))
'''

TO_OUTPUT = ('"""The output conv."""\n        return nn.Sequential(nn.Conv2d(self.width, c, 3))',
             "return nn.Conv2d(self.width, c, 3)")
# Another shape of body: a name bound first may hold anything, so the attribute stays unknown.
OTHER_SHAPES = ("conv = nn.Conv2d(self.width, c, 3)\n        return nn.Sequential(conv)",
                "return nn.Sequential(nn.Conv2d(self.width, c, 3), nn.ReLU())")

APPLIED_HERE = "\n\nmodel = Restorer()\nmodel.apply(he_convs)\n"

APPLIED = """
from restorer import Restorer
from utils import he_convs


def build():
    model = Restorer()
    model.apply(he_convs)
    return model
"""


@pytest.mark.parametrize("tail", TO_OUTPUT)
def test_he_on_the_output_conv_a_method_returns_is_reported(tail: str) -> None:
    found = lint_selected(HELPER + RESTORER.replace("{tail}", tail) + APPLIED_HERE, "IA103")
    assert len(found) == 1 and "tail" in found[0].message and "feeds no activation" in found[0].message


@pytest.mark.parametrize("tail", OTHER_SHAPES)
def test_a_method_of_another_shape_or_feeding_a_relu_stays_quiet(tail: str) -> None:
    assert lint_selected(HELPER + RESTORER.replace("{tail}", tail) + APPLIED_HERE, "IA103") == []


def project(tmp_path: Path, tail: str) -> list[tuple[str, int, str, str]]:
    root = write(tmp_path, {"pyproject.toml": "", "utils.py": HELPER,
                            "restorer.py": RESTORER.replace("{tail}", tail), "train.py": APPLIED})
    return [found for found in findings([root]) if found[2] == "IA103"]


def test_a_helper_of_another_file_applied_to_the_model_is_judged_on_that_conv(tmp_path: Path) -> None:
    found = project(tmp_path, TO_OUTPUT[0])
    assert [(name, line) for name, line, _, _ in found] == [("train.py", 8)]
    assert "model.tail.0 (Conv2d" in found[0][3] and "feeds no activation" in found[0][3]


def test_across_files_a_method_ending_in_a_relu_stays_quiet(tmp_path: Path) -> None:
    assert project(tmp_path, OTHER_SHAPES[1]) == []
