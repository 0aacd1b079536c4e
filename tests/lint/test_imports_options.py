"""Imports the analysis follows as Python runs them: a directory a script puts on ``sys.path``
before importing from it, and a helper of another project file that hands each module to
other functions of its own file."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.lint.test_project import findings, write

MODEL = """\
import os
import sys
import torch
import torch.nn as nn
import torch.nn.functional as F

{path_line}
from util import weights_init


class Regressor(nn.Module):
    def __init__(self, n):
        super().__init__()
        self.hidden = nn.Linear(n, 16)
        self.out = nn.Linear(16, 1)
        weights_init(self)

    def forward(self, x):
        return self.out({activation}(self.hidden(x)))
"""

#: ``weights_init`` hands each Linear to ``_param_init``, which hands its weight to ``glorot``.
HELPERS = """\
import numpy as np
import torch.nn as nn


def glorot(t):
    fan_in, fan_out = t.size()
    limit = np.sqrt(6.0 / (fan_in + fan_out))
    t.uniform_(-limit, limit)


def _param_init(m):
    if isinstance(m, nn.Linear):
        m.bias.data.zero_()
        glorot(m.weight.data)


def weights_init(m):
    for p in m.modules():
        _param_init(p)
"""

PATH_LINES = [
    "sys.path.append('%s/lib' % os.path.dirname(os.path.realpath(__file__)))",
    "sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), 'lib'))",
    "sys.path.append(str(__import__('pathlib').Path(__file__).resolve().parent / 'lib'))",
    "sys.path.append(f'{os.path.dirname(__file__)}/lib')",
    "sys.path.append('lib')",
    "HERE = os.path.dirname(__file__)\nLIB = os.path.join(HERE, 'lib')\nsys.path.append(LIB)",
]


def _project(tmp_path: Path, path_line: str, activation: str = "F.relu") -> Path:
    return write(tmp_path, {"pyproject.toml": "", "lib/util.py": HELPERS,
                            "model.py": MODEL.format(path_line=path_line, activation=activation)})


@pytest.mark.parametrize("path_line", PATH_LINES)
def test_a_directory_put_on_sys_path_is_where_the_import_is_found(tmp_path: Path, path_line: str) -> None:
    root = _project(tmp_path, path_line)
    line = 16 + path_line.count("\n")
    assert [(name, at, code) for name, at, code, _ in findings([root])] == [("model.py", line, "IA103")]


def test_the_same_helper_before_tanh_stays_quiet(tmp_path: Path) -> None:
    root = _project(tmp_path, PATH_LINES[0], activation="torch.tanh")
    assert findings([root]) == []


@pytest.mark.parametrize("path_line", [
    "",  # nothing on the path: ``util`` is no module of the project
    "sys.path.append(os.path.join(os.getcwd(), 'lib'))",  # where the script runs: unknown
    "sys.path.append(os.path.join(os.path.dirname(__file__), 'other'))",  # another directory
    "sys.path.append('%999999999s/lib' % os.path.dirname(__file__))",  # a width: never made
    "sys.path.append(os.path.dirname(__file__) + '/lib\\0')",  # no directory's name
    "sys.path.append(str(__import__('pathlib').Path(__file__).parents[10**12] / 'lib'))",  # past the top
])
def test_an_import_no_path_reaches_stays_unresolved(tmp_path: Path, path_line: str) -> None:
    assert findings([_project(tmp_path, path_line)]) == []


def test_a_helper_of_another_file_runs_the_functions_of_its_file(tmp_path: Path) -> None:
    """``from lib.util import weights_init``: the chain weights_init -> _param_init -> glorot
    is followed in lib/util.py and reported at the call."""
    model = MODEL.format(path_line="", activation="F.relu").replace("from util import", "from lib.util import")
    root = write(tmp_path, {"pyproject.toml": "", "lib/__init__.py": "", "lib/util.py": HELPERS, "model.py": model})
    found = findings([root])
    assert [(name, line, code) for name, line, code, _ in found] == [("model.py", 16, "IA103")]
    assert "hidden (Linear) feeds relu" in found[0][3]


def test_a_name_of_the_importer_does_not_stand_for_the_helpers_file(tmp_path: Path) -> None:
    """The chain is read in the helper's file: its ``_param_init`` (He on every Linear) runs, not
    the importer's function of that name (Xavier): the output layer's He is what is reported."""
    helpers = HELPERS.replace("glorot(m.weight.data)", "nn.init.kaiming_uniform_(m.weight, nonlinearity='relu')")
    model = MODEL.format(path_line="", activation="F.relu").replace("from util import", "from lib.util import") + (
        "\n\ndef _param_init(m):\n    nn.init.xavier_uniform_(m.weight)\n")
    root = write(tmp_path, {"pyproject.toml": "", "lib/__init__.py": "", "lib/util.py": helpers, "model.py": model})
    found = findings([root])
    assert [(name, line, code) for name, line, code, _ in found] == [("model.py", 16, "IA103")]
    assert found[0][3].startswith("kaiming_uniform_ (written at lib/util.py:14)") and "but out (Linear)" in found[0][3]


DISCRIMINATOR = """\
import torch.nn as nn


class Discriminator(nn.Module):
    def __init__(self, n, pool_type='none'):
        super().__init__()
        if pool_type == 'none':
            self.fc = nn.Sequential(nn.Linear(n, 64), nn.PReLU(64), nn.Linear(64, 1))
        else:
            self.fc = nn.Linear(n, 1)

    def forward(self, x):
        return self.fc(x)
"""

#: A wrapper that builds its discriminator unless one is handed in, and a subclass of it that
#: runs its ``__init__`` and initialises what that built.
GAN = """\
import torch.nn as nn
from disc import *


def glorot_init(m):
    if isinstance(m, nn.Linear):
        nn.init.xavier_uniform_(m.weight)


class GAN(nn.Module):
    def __init__(self, opts, discriminator={given}):
        super().__init__()
        if discriminator is None:
            self.D = Discriminator(2, pool_type=opts.pool_type)
        else:
            self.D = discriminator


class WGAN(GAN):
    def __init__(self, opts):
{runs_base}
        self.D.apply(glorot_init)
"""

SUPER = "        super().__init__(opts, None)"


def _gan(tmp_path: Path, given: str = "None", runs_base: str = SUPER) -> list[tuple[str, int, str]]:
    root = write(tmp_path, {"pyproject.toml": "", "disc.py": DISCRIMINATOR,
                            "gan.py": GAN.format(given=given, runs_base=runs_base)})
    return [(name, line, code) for name, line, code, _ in findings([root])]


@pytest.mark.parametrize("runs_base", [SUPER, "        GAN.__init__(self, opts)"])
def test_a_subclass_holds_what_its_bases_init_builds(tmp_path: Path, runs_base: str) -> None:
    """WGAN runs GAN's ``__init__``: its D is GAN's Discriminator (the arm built when no
    discriminator is handed in), whose Linears feed PReLU: Glorot there is reported."""
    assert _gan(tmp_path, runs_base=runs_base) == [("gan.py", 7, "IA103")]


def test_a_subclass_that_does_not_run_its_bases_init_holds_nothing_of_it(tmp_path: Path) -> None:
    assert _gan(tmp_path, runs_base="        nn.Module.__init__(self)\n        self.D = opts.discriminator") == []


def test_a_module_handed_in_without_a_default_leaves_the_attribute_unknown(tmp_path: Path) -> None:
    """``discriminator=make_default()``: what the else arm binds is some module, not None."""
    assert _gan(tmp_path, given="make_default()") == []
