"""IA103 through forward() data flow: a part of the input added to a prediction, comprehensions."""

from __future__ import annotations

from initaudit.diagnostics import Diagnostic
from tests.lint.selection import lint_selected

HEADER = "import torch\nimport torch.nn as nn\nimport torch.nn.functional as F\n"


def found(code: str) -> list[Diagnostic]:
    return lint_selected(HEADER + code, "IA103")


# A decoder predicting offsets added to the last observed position: the position is a part of
# the input, so the sum is a prediction, not a skip connection around the head.
OFFSETS = """
class Decoder(nn.Module):
    def __init__(self, steps):
        super().__init__()
        self.steps = steps
        self.rnn = nn.GRUCell(16, 16)
        self.head = nn.Linear(16, 2)
        nn.init.kaiming_normal_(self.head.weight)

    def forward(self, past, state):
        position = {position}
        out = []
        for _ in range(self.steps):
            state = self.rnn(past[:, 0], state)
            position = position + self.head(state)
            out.append(position)
        return torch.stack(out, 1)
"""


def test_he_on_an_offset_head_added_to_a_picked_position_is_reported() -> None:
    for position in ("past[:, -1, :2]", "past[:, -1]", "past[:, -1].unsqueeze(1)"):
        findings = found(OFFSETS.format(position=position))
        assert [f.line for f in findings] == [11], position


def test_he_on_a_branch_added_to_the_input_it_reads_stays_quiet() -> None:
    # The whole input, or the input cropped or reshaped: a skip connection around the branch.
    for position in ("past", "past[:, None]", "past[..., 2:]"):
        assert found(OFFSETS.format(position=position)) == [], position


PICKED_SKIP = """
class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(16, 16)
        self.fc2 = nn.Linear(16, 16)
        nn.init.kaiming_normal_(self.fc2.weight)

    def forward(self, inputs):
        x = inputs[0]
        return x + self.fc2(F.relu(self.fc1(x)))


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.block = Block()

    def forward(self, x):
        return F.relu(self.block((x, x)))
"""


def test_a_skip_connection_around_an_item_of_the_input_stays_quiet() -> None:
    # What is added back is the very value the branch computes from: a residual branch's end.
    assert found(PICKED_SKIP) == []


PYRAMID = """
class Pyramid(nn.Module):
    def __init__(self):
        super().__init__()
        self.p3 = nn.Conv2d(8, 8, 3)
        self.p4 = nn.Conv2d(8, 8, 3)
        nn.init.kaiming_normal_(self.p3.weight)
        nn.init.kaiming_normal_(self.p4.weight)

    def forward(self, c3, c4):
        return [self.p3(c3), self.p4(c4)]


class Head(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(8, 8, 3)
        self.out = nn.Conv2d(8, 4, 3)

    def forward(self, x):
        return self.out(F.relu(self.conv(x)))


class Detector(nn.Module):
    def __init__(self):
        super().__init__()
        self.fpn = Pyramid()
        self.head = Head()

    def forward(self, c3, c4):
        features = self.fpn(c3, c4)
        return torch.cat([{use} for feature in features], dim=1)
"""


def test_he_on_maps_a_comprehension_hands_to_a_head_is_reported() -> None:
    # Each map feeds the head's first conv directly, a linear map of a linear map.
    findings = found(PYRAMID.format(use="self.head(feature)"))
    assert [f.line for f in findings] == [10, 11]


def test_maps_a_comprehension_hands_to_an_activation_stay_quiet() -> None:
    assert found(PYRAMID.format(use="self.head(F.relu(feature))")) == []
    assert found(PYRAMID.format(use="self.head(feature.relu())")) == []
