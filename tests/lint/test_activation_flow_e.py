"""What follows a layer built where the class is not: a block handed to a constructor and cloned
into a ModuleList (``copy.deepcopy``, a factory of the file, a comprehension), a class written
below the code that builds it, and a container's items built with the parameters' defaults."""

from __future__ import annotations

from pathlib import Path

import libcst as cst
import pytest

from initaudit.lint.model.binding import substitute
from initaudit.lint.run.runner import run_lint
from tests.lint.selection import selecting
from tests.lint.test_project import write


def findings(root: Path, source: str) -> list[tuple[int, str, str]]:
    """(line, code, message) of the IA103 findings of one file."""
    run = run_lint([write(root, {"pyproject.toml": "", "model.py": source})], selecting("IA103"))
    assert not run.errors, [r.error for r in run.errors]
    return sorted((d.line, d.code, d.message) for r in run for d in r.diagnostics)


# A model that builds one block, hands it to a stack that clones it, then draws every matrix
# with Xavier gain 1; the block's first Linear feeds the activation its ``activation`` names.
HANDED_BLOCK = """\
import copy

import torch
import torch.nn.functional as F
from torch import nn


class Model(nn.Module):
    def __init__(self, d=8, layers=2, activation="ACTIVATION"):
        super().__init__()
        block = Block(d, activation)
        self.stack = Stack(block, layers)
        for p in self.parameters():
            if p.dim() > 1:
                nn.init.xavier_uniform_(p)

    def forward(self, x):
        return self.stack(x)


class Stack(nn.Module):
    def __init__(self, block, layers):
        super().__init__()
        self.layers = CLONES

    def forward(self, x):
        for layer in self.layers:
            x = layer(x)
        return x


class Block(nn.Module):
    def __init__(self, d, activation="ACTIVATION"):
        super().__init__()
        self.linear1 = nn.Linear(d, 4 * d)
        self.linear2 = nn.Linear(4 * d, d)
        self.norm = nn.LayerNorm(d)
        self.activation = activation_fn(activation)

    def forward(self, x):
        return self.norm(x + self.linear2(self.activation(self.linear1(x))))


def clones(module, n):
    return nn.ModuleList([copy.deepcopy(module) for _ in range(n)])


def activation_fn(name):
    if name == "relu":
        return F.relu
    if name == "tanh":
        return torch.tanh
    raise ValueError(name)
"""

CLONES = [
    "clones(block, layers)",
    "nn.ModuleList([copy.deepcopy(block) for _ in range(layers)])",
    "nn.ModuleList([block])",
]


@pytest.mark.parametrize("clones", CLONES)
def test_a_handed_block_cloned_into_a_list_is_followed(tmp_path: Path, clones: str) -> None:
    source = HANDED_BLOCK.replace("CLONES", clones).replace("ACTIVATION", "relu")
    [(line, code, message)] = findings(tmp_path, source)
    assert (line, code) == (15, "IA103")
    assert "stack.layers.0.linear1 (Linear) feeds relu" in message


@pytest.mark.parametrize("clones", CLONES)
def test_a_handed_block_whose_activation_is_tanh_stays_quiet(tmp_path: Path, clones: str) -> None:
    source = HANDED_BLOCK.replace("CLONES", clones).replace("ACTIVATION", "tanh")
    assert findings(tmp_path, source) == []


def test_constructions_that_hand_different_blocks_leave_the_list_unknown(tmp_path: Path) -> None:
    source = HANDED_BLOCK.replace("CLONES", "clones(block, layers)").replace("ACTIVATION", "relu").replace(
        "        self.stack = Stack(block, layers)\n",
        "        self.stack = Stack(block, layers)\n        self.other = Stack(nn.Linear(d, d), layers)\n")
    assert findings(tmp_path, source) == []


def test_a_list_the_class_appends_to_is_its_own(tmp_path: Path) -> None:
    source = HANDED_BLOCK.replace("CLONES", "nn.ModuleList([block])").replace("ACTIVATION", "relu").replace(
        "        self.layers = nn.ModuleList([block])\n",
        "        self.layers = nn.ModuleList([block])\n        self.layers.append(nn.Linear(8, 8))\n")
    assert findings(tmp_path, source) == []


# ---------------------------------------------------------------- a module attribute handed in

HANDED_ATTRIBUTE = """\
from torch import nn


class Model(nn.Module):
    def __init__(self):
        super().__init__()
        head = Head()
        self.wrapper = Wrapper(head)
        nn.init.kaiming_normal_(self.wrapper.head.fc.weight)

    def forward(self, x):
        return self.wrapper(x)


class Wrapper(nn.Module):
    def __init__(self, head):
        super().__init__()
        self.head = head

    def forward(self, x):
        return self.head(x)


class Head(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(8, 8)

    def forward(self, x):
        return ACT(self.fc(x))
"""


