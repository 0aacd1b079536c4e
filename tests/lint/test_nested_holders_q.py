"""Holders reaching blocks built inside other blocks: a block class called through a local name
bound to it, and a block's init voided by a holder two levels up."""

from __future__ import annotations

from tests.lint.selection import lint_selected

GATE = """
import torch.nn as nn


class Gate(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.squeeze = nn.Conv2d(c, c // 4, 1)
        nn.init.xavier_uniform_(self.squeeze.weight)
        self.act = nn.ReLU()
        self.expand = nn.Conv2d(c // 4, c, 1)

    def forward(self, x):
        return x * self.expand(self.act(self.squeeze(self.pool(x)))).sigmoid()


class Cell(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.branch = nn.Sequential(nn.BatchNorm2d(c), nn.Conv2d(c, c, 3, padding=1), nn.PReLU(c),
                                    nn.Conv2d(c, c, 3, padding=1), nn.BatchNorm2d(c), Gate(c))

    def forward(self, x):
        return x + self.branch(x)


class Flat(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.branch = nn.Sequential(nn.Conv2d(c, c, 3, padding=1), nn.BatchNorm2d(c), nn.PReLU(c))

    def forward(self, x):
        return x + self.branch(x)


class Trunk(nn.Module):
    def __init__(self, depth):
        super().__init__()
        cell = {cell}
        cells = []
        for _ in range(depth):
            cells.append(cell(16))
        self.body = nn.Sequential(*cells)
        self.head = nn.Linear(16, 4)
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.xavier_uniform_(m.weight)

    def forward(self, x):
        return self.head(self.body(x).mean((2, 3)))
{extra}"""


def trunk(code: str, cell: str = "Cell", extra: str = "") -> list[tuple[int, str]]:
    return [(d.line, d.message) for d in lint_selected(GATE.format(cell=cell, extra=extra), code)]


def test_a_block_class_called_through_a_local_name_is_composed_into_the_holder() -> None:
    found = trunk("IA103")
    assert [line for line, _ in found] == [48, 48]
    assert "body.0.branch.1 (Conv2d) feeds prelu" in found[0][1]
    assert "body.0.branch.5.squeeze (Conv2d) feeds relu" in found[1][1]


def test_the_local_name_bound_to_a_block_whose_layers_suit_xavier_stays_quiet() -> None:
    # A norm between each convolution and its activation: Xavier's scale is reset there (the
    # gate, built by nothing, is a model of its own, judged at its init).
    assert [line for line, _ in trunk("IA103", cell="Flat")] == [10]


def test_an_init_voided_by_a_holder_of_the_block_that_builds_it_never_has_an_effect() -> None:
    # ``Gate`` is built only by ``Cell``, which only ``Trunk`` builds; its loop rewrites every
    # Conv2d: the gate's own init is reported as dead where it is written, and not judged.
    assert [line for line, _ in trunk("IA111")] == [10]
    assert "has no effect: every class that builds its class" in trunk("IA111")[0][1]
    assert 10 not in [line for line, _ in trunk("IA103")]


def test_a_middle_block_also_built_alone_keeps_the_inner_init_alive() -> None:
    # ``Cell`` built by a function too: that gate's init lasts, so it is judged (Xavier before
    # ReLU) and the holder's rewrite is reported at the holder's loop instead.
    extra = "\n\ndef single():\n    model = Cell(16)\n    return model\n"
    assert [line for line, _ in trunk("IA111", extra=extra)] == [48]
    assert 10 in [line for line, _ in trunk("IA103", extra=extra)]


def test_a_rewrite_under_a_condition_leaves_the_inner_init_alive_and_judged() -> None:
    code = GATE.replace("        for m in self.modules():\n            if isinstance(m, nn.Conv2d):\n"
                        "                nn.init.xavier_uniform_(m.weight)",
                        "        if depth > 8:\n            for m in self.modules():\n"
                        "                if isinstance(m, nn.Conv2d):\n                    nn.init.xavier_uniform_(m.weight)")
    found = [(d.line, d.code) for d in lint_selected(code.format(cell="Cell", extra=""), "IA111", "IA103")]
    assert (10, "IA103") in found and (10, "IA111") not in found
