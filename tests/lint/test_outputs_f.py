"""IA103 on a block's layer whose output only its holder follows: a holder's construction runs the
block's init as written, so the verdict is the init's own and it is reported where the init is
written, naming the holder; a holder in another file that only repeats what the block's own
file says is not reported again."""

from __future__ import annotations

from pathlib import Path

from initaudit.diagnostics import Diagnostic
from tests.lint.selection import lint_selected
from tests.lint.test_project import findings, write

HEADER = "import torch\nimport torch.nn as nn\nimport torch.nn.functional as F\n"

TOKEN = """
class Token(nn.Module):
    def __init__(self, c_in, d_model):
        super().__init__()
        self.conv = nn.Conv1d(c_in, d_model, 3, padding=1)
        nn.init.kaiming_normal_(self.conv.weight, mode="fan_in", nonlinearity="leaky_relu")

    def forward(self, x):
        return self.conv(x.permute(0, 2, 1)).transpose(1, 2)
"""

HOLDER = """
class {name}(nn.Module):
    def __init__(self, c_in, d_model):
        super().__init__()
        self.value = Token(c_in, d_model)
        self.position = nn.Embedding(512, d_model)

    def forward(self, x, p):
        return {out}
"""


def found(*holders: tuple[str, str]) -> list[Diagnostic]:
    code = HEADER + TOKEN + "".join(HOLDER.format(name=name, out=out) for name, out in holders)
    return lint_selected(code, "IA103")


def test_a_block_layer_that_its_holder_returns_is_reported_at_the_init_naming_the_holder() -> None:
    result = found(("Embedding", "self.value(x) + self.position(p)"))
    assert [(d.code, d.line) for d in result] == [("IA103", 9)]
    assert result[0].message.startswith("kaiming_normal_ uses a ReLU gain")
    assert "value.conv (Conv1d) in Embedding feeds no activation (it is the model's output)" in result[0].message


def test_a_holder_that_applies_a_relu_to_the_block_output_is_quiet() -> None:
    assert found(("Embedding", "F.relu(self.value(x) + self.position(p))")) == []


def test_holders_sharing_a_verdict_give_one_finding_at_the_init() -> None:
    result = found(("Embedding", "self.value(x) + self.position(p)"), ("Plain", "self.value(x)"))
    assert [(d.code, d.line) for d in result] == [("IA103", 9)]
    assert "in Embedding" in result[0].message


def test_holders_with_different_verdicts_give_one_finding_each_at_the_init() -> None:
    result = found(("Embedding", "self.value(x)"), ("Squashed", "torch.tanh(self.value(x))"))
    assert [(d.line, "tanh" in d.message) for d in result] == [(9, False), (9, True)]


def test_an_init_that_takes_the_construction_arguments_is_still_reported_at_the_construction() -> None:
    code = HEADER + TOKEN.replace("(self, c_in, d_model)", '(self, c_in, d_model, act="relu")').replace(
        'nonlinearity="leaky_relu"', "nonlinearity=act") + HOLDER.format(
        name="Embedding", out="torch.tanh(self.value(x))").replace("Token(c_in, d_model)", 'Token(c_in, d_model, "relu")')
    assert [(d.code, d.line) for d in lint_selected(code, "IA103")] == [("IA103", 17)]


WRAPPER = """\
import torch.nn as nn


class Linear(nn.Module):
    def __init__(self, i, o):
        super().__init__()
        self.linear = nn.Linear(i, o)
        nn.init.kaiming_normal_(self.linear.weight)

    def forward(self, x):
        return self.linear(x)
"""

USER = """\
import torch
import torch.nn as nn
from layers import Linear


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.gate = Linear(8, 8)
        self.out = Linear(8, 2)

    def forward(self, x):
        return self.out(x) + {gate}
"""


