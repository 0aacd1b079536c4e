"""Composition through an optional block: an attribute bound in the arms of an ``if`` to a block
or to a placeholder that holds no tensors (``nn.Identity()``) holds the block where it exists,
so a holder's later loop over ``self.modules()`` voids the block's own init."""

from __future__ import annotations

from pathlib import Path

from tests.lint.selection import lint_selected
from tests.lint.test_project import findings, write

BLOCK = """
import torch.nn as nn
from torch.nn import init


class Attn(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.q = nn.Conv2d(c, c, 1)
        self.proj = nn.Conv2d(c, c, 1)
        self.initialize()

    def initialize(self):
        for module in [self.q, self.proj]:
            init.xavier_uniform_(module.weight)
        init.xavier_uniform_(self.proj.weight, gain=0.5)

    def forward(self, x):
        return x + self.proj(self.q(x))


class Res(nn.Module):
    def __init__(self, c, attn=False):
        super().__init__()
        self.conv = nn.Conv2d(c, c, 3, padding=1)
        if attn:
            self.attn = {first}
        else:
            self.attn = {second}
        {init}

    def forward(self, x):
        return self.attn(self.conv(x))
"""

LOOP = """for m in self.modules():
            if isinstance(m, nn.Conv2d):
                init.xavier_uniform_(m.weight)"""


def overwritten(first: str = "Attn(c)", second: str = "nn.Identity()", init: str = LOOP) -> list[int]:
    code = BLOCK.format(first=first, second=second, init=init)
    return [d.line for d in lint_selected(code, "IA111")]


def test_block_or_placeholder_voided_by_the_holders_module_loop() -> None:
    assert overwritten() == [15, 16]


def test_placeholder_in_the_first_arm() -> None:
    assert overwritten(first="nn.Identity()", second="Attn(c)") == [15, 16]


def test_no_holder_loop_leaves_the_block_init_alone() -> None:
    assert overwritten(init="pass") == []


def test_two_arms_holding_tensors_stay_unknown() -> None:
    assert overwritten(second="nn.Conv2d(c, c, 1)") == []


ACTIVATION = """
import torch.nn as nn


class Net(nn.Module):
    def __init__(self, act=True):
        super().__init__()
        self.fc = nn.Linear(8, 8)
        if act:
            self.act = {first}
        else:
            self.act = nn.Identity()
        nn.init.xavier_uniform_(self.fc.weight)

    def forward(self, x):
        return self.act(self.fc(x))
"""


UPSAMPLE = """
import torch.nn as nn


class Up(nn.Module):
    def __init__(self, c, deconv=True):
        super().__init__()
        self.fc = nn.Linear(c, c)
        if deconv:
            self.up = nn.Linear(c, c)
        else:
            self.up = nn.Identity()
        nn.init.kaiming_normal_(self.fc.weight)

    def forward(self, x):
        return self.up(self.fc(x))
"""


def test_torch_layer_or_placeholder_stays_unknown() -> None:
    """A torch layer in one arm only changes what follows the layer before it: not judged."""
    assert lint_selected(UPSAMPLE, "IA103") == []


def test_torch_layer_in_both_arms_twin_is_judged() -> None:
    code = UPSAMPLE.replace("nn.Identity()", "nn.Linear(c, c)")
    assert [d.line for d in lint_selected(code, "IA103")] == [13]


def test_activation_or_placeholder_stays_unknown() -> None:
    """What follows the layer in one arm only is not judged: an activation is no optional layer."""
    assert lint_selected(ACTIVATION.format(first="nn.ReLU()"), "IA103") == []


def test_activation_with_placeholder_twin_known_activation_judged() -> None:
    code = ACTIVATION.format(first="nn.ReLU()").replace("nn.Identity()", "nn.ReLU()")
    assert [d.line for d in lint_selected(code, "IA103")] == [13]


def held(init: str) -> str:
    return BLOCK.format(first="Attn(c)", second="nn.Identity()", init=init).replace(
        "if attn:\n            self.attn = Attn(c)\n        else:\n            self.attn = nn.Identity()",
        "self.attn = Attn(c)")


def test_the_blocks_own_later_write_is_not_its_construction_run_again() -> None:
    """The construction ``Attn(c)`` runs the block's writes in their own order: the loop's write
    run again at the call does not void the ``proj`` write that follows it in the block."""
    assert "Attn(c)" in held("pass") and "if attn" not in held("pass")
    assert [d.line for d in lint_selected(held("pass"), "IA111")] == []


def test_held_block_voided_by_the_holders_loop() -> None:
    assert [d.line for d in lint_selected(held(LOOP), "IA111")] == [15, 16]


HELPER = """
import torch.nn as nn


def init_weight(m):
    if isinstance(m, nn.Linear):
        nn.init.xavier_uniform_(m.weight)
"""

SCRIPTED = """
import torch
import torch.nn as nn

from .helpers import init_weight


class Head(torch.jit.ScriptModule):
    def __init__(self, n):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(n, n), nn.ReLU(), nn.Linear(n, 2)).apply(init_weight)

    @torch.jit.script_method
    def forward(self, x):
        return self.net(x)


class Latent(torch.jit.ScriptModule):
    def __init__(self, n):
        super().__init__()
        self.a = Head(n)
        self.b = Head(n)
        {holder}

    def sample(self, x):
        return self.a(x), self.b(x)
"""


def project(tmp_path: Path, holder: str) -> list[tuple[str, int, str]]:
    root = write(tmp_path, {"pyproject.toml": "", "pkg/__init__.py": "", "pkg/helpers.py": HELPER,
                            "pkg/model.py": SCRIPTED.replace("{holder}", holder)})
    return [(name, line, code) for name, line, code, _ in findings([root / "pkg"])
            if code in ("IA103", "IA111")]


def test_torchscript_holder_applying_the_helper_again_voids_the_blocks_applies(tmp_path: Path) -> None:
    """A TorchScript module is a module: its ``apply`` visits the blocks it holds. The holder's
    run of the same helper repeats the blocks' verdict, which stays at their own ``apply``."""
    assert project(tmp_path, "self.apply(init_weight)") == [("model.py", 11, "IA103"), ("model.py", 23, "IA111")]


def test_torchscript_holder_without_its_own_init(tmp_path: Path) -> None:
    assert project(tmp_path, "pass") == [("model.py", 11, "IA103")]


def test_holder_with_another_init_is_judged_at_its_own_call(tmp_path: Path) -> None:
    found = project(tmp_path, "for m in self.modules():\n"
                              "            if isinstance(m, nn.Linear):\n"
                              "                nn.init.xavier_normal_(m.weight)")
    assert ("model.py", 25, "IA103") in found and ("model.py", 11, "IA103") in found
