"""Inits run again: a helper a block of another file applies when built, applied again by its
holder; a factory's init run again by the caller on the layer it built; a helper a package's
``__init__.py`` re-exports under the name of one of its submodules."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.lint.selection import lint_selected
from tests.lint.test_project import findings, write

HELPER = """
import torch.nn as nn


def init_weights(m):
    if isinstance(m, nn.Linear):
        nn.init.xavier_uniform_(m.weight)
"""

EMBED = """
import torch.nn as nn
from utils import init_weights


class Embed(nn.Module):
    def __init__(self, n):
        super().__init__()
        self.fc = nn.Linear(n, n)
        self.apply(init_weights)

    def forward(self, x):
        return self.fc(x)
"""

ENCODER = """
import torch.nn as nn
from models import Embed
from utils import init_weights


class Encoder(nn.Module):
    def __init__(self, n):
        super().__init__()
        self.embed = Embed(n)
        self.out = nn.Linear(n, n)
        {holder}

    def forward(self, x):
        return self.out(self.embed(x))
"""


def encoder_project(tmp_path: Path, holder: str) -> list[tuple[str, int, str, str]]:
    """A block of ``models/embedding.py``, re-exported by ``models/__init__.py``, applying a helper
    of ``utils.py`` when built; its holder in ``models/encoder.py``."""
    root = write(tmp_path, {"pyproject.toml": "", "utils.py": HELPER, "models/__init__.py": "from models.embedding import Embed\n",
                            "models/embedding.py": EMBED, "models/encoder.py": ENCODER.replace("{holder}", holder)})
    return [found for found in findings([root]) if found[2] == "IA111"]


def test_a_holder_applying_again_the_helper_a_block_of_another_file_applied(tmp_path: Path) -> None:
    found = encoder_project(tmp_path, "self.apply(init_weights)")
    assert [(name, line) for name, line, _, _ in found] == [("encoder.py", 12)]
    assert "embed.fc" in found[0][3] and "utils.py:7" in found[0][3]


def test_a_holder_writing_its_own_layer_only_voids_nothing_of_the_block(tmp_path: Path) -> None:
    assert encoder_project(tmp_path, "nn.init.xavier_uniform_(self.out.weight)") == []
    assert encoder_project(tmp_path, "pass") == []


FACTORY = """
    import torch.nn as nn


    def Conv1d(*args, **kwargs):
        layer = nn.Conv1d(*args, **kwargs)
        nn.init.kaiming_normal_(layer.weight)
        return layer


    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.inp = Conv1d(1, 64, 1)
            self.out = Conv1d(64, 1, 1)
            {again}

        def forward(self, x):
            return self.out(self.inp(x).relu())
"""


def test_a_factory_init_run_again_by_the_caller_is_reported_at_the_call() -> None:
    found = lint_selected(FACTORY.format(again="nn.init.kaiming_normal_(self.out.weight)"), "IA111")
    assert [(d.line, d.code) for d in found] == [(15, "IA111")]
    assert "line 7" in found[0].message and "line 16" in found[0].message


@pytest.mark.parametrize("again", ["nn.init.zeros_(self.out.weight)",
                                   "nn.init.kaiming_normal_(self.out.weight, mode='fan_out')", "pass"])
def test_another_init_of_one_factory_layer_overrides_its_default(again: str) -> None:
    assert lint_selected(FACTORY.format(again=again), "IA111") == []


REEXPORTED = {
    "pyproject.toml": "",
    "utils/__init__.py": "from utils.weight_init import weight_init\n",
    "utils/weight_init.py": HELPER.replace("init_weights", "weight_init"),
    "layer.py": """
        import torch.nn as nn
        from utils import weight_init


        class Layer(nn.Module):
            def __init__(self, n):
                super().__init__()
                self.ff = nn.Sequential(nn.Linear(n, 4 * n), nn.ReLU(), nn.Linear(4 * n, n))
                self.apply(weight_init)

            def forward(self, x):
                return x + self.ff(x)
    """,
}


def test_a_package_name_bound_over_its_submodule_is_the_package_binding(tmp_path: Path) -> None:
    """``from utils import weight_init`` gives what ``utils/__init__.py`` bound last to that name
    (the function it imports from ``utils/weight_init.py``), not the submodule."""
    found = findings([write(tmp_path, REEXPORTED)])
    assert [(name, line, code) for name, line, code, _ in found] == [("layer.py", 10, "IA103")]


def test_a_package_that_binds_the_submodule_itself_gives_the_module(tmp_path: Path) -> None:
    files = {**REEXPORTED, "utils/__init__.py": "from . import weight_init\n"}
    assert findings([write(tmp_path, files)]) == []


STACKED = """
    import torch.nn as nn
    import torch.nn.functional as F


    def init_weights(m):
        if isinstance(m, nn.Linear):
            nn.init.{scheme}(m.weight)


    class Layer(nn.Module):
        def __init__(self, n):
            super().__init__()
            self.linear1 = nn.Linear(n, 4 * n)
            self.linear2 = nn.Linear(4 * n, n)
            self.norm = nn.LayerNorm(n)

        def forward(self, src, src_mask=None, src_key_padding_mask=None):
            return src + self._ff(self.norm(src))

        def _ff(self, x):
            return self.linear2(F.relu_(self.linear1(x)))


    class Encoder(nn.Module):
        def __init__(self, n):
            super().__init__()
            layer = {layer}
            self.encoder = nn.TransformerEncoder(encoder_layer=layer, num_layers=4, norm=nn.LayerNorm(n))
            self.apply(init_weights)

        def forward(self, x):
            return self.encoder(x)