def test_a_holder_in_another_file_reports_only_what_the_block_file_cannot_see(tmp_path: Path) -> None:
    root = write(tmp_path, {"pyproject.toml": "", "layers.py": WRAPPER, "net.py": USER.format(gate="torch.sigmoid(self.gate(x))")})
    result = [(name, line) for name, line, code, _ in findings([root]) if code == "IA103"]
    # layers.py judges its own root class's output; net.py adds the sigmoid it alone sees.
    assert result == [("layers.py", 8), ("net.py", 9)]


def test_a_holder_in_another_file_taking_the_block_to_its_output_repeats_nothing(tmp_path: Path) -> None:
    root = write(tmp_path, {"pyproject.toml": "", "layers.py": WRAPPER, "net.py": USER.format(gate="self.gate(x)")})
    result = [(name, line) for name, line, code, _ in findings([root]) if code == "IA103"]
    assert result == [("layers.py", 8)]


BLOCKS = """\
import torch.nn as nn
import torch.nn.functional as F


class Conv(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.conv = nn.Conv2d(c, c, 3, padding=1)
        nn.init.kaiming_normal_(self.conv.weight)

    def forward(self, x):
        return F.relu(self.conv(x))


class Gate(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.fc = nn.Linear(c, c)
        nn.init.kaiming_normal_(self.fc.weight)

    def forward(self, x):
        return self.fc(x)
"""

UNET = """\
import torch.nn as nn
from blocks import Conv


class UNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.down = Conv(8)

    def forward(self, x):
        return self.down(x)
"""


def ia103(root: Path) -> list[tuple[str, int]]:
    return [(name, line) for name, line, code, _ in findings([root]) if code == "IA103"]


def test_a_class_beside_blocks_other_files_build_is_not_taken_for_the_model(tmp_path: Path) -> None:
    # Gate is built nowhere in view, but blocks.py is a file of blocks: its holder is unknown.
    assert ia103(write(tmp_path, {"pyproject.toml": "", "blocks.py": BLOCKS, "unet.py": UNET})) == []


def test_a_file_whose_classes_no_model_builds_keeps_its_classes_as_models(tmp_path: Path) -> None:
    script = "from blocks import Conv\n\nnet = Conv(8)\n"  # built by a script: the model itself
    assert ia103(write(tmp_path, {"pyproject.toml": "", "blocks.py": BLOCKS, "train.py": script})) == [("blocks.py", 19)]


FACTORY = """\
from blocks import Gate


def make_gate(c):
    return Gate.from_size(c) if c else Gate(8)
"""

HEAD = """\
import torch
import torch.nn as nn
from factory import make_gate


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.gate = make_gate(8)

    def forward(self, x):
        return torch.sigmoid(self.gate(x))
"""


def test_a_class_a_model_builds_through_a_factory_of_another_file_is_not_taken_for_the_model(tmp_path: Path) -> None:
    files = {"pyproject.toml": "", "blocks.py": BLOCKS, "factory.py": FACTORY, "net.py": HEAD}
    assert ia103(write(tmp_path, files)) == []
    # Without the model, the factory's caller is no module class: Gate is the model.
    del files["net.py"]
    assert ia103(write(tmp_path / "alone", files)) == [("blocks.py", 19)]


def test_a_class_a_model_of_another_file_builds_in_view_keeps_its_own_verdict(tmp_path: Path) -> None:
    user = UNET.replace("Conv", "Gate").replace("return self.down(x)", "return self.down(x).sigmoid()")
    # The holder's construction is judged there (a sigmoid follows); blocks.py judges the class
    # it takes for the model, as before.
    assert ia103(write(tmp_path, {"pyproject.toml": "", "blocks.py": BLOCKS, "unet.py": user})) == [
        ("blocks.py", 19), ("unet.py", 8)]
    # A holder that only takes it to its own output says what blocks.py says: once is enough.
    (tmp_path / "unet.py").write_text(UNET.replace("Conv", "Gate"), encoding="utf-8")
    assert ia103(tmp_path) == [("blocks.py", 19)]
