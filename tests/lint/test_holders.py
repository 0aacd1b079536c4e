"""Models kept where Python keeps values: on an object that is not a module (a trainer, a solver),
behind methods that return the module itself (``.to(device)``), handed back by an init helper
(``self.G = weights_init(self.G)``), and run through in a loop over the models written out."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.lint.selection import lint_selected
from tests.lint.test_project import findings, write

MODELS = """\
import torch.nn as nn


def weights_init(m):
    if isinstance(m, nn.Linear):
        nn.init.{scheme}(m.weight)


def init_all(model):
    for module in model.modules():
        if isinstance(module, nn.Linear):
            nn.init.{scheme}(module.weight)
    return model


class Generator(nn.Module):
    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 8), nn.ReLU())

    def forward(self, x):
        return self.net(x)


"""

USES = {
    "kept on a trainer behind .to(device)": """\
class Solver:
    def __init__(self, device):
        self.G = Generator().to(device).train()
        self.G.apply(weights_init)
""",
    "handed back by the helper to a trainer's attribute": """\
class Solver:
    def __init__(self):
        self.G = Generator()
        self.G = init_all(self.G)
""",
    "a loop over a trainer's models": """\
class Solver:
    def __init__(self):
        self.G = Generator()
        self.D = Generator()
        for net in [self.G, self.D]:
            net.apply(weights_init)
""",
    "a loop over a function's models": """\
def build():
    G = Generator()
    D = Generator()
    for net in (G, D):
        net.apply(weights_init)
    return G, D
""",
    "applied as it is built, on a trainer": """\
class Solver:
    def __init__(self):
        self.G = Generator().apply(weights_init).to("cpu")
""",
    "a loop over the script's models": """\
G = Generator()
D = Generator()
for net in (G, D):
    net.apply(weights_init)
""",
}


def _codes(use: str, scheme: str) -> list[str]:
    return [d.code for d in lint_selected(MODELS.format(scheme=scheme) + use, "IA103")]


@pytest.mark.parametrize("use", USES.values(), ids=USES.keys())
def test_the_models_a_holder_keeps_are_initialised_where_they_are(use: str) -> None:
    assert set(_codes(use, "xavier_normal_")) == {"IA103"}  # Xavier before ReLU
    assert _codes(use, "kaiming_normal_") == []


def test_a_loop_over_something_unknown_reaches_nothing() -> None:
    use = "def build(extra):\n    G = Generator()\n    for net in (G, extra):\n        net.apply(weights_init)\n"
    assert _codes(use, "xavier_normal_") == []


CHAINED = """\
import torch.nn as nn
{import_line}


class Policy(nn.Module):
    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(8, 64), nn.{activation}(), nn.Linear(64, 2)).apply(initialize_weight)

    def forward(self, x):
        return self.net(x)
"""

HELPER = """\
import torch.nn as nn


def initialize_weight(m):
    if isinstance(m, nn.Linear):
        nn.init.xavier_uniform_(m.weight, gain=1.0)
"""


def test_apply_chained_on_the_module_an_attribute_gets_reaches_its_layers(tmp_path: Path) -> None:
    """``Module.apply`` returns the module: the attribute is the module it initialised."""
    one_file = HELPER + CHAINED.format(import_line="", activation="ReLU")
    assert [d.code for d in lint_selected(one_file, "IA103")] == ["IA103"]
    assert lint_selected(HELPER + CHAINED.format(import_line="", activation="Tanh"), "IA103") == []
    files = {"pyproject.toml": "", "pkg/__init__.py": "", "pkg/init.py": HELPER,
             "pkg/policy.py": CHAINED.format(import_line="from pkg.init import initialize_weight", activation="ReLU")}
    found = findings([write(tmp_path, files)])
    assert [(name, line, code) for name, line, code, _ in found] == [("policy.py", 8, "IA103")]


def test_a_cross_file_finding_of_a_chained_apply_is_at_its_apply(tmp_path: Path) -> None:
    """The call spans the module's whole construction: the finding is where ``apply`` is."""
    multi_line = CHAINED.format(import_line="from pkg.init import initialize_weight", activation="ReLU").replace(
        "nn.Sequential(nn.Linear(8, 64), nn.ReLU(), nn.Linear(64, 2))",
        "nn.Sequential(\n            nn.Linear(8, 64),\n            nn.ReLU(),\n            nn.Linear(64, 2),\n        )")
    files = {"pyproject.toml": "", "pkg/__init__.py": "", "pkg/init.py": HELPER, "pkg/policy.py": multi_line}
    found = findings([write(tmp_path, files)])
    assert [(name, line, code) for name, line, code, _ in found] == [("policy.py", 12, "IA103")]