"""


def test_a_transformer_encoder_holds_copies_of_the_layer_it_is_given() -> None:
    found = lint_selected(STACKED.format(scheme="xavier_uniform_", layer="Layer(n)"), "IA103")
    assert [(d.line, d.code) for d in found] == [(8, "IA103")]
    assert "encoder.layers.0.linear1" in found[0].message


@pytest.mark.parametrize(("scheme", "layer"), [("kaiming_uniform_", "Layer(n)"),
                                               ("xavier_uniform_", "nn.TransformerEncoderLayer(n, 4)")])
def test_a_stacked_layer_with_a_suiting_init_or_of_torch_is_quiet(scheme: str, layer: str) -> None:
    assert lint_selected(STACKED.format(scheme=scheme, layer=layer), "IA103") == []


CELL = """
import math
import torch
import torch.nn as nn
from torch.nn.parameter import Parameter


class Cell(nn.Module):
    def __init__(self, n):
        super().__init__()
        self.hidden_size = n
        self.weight_ih = Parameter(torch.Tensor(4 * n, n))
        self.weight_hh = Parameter(torch.Tensor(4 * n, n))
        self.reset_parameters()

    def reset_parameters(self):
        stdv = 1.0 / math.sqrt(self.hidden_size)
        for weight in self.parameters():
            weight.data.uniform_(-stdv, stdv)

    def forward(self, x, h):
        return torch.tanh(x @ self.weight_ih.t() + h @ self.weight_hh.t())
"""

CELL_HOLDER = """
from basemodel import *


class Net(nn.Module):
    def __init__(self, n, cuda):
        super().__init__()
        self.cell = Cell(n)
        if cuda:
            self = self.cuda()
        self.init_parameters()

    def init_parameters(self):
        nn.init.xavier_uniform_(self.cell.weight_ih)
        {second}

    def forward(self, x, h):
        return self.cell(x, h)
"""


def cell_project(tmp_path: Path, second: str) -> list[tuple[str, int, str, str]]:
    root = write(tmp_path, {"pyproject.toml": "", "basemodel.py": CELL,
                            "models.py": CELL_HOLDER.replace("{second}", second)})
    return [found for found in findings([root]) if found[2] == "IA111"]


def test_a_holder_writing_every_parameter_a_block_loop_drew_voids_that_loop(tmp_path: Path) -> None:
    """The block's ``for weight in self.parameters()`` draw, run when it is built, has no effect
    where the holder writes each of its Parameters again (``self = self.cuda()`` is the module)."""
    found = cell_project(tmp_path, "nn.init.orthogonal_(self.cell.weight_hh)")
    assert [(name, line) for name, line, _, _ in found] == [("models.py", 14), ("models.py", 15)]
    assert all("basemodel.py:19" in message for *_, message in found)


def test_a_holder_writing_some_of_the_parameters_voids_nothing(tmp_path: Path) -> None:
    assert cell_project(tmp_path, "pass") == []
