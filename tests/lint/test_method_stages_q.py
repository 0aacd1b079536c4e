"""A stage a method of the class builds (``self.stage1 = self._stage(unit, 16, n)``: a list it
appends to, in a loop too, returned as ``nn.Sequential(*units)``), of a block class handed to
the constructor by the file's constructions: a holder's loop over ``self.modules()`` reaches the
blocks' layers, a block built inside them included."""

from __future__ import annotations

from tests.lint.selection import lint_selected

TOWER = """
import torch.nn as nn


class Squeeze(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.fc = nn.Sequential(nn.Linear(c, c // 4), nn.PReLU(), nn.Linear(c // 4, c), nn.Sigmoid())

    def forward(self, x):
        return x * self.fc(x.mean((2, 3)))[:, :, None, None]


class Unit(nn.Module):
    def __init__(self, c_in, c, stride=1):
        super().__init__()
        self.conv = nn.Conv2d(c_in, c, 3, stride, 1)
        self.bn = nn.BatchNorm2d(c)
        self.gate = Squeeze(c)

    def forward(self, x):
        return self.gate(self.bn(self.conv(x)))


class Plain(nn.Module):
    def __init__(self, c_in, c, stride=1):
        super().__init__()
        self.conv = nn.Conv2d(c_in, c, 3, stride, 1)
        self.bn = nn.BatchNorm2d(c)

    def forward(self, x):
        return self.bn(self.conv(x))


class Tower(nn.Module):
    def __init__(self, unit, depths):
        super().__init__()
        self.width = 16
        self.stage1 = self._stage(unit, 16, depths[0])
        self.stage2 = self._stage(unit, 32, depths[1], stride=2)
        for m in self.modules():
            if isinstance(m, nn.Linear):
                nn.init.xavier_normal_(m.weight)

    def _stage(self, unit, c, n, stride=1):
        units = []
        units.append(unit(self.width, c, stride))
        self.width = c
        for _ in range(1, n):
            {grown}
        return nn.Sequential(*units)

    def forward(self, x):
        return self.stage2(self.stage1(x))


{built}
"""

APPENDED = "units.append(unit(c, c))"


def tower(built: str, grown: str = APPENDED) -> list[tuple[int, str]]:
    return [(d.line, d.message) for d in lint_selected(TOWER.format(built=built, grown=grown), "IA103")]


def test_the_stages_blocks_are_reached_by_the_holders_loop() -> None:
    found = tower("def tower():\n    return Tower(Unit, [2, 2])")
    assert [line for line, _ in found] == [43]
    assert "Linear layers that feed prelu: stage1.0.gate.fc.0" in found[0][1]


def test_constructions_handing_different_blocks_leave_the_stages_unknown() -> None:
    assert tower("def tower():\n    return Tower(Unit, [2, 2])\n\n\ndef plain():\n"
                 "    return Tower(Plain, [2, 2])") == []


def test_a_block_without_the_gate_gives_the_loop_nothing_to_judge() -> None:
    assert tower("def tower():\n    return Tower(Plain, [2, 2])") == []


def test_a_list_grown_otherwise_is_not_written_out() -> None:
    assert tower("def tower():\n    return Tower(Unit, [2, 2])", grown="units += [unit(c, c)]") == []
