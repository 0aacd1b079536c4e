"""IA111 through composition: a block's own init (in ``__init__`` or a method it calls, over
layers written out) voided by its holder's later loop over ``self.modules()``."""

from __future__ import annotations

from pathlib import Path

from tests.lint.selection import lint_selected, selecting
from tests.lint.test_project import findings, write

BLOCK = """
import torch.nn as nn
from torch.nn import init


class Attn(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.q = nn.Conv2d(c, c, 1)
        self.proj = nn.Conv2d(c, c, 1)
        {call}

    def initialize(self):
        for module in [self.q, self.proj]:
            init.xavier_uniform_(module.weight)
            init.zeros_(module.bias)

    def forward(self, x):
        return x + self.proj(self.q(x))


class Res(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.conv = nn.Conv2d(c, c, 3)
        self.attn = Attn(c)
        for m in self.modules():
            if {test}:
                init.xavier_uniform_(m.weight)
                init.zeros_(m.bias)

    def forward(self, x):
        return self.attn(self.conv(x))
"""


def lines(call: str = "self.initialize()", test: str = "isinstance(m, nn.Conv2d)", tail: str = "") -> list[int]:
    return [d.line for d in lint_selected(BLOCK.format(call=call, test=test) + tail, "IA111")]


def test_an_init_method_the_block_calls_is_voided_by_its_holders_module_loop() -> None:
    # Attn is built by Res only: both inits of the list loop never have an effect.
    assert lines() == [15, 16]


def test_the_message_names_the_voiding_writes() -> None:
    found = lint_selected(BLOCK.format(call="self.initialize()", test="isinstance(m, nn.Conv2d)"), "IA111")
    assert "again afterwards (line 29)" in found[0].message
    assert "again afterwards (line 30)" in found[1].message


def test_a_block_built_alone_too_is_reported_at_the_holders_writes() -> None:
    assert lines(tail="\nALONE = Attn(4)\n") == [29, 30]


def test_a_subclassed_block_is_reported_at_the_holders_writes() -> None:
    assert lines(tail="\nclass Wide(Attn):\n    pass\n") == [29, 30]


def test_an_init_method_called_under_a_test_or_never_voids_nothing() -> None:
    assert lines(call="if c > 4:\n            self.initialize()") == []
    assert lines(call="pass") == []


def test_a_holder_loop_that_skips_the_blocks_layers_or_may_not_run_voids_nothing() -> None:
    assert lines(test="isinstance(m, nn.Linear)") == []
    assert lines(test="isinstance(m, nn.Conv2d) and c > 4") == []


def test_a_loop_over_items_not_written_out_is_not_known_to_run() -> None:
    looped = BLOCK.replace("for module in [self.q, self.proj]:", "for module in self.pick():")
    assert [d.line for d in lint_selected(looped.format(call="self.initialize()", test="isinstance(m, nn.Conv2d)"),
                                          "IA111")] == []


def test_a_holder_writing_other_tensors_voids_nothing() -> None:
    other = BLOCK.replace("init.xavier_uniform_(m.weight)\n                init.zeros_(m.bias)",
                          "init.ones_(m.weight)")
    found = lint_selected(other.format(call="self.initialize()", test="isinstance(m, nn.BatchNorm2d)"), "IA111")
    assert found == []
    # Only the weights are written again: the bias init stays in effect.
    weights = BLOCK.replace("init.xavier_uniform_(m.weight)\n                init.zeros_(m.bias)",
                            "init.orthogonal_(m.weight)")
    found = lint_selected(weights.format(call="self.initialize()", test="isinstance(m, nn.Conv2d)"), "IA111")
    assert [d.line for d in found] == [15]


def test_the_same_init_again_in_the_holder_still_voids_the_first() -> None:
    same = BLOCK.replace("init.xavier_uniform_(m.weight)\n                init.zeros_(m.bias)",
                         "init.zeros_(m.bias)")
    found = lint_selected(same.format(call="self.initialize()", test="isinstance(m, nn.Conv2d)"), "IA111")
    assert [d.line for d in found] == [16]


