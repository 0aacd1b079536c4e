"""Idioms of real model code, each from a minimal reproducer: what the linter must follow and
what it must keep quiet about."""

from __future__ import annotations

import pytest

from tests.lint.selection import lint_selected

HEADER = "import math\nimport torch\nimport torch.nn as nn\nimport torch.nn.functional as F\n"
#: The rules that judge what these idioms initialise (zero, constant, unscaled, or a scheme for
#: another activation), selected alone so that no other rule's finding changes a case.
JUDGES = ("IA101", "IA102", "IA103", "IA105")


def found(body: str) -> list[tuple[str, int]]:
    return [(d.code, d.line - HEADER.count("\n")) for d in lint_selected(HEADER + body, *JUDGES)]


MODULE_LEVEL_APPLY = '''
def init_fn(m):
    if isinstance(m, nn.Linear):
        nn.init.xavier_uniform_(m.weight)

model = nn.Sequential(nn.Linear(4, 4), nn.ReLU(), nn.Linear(4, 2))
model.apply(init_fn)
'''

INIT_AND_RETURN = '''
def init_layer(layer, std=1.0):
    nn.init.xavier_uniform_(layer.weight)
    nn.init.zeros_(layer.bias)
    return layer


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = init_layer(nn.Linear(4, 4))
        self.body = nn.Sequential(init_layer(nn.Linear(4, 4)), nn.Tanh())
        self.fc2 = nn.Linear(4, 2)

    def forward(self, x):
        return self.fc2(self.body(F.relu(self.fc1(x))))
'''

PARAMETER_MATRICES = '''
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.W = nn.Parameter(torch.randn(16, 16))
        self.W_query = nn.Parameter(torch.randn(16, 16))
        self.query = nn.Parameter(torch.randn(8, 16))

    def forward(self, x):
        q = x.mm(self.W) @ self.W_query
        return torch.einsum("bd,qd->bq", q, self.query)
'''


def test_apply_on_a_model_built_at_module_level() -> None:
    assert found(MODULE_LEVEL_APPLY) == [("IA103", 4)]


def test_a_helper_that_initialises_and_returns_its_module_is_followed() -> None:
    # fc1 feeds relu (Xavier reported); the Linear inside body feeds tanh (Xavier is right)
    assert found(INIT_AND_RETURN) == [("IA103", 3)]


def test_parameters_used_through_mm_methods_are_weight_matrices() -> None:
    # W (x.mm) and W_query (a projection by its name) are unscaled; a learned query token is not
    assert found(PARAMETER_MATRICES) == [("IA105", 5), ("IA105", 6)]


@pytest.mark.parametrize("returned", ["return self.fc2(h), h", 'return {"logits": self.fc2(h)}',
                                      "return (self.fc2(h),)"])
def test_outputs_inside_tuples_and_dicts_are_model_outputs(returned: str) -> None:
    code = f'''
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(4, 4)
        self.fc2 = nn.Linear(4, 2)
        nn.init.kaiming_normal_(self.fc2.weight, nonlinearity="relu")

    def forward(self, x):
        h = F.relu(self.fc1(x))
        {returned}
'''
    assert found(code) == [("IA103", 7)]


def test_arithmetic_before_the_activation_keeps_the_layer() -> None:
    code = '''
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(4, 4)
        self.fc2 = nn.Linear(4, 2)
        nn.init.xavier_uniform_(self.fc1.weight)

    def forward(self, x, noise):
        return self.fc2(F.relu(self.fc1(x) - noise))
'''
    assert found(code) == [("IA103", 7)]


RESIDUAL_AND_HEAD = '''
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(4, 4)
        self.proj = nn.Linear(4, 4)
        self.head = nn.Linear(4, 2)
        {line}

    def forward(self, x):
        x = x + self.proj(F.relu(self.fc1(x)))
        return self.head(x)
'''


@pytest.mark.parametrize(("line", "expected"), [
    # a non-zero constant on a head or a residual end is never intentional
    ("nn.init.ones_(self.head.weight)", [("IA102", 8)]),
    ("self.head.weight.data.fill_(0.5)", [("IA102", 8)]),
    ("nn.init.constant_(self.proj.weight, 0.1)", [("IA102", 8)]),
    # zero heads and zero residual ends are known recipes
    ("nn.init.zeros_(self.head.weight)", []),
    ("nn.init.zeros_(self.proj.weight)", []),
])
def test_constants_on_heads_and_residual_ends(line: str, expected: list[tuple[str, int]]) -> None:
    assert found(RESIDUAL_AND_HEAD.replace("{line}", line)) == expected


NAMED_LOOPS = '''
from collections import OrderedDict


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(4, 4)
        self.head = nn.Sequential(OrderedDict([("fc2", nn.Linear(4, 4)), ("act", nn.ReLU()),
                                               ("out", nn.Linear(4, 2))]))
        {loop}

    def forward(self, x):
        return self.head(F.relu(self.fc1(x)))
'''


@pytest.mark.parametrize(("loop", "reported"), [
    ("for name, m in self.named_modules():\n            if name == 'fc1':\n"
     "                nn.init.xavier_uniform_(m.weight)", True),
    ("for name, m in self.named_modules():\n            if name == 'head.out':\n"
     "                nn.init.xavier_uniform_(m.weight)", False),
    ("for name, m in self.named_modules():\n            if 'fc' in name:\n"
     "                nn.init.xavier_uniform_(m.weight)", True),
    ("for name, m in self.head.named_children():\n            if name == 'out':\n"
     "                nn.init.xavier_uniform_(m.weight)", False),
    ("for name, m in self.head.named_children():\n            if name != 'fc2':\n"
     "                continue\n            nn.init.xavier_uniform_(m.weight)", True),
    ("for name, p in self.named_parameters():\n            if name.startswith('head.out') and 'weight' in name:\n"
     "                nn.init.xavier_uniform_(p)", False),
    ("for name, p in self.named_parameters():\n            if name.startswith('fc1') and name.endswith('weight'):\n"
     "                nn.init.xavier_uniform_(p)", True),
])
def test_name_guards_of_named_loops_pick_the_layers(loop: str, reported: bool) -> None:
    codes = [code for code, _ in found(NAMED_LOOPS.replace("{loop}", loop))]
    assert codes == (["IA103"] if reported else [])


@pytest.mark.parametrize("forward", [
    "return getattr(self, 'body')(x)",  # the forward reaches body in a way not followed
    "return self.run(x)\n\n    def run(self, x):\n        return self.__dict__['_modules']['body'](x)",
])
def test_a_sequential_the_forward_does_not_reach_keeps_its_own_order(forward: str) -> None:
    code = f'''
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = nn.Sequential(nn.Linear(4, 4), nn.ReLU(), nn.Linear(4, 2))
        nn.init.xavier_uniform_(self.body[0].weight)

    def forward(self, x):
        {forward}
'''
    assert found(code) == [("IA103", 6)]


def test_a_forward_that_picks_layers_of_a_sequential_is_not_second_guessed() -> None:
    code = '''
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = nn.Sequential(nn.Linear(4, 4), nn.ReLU(), nn.Linear(4, 2))
        nn.init.xavier_uniform_(self.body[0].weight)

    def forward(self, x):
        return self.body[2](torch.tanh(self.body[0](x)))
'''
    assert found(code) == []
