"""A block's returned layer judged by the instance holding it where a function or a training
script of another file applies a helper to the model, and ``dict(key=value)`` returned."""

from __future__ import annotations

from pathlib import Path

from tests.lint.selection import lint_selected
from tests.lint.test_project import findings, write

ENCODER = """
import torch
import torch.nn as nn
import torch.nn.functional as F


def he_init(m):
    if isinstance(m, nn.Conv2d):
        nn.init.kaiming_normal_(m.weight, a=0.1)


class Project(nn.Module):
    def __init__(self, a, b):
        super().__init__()
        self.conv = nn.Conv2d(a, b, 1)

    def forward(self, x):
        return self.conv(x)


class Coder(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.down = nn.Sequential(nn.Conv2d(c, 8, 3), nn.BatchNorm2d(8), nn.ReLU())
        self.out = Project(8, c)

    def forward(self, x):
        y = self.out(self.down(x))
        return {returned}


def fit(c):
    coder = Coder(c)
    coder.apply(he_init)
    return coder
"""


def coder(returned: str) -> list[int]:
    return [d.line for d in lint_selected(ENCODER.format(returned=returned), "IA103")]


def test_a_scripts_helper_reaching_a_blocks_returned_layer_judges_it_by_the_holder() -> None:
    # ``out.conv`` leaves ``Project`` as it is; ``Coder`` returns it: the model's output.
    assert coder("y") == [9]


def test_the_holder_rectifying_the_blocks_output_keeps_he_quiet() -> None:
    assert coder("F.leaky_relu(y, 0.1)") == []


def test_a_dict_built_with_keywords_hands_its_values_on_as_a_dict_display() -> None:
    assert coder("dict(recon=y, code=x)") == [9]
    assert coder('{"recon": y}') == [9]


def test_a_dict_of_a_rectified_value_or_a_dict_of_another_kind_stays_quiet() -> None:
    assert coder("dict(recon=F.relu(y))") == []
    assert coder("dict(y)") == []  # a mapping or pairs: what it holds is not known


PARTS = """
import torch.nn as nn


class Project(nn.Module):
    def __init__(self, a, b):
        super().__init__()
        self.conv = nn.Conv2d(a, b, 1)

    def forward(self, x):
        return self.conv(x)
"""

NET = """
from models.parts import *


class Coder(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.down = nn.Sequential(nn.Conv2d(c, 8, 3), nn.BatchNorm2d(8), nn.ReLU())
        self.out = Project(8, c)

    def forward(self, x):
        return dict(recon={returned})


if __name__ == "__main__":
    print(Coder(2))
"""

HELPERS = """
import torch.nn as nn


def he_init(m):
    if isinstance(m, nn.Conv2d):
        nn.init.kaiming_normal_(m.weight, a=0.1)
"""

TRAIN = """
from models.net import Coder
from utils.inits import he_init


def train(config):
    model = Coder(config["channels"]).to(config["device"])
    if not config["resume"]:
        model.apply(he_init)
    return model
"""


def project(tmp_path: Path, returned: str) -> list[tuple[str, int, str, str]]:
    root = write(tmp_path, {"pyproject.toml": "", "models/__init__.py": "", "models/parts.py": PARTS,
                            "models/net.py": NET.format(returned=returned), "utils/__init__.py": "",
                            "utils/inits.py": HELPERS, "train.py": TRAIN})
    return [found for found in findings([root]) if found[2] == "IA103"]


def test_a_training_script_applying_a_helper_to_a_model_of_another_file(tmp_path: Path) -> None:
    found = project(tmp_path, "self.out(self.down(x))")
    assert [(name, line) for name, line, _, _ in found] == [("train.py", 9)]
    assert "model.out.conv (Conv2d, models/parts.py:8) feeds no activation" in found[0][3]


def test_the_same_script_with_a_rectified_output_stays_quiet(tmp_path: Path) -> None:
    assert project(tmp_path, "nn.functional.leaky_relu(self.out(self.down(x)), 0.1)") == []
