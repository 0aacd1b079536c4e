"""``from <project module> import *``: the names it binds are what that module exports (its
``__all__``, or every name without a leading underscore), the last such import winning, and
re-exports through a package's ``__init__.py`` are followed the same way."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.lint.selection import selecting
from tests.lint.test_project import findings, write

MODELS = """\
import torch.nn as nn


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 2))

    def forward(self, x):
        return self.net(x)
"""

UTILS = """\
import torch.nn as nn
{all}

def {name}(m):
    if isinstance(m, nn.Linear):
        nn.init.xavier_uniform_(m.weight)
"""

TRAIN = """\
from models import *
from utils import *

net = Net()
net.apply({name})
"""


def _found(root: Path) -> list[tuple[str, int, str]]:
    return [(name, line, code) for name, line, code, _ in findings([root], config=selecting("IA103"))]


@pytest.mark.parametrize(("name", "exported", "reported"), [
    ("weights_init", "", True),
    ("weights_init", "__all__ = ['weights_init']", True),
    ("weights_init", "__all__ = ('other',)", False),  # not exported: the name is unbound
    ("_weights_init", "", False),  # a private name is not exported without __all__
    ("_weights_init", "__all__ = ['_weights_init']", True),
])
def test_a_star_import_binds_what_the_module_exports(tmp_path: Path, name: str, exported: str,
                                                      reported: bool) -> None:
    root = write(tmp_path, {"pyproject.toml": "", "models.py": MODELS,
                            "utils.py": UTILS.format(all=exported, name=name), "train.py": TRAIN.format(name=name)})
    assert _found(root) == ([("train.py", 5, "IA103")] if reported else [])


def test_a_star_re_export_through_a_package_is_followed(tmp_path: Path) -> None:
    root = write(tmp_path, {
        "pyproject.toml": "", "pkg/__init__.py": "from .models import *\nfrom .utils import *\n",
        "pkg/models.py": MODELS, "pkg/utils.py": UTILS.format(all="", name="weights_init"),
        "train.py": "from pkg import Net, weights_init\n\nnet = Net()\nnet.apply(weights_init)\n"})
    assert _found(root) == [("train.py", 4, "IA103")]