def test_a_block_of_another_file_is_reported_at_the_holders_writes(tmp_path: Path) -> None:
    block, holder = BLOCK.format(call="self.initialize()", test="isinstance(m, nn.Conv2d)").split("\n\nclass Res")
    write(tmp_path, {"pyproject.toml": "", "pkg/__init__.py": "", "pkg/attn.py": block,
                     "pkg/res.py": "import torch.nn as nn\nfrom torch.nn import init\nfrom pkg.attn import Attn\n\n"
                                   "class Res" + holder})
    found = findings([tmp_path], config=selecting("IA111"))
    assert [(name, line, code) for name, line, code, _ in found] == [("res.py", 12, "IA111"), ("res.py", 13, "IA111")]
    assert "xavier_uniform_ at pkg/attn.py:15" in found[0][3] and "attn.proj, attn.q" in found[0][3]


HELPER = """\
import torch.nn as nn
from torch.nn import init


def init_fn(m):
    if isinstance(m, nn.Conv2d):
        init.xavier_uniform_(m.weight)
"""

HELD = """\
import torch.nn as nn
from torch.nn import init
from pkg.inits import init_fn


class Block(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.a = nn.Conv2d(c, c, 1)
        self.b = nn.Sequential(nn.Conv2d(c, c, 1), nn.ReLU())
        {own}

    def forward(self, x):
        return self.b(self.a(x))


class Net(nn.Module):
    def __init__(self, c, again=True):
        super().__init__()
        self.block = Block(c)
        {later}

    def forward(self, x):
        return self.block(x)
"""


def held(root: Path, own: str = "self.apply(init_fn)", later: str = "self.apply(init_fn)") -> list[tuple[str, int, str]]:
    write(root, {"pyproject.toml": "", "pkg/__init__.py": "", "pkg/inits.py": HELPER,
                 "pkg/model.py": HELD.format(own=own, later=later)})
    return [(name, line, code) for name, line, code, _ in findings([root], config=selecting("IA111"))]


def test_the_same_helper_applied_again_by_the_holder_voids_the_blocks_application(tmp_path: Path) -> None:
    assert held(tmp_path) == [("model.py", 21, "IA111")]
    children = "for m in self.children():\n            init_fn(m)"
    assert held(tmp_path / "children", own=children) == [("model.py", 22, "IA111")]


def test_the_blocks_application_alone_or_a_holder_applying_it_under_a_test_is_quiet(tmp_path: Path) -> None:
    assert held(tmp_path, later="pass") == []
    assert held(tmp_path / "test", later="if again:\n            self.apply(init_fn)") == []
    # A loop over the children that only runs under a test of something else may not run.
    assert held(tmp_path / "own", own="for m in self.children():\n            if c > 4:\n                init_fn(m)") == []


def test_the_same_helper_of_the_file_applied_twice_is_not_told_apart() -> None:
    code = HELPER + HELD.replace("from pkg.inits import init_fn\n", "").split("\n", 2)[2]
    assert lint_selected(code.format(own="self.apply(init_fn)", later="self.apply(init_fn)"), "IA111") == []


RESTORED = """
import torch.nn as nn


class Attn(nn.Module):
    def __init__(self):
        super().__init__()
        self.offsets = nn.Linear(4, 4)
        self._reset_parameters()

    def _reset_parameters(self):
        nn.init.constant_(self.offsets.weight, 0.0)

    def forward(self, x):
        return self.offsets(x)


class Model(nn.Module):
    def __init__(self):
        super().__init__()
        self.attn = Attn()
        self._reset_parameters()

    def _reset_parameters(self):
{body}

    def forward(self, x):
        return self.attn(x)
"""
BLANKET = """        for p in self.parameters():
            if p.dim() > 1:
                nn.init.xavier_uniform_(p)
"""
RESET = """        for m in self.modules():
            if isinstance(m, Attn):
                m._reset_parameters()
"""


def test_a_block_init_the_holder_runs_again_after_its_blanket_init_is_in_effect() -> None:
    # Every matrix drawn Xavier, then each block's own init restored: the blanket write is the
    # one partly replaced, and the block's constant_ is what stays.
    assert lint_selected(RESTORED.format(body=BLANKET + RESET), "IA111") == []


def test_a_block_init_run_again_before_the_blanket_init_is_still_voided() -> None:
    assert [d.line for d in lint_selected(RESTORED.format(body=RESET + BLANKET), "IA111")] == [12]