def test_a_class_written_below_its_construction_gets_the_module_handed_in(tmp_path: Path) -> None:
    [(line, code, message)] = findings(tmp_path, HANDED_ATTRIBUTE.replace("ACT", "torch.tanh").replace(
        "from torch import nn", "import torch\nfrom torch import nn"))
    assert (line, code) == (10, "IA103")
    assert "wrapper.head.fc (Linear) feeds tanh" in message


def test_a_handed_module_feeding_relu_stays_quiet(tmp_path: Path) -> None:
    assert findings(tmp_path, HANDED_ATTRIBUTE.replace("ACT", "nn.functional.relu")) == []


# ---------------------------------------------------------------- a container's items

SEQUENTIAL_DEFAULTS = """\
from torch import nn


class Block(nn.Module):
    def __init__(self, d=8, act_layer=ACT):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(d, d), act_layer(), nn.Linear(d, d))
        nn.init.xavier_uniform_(self.net[0].weight)

    def forward(self, x):
        return self.net(x)
"""


def test_a_sequential_item_built_from_a_parameter_default(tmp_path: Path) -> None:
    [(line, code, message)] = findings(tmp_path, SEQUENTIAL_DEFAULTS.replace("ACT", "nn.ReLU"))
    assert (line, code) == (8, "IA103")
    assert "net.0 (Linear) feeds relu" in message


def test_a_sequential_item_whose_default_is_tanh_stays_quiet(tmp_path: Path) -> None:
    assert findings(tmp_path, SEQUENTIAL_DEFAULTS.replace("ACT", "nn.Tanh")) == []


# ---------------------------------------------------------------- binding into comprehensions

def test_substitution_reaches_a_comprehension_but_not_its_loop_variables() -> None:
    node = cst.parse_expression("[copy.deepcopy(block) for block2, i in zip(blocks, range(n)) if i < block]")
    bound = {"block": cst.Name("made"), "i": cst.Name("wrong"), "n": cst.Integer("3")}
    code = cst.Module([]).code_for_node(substitute(node, bound, {}))
    assert code == "[copy.deepcopy(made) for block2, i in zip(blocks, range(3)) if i < made]"


def test_substitution_leaves_a_lambda_alone() -> None:
    node = cst.parse_expression("lambda x: x + block")
    assert substitute(node, {"block": cst.Name("made")}, {}) is node


# ---------------------------------------------------------------- an activation a construction binds

def two_defaults(model: str, block: str) -> str:
    """HANDED_BLOCK with the model's default ``model`` (handed on) and the block's own ``block``."""
    source = HANDED_BLOCK.replace("CLONES", "clones(block, layers)")
    return source.replace('layers=2, activation="ACTIVATION"', f'layers=2, activation="{model}"').replace(
        'def __init__(self, d, activation="ACTIVATION")', f'def __init__(self, d, activation="{block}")')


def test_the_activation_the_builder_hands_on_decides(tmp_path: Path) -> None:
    [(line, code, message)] = findings(tmp_path, two_defaults(model="relu", block="tanh"))
    assert (line, code) == (15, "IA103")
    assert "stack.layers.0.linear1 (Linear) feeds relu" in message


def test_a_tanh_the_builder_hands_on_overrides_the_blocks_relu(tmp_path: Path) -> None:
    assert findings(tmp_path, two_defaults(model="tanh", block="relu")) == []


def test_constructions_binding_different_activations_leave_it_unknown(tmp_path: Path) -> None:
    source = two_defaults(model="relu", block="relu").replace(
        "        block = Block(d, activation)\n",
        "        block = Block(d, activation)\n        self.extra = Block(d, 'tanh')\n")
    assert findings(tmp_path, source) == []


LISTED_ACTIVATIONS = """\
from torch import nn


class Block(nn.Module):
    def __init__(self, d=8, act_layer=nn.ReLU):
        super().__init__()
        self.fc = nn.Linear(d, d)
        self.acts = nn.ModuleList([act_layer() for LOOP])
        nn.init.xavier_uniform_(self.fc.weight)

    def forward(self, x):
        return self.acts[0](self.fc(x))
"""


def test_a_comprehension_element_built_from_a_parameter_default(tmp_path: Path) -> None:
    [(line, code, message)] = findings(tmp_path, LISTED_ACTIVATIONS.replace("LOOP", "_ in range(1)"))
    assert (line, code) == (9, "IA103")
    assert "fc (Linear) feeds relu" in message


def test_a_comprehension_variable_hides_the_parameter_it_is_named_after(tmp_path: Path) -> None:
    assert findings(tmp_path, LISTED_ACTIVATIONS.replace("LOOP", "act_layer in (nn.Tanh,)")) == []
