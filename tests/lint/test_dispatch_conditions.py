"""Init routines dispatch on a module's class in many spellings; each one narrows the layers an
init reaches (issue reproducers: ``type(m) in``, ``m.__class__.__name__ ==``, ``or``, guards
that return early)."""

from __future__ import annotations

import textwrap

import pytest

from tests.conftest import lint

MODEL = '''
import torch.nn as nn
import torch.nn.functional as F


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(4, 4)
        self.conv = nn.Conv2d(3, 3, 3)
        self.norm = nn.BatchNorm2d(3)
        self.fc2 = nn.Linear(4, 2)
        self.apply(self._init)

    def _init(self, m):
{body}

    def forward(self, x):
        x = F.relu(self.norm(self.conv(x))).flatten(1)
        return self.fc2(F.relu(self.fc1(x)))
'''


def findings(body: str) -> list[tuple[str, str]]:
    code = MODEL.replace("{body}", textwrap.indent(textwrap.dedent(body).strip("\n"), " " * 8))
    return [(d.code, d.message.split(" feeds ")[0]) for d in lint(code) if d.code in ("IA103", "IA110")]


XAVIER_ON_FC1 = [("IA103", "xavier_uniform_ uses Xavier with gain 1 (for tanh/sigmoid or linear units) but fc1 (Linear)")]


@pytest.mark.parametrize("body", [
    "if isinstance(m, nn.Linear):\n    nn.init.xavier_uniform_(m.weight)",
    "if isinstance(m, (nn.Linear,)):\n    nn.init.xavier_uniform_(m.weight)",
    "if type(m) == nn.Linear:\n    nn.init.xavier_uniform_(m.weight)",
    "if type(m) is nn.Linear:\n    nn.init.xavier_uniform_(m.weight)",
    "if type(m) in (nn.Linear, nn.Embedding):\n    nn.init.xavier_uniform_(m.weight)",
    "if type(m) in {nn.Linear, nn.Embedding}:\n    nn.init.xavier_uniform_(m.weight)",
    "if isinstance(m, (nn.Linear, nn.Embedding)):\n    nn.init.xavier_uniform_(m.weight)",
    "if m.__class__.__name__ == 'Linear':\n    nn.init.xavier_uniform_(m.weight)",
    "if type(m).__name__ == 'Linear':\n    nn.init.xavier_uniform_(m.weight)",
    "if m.__class__.__name__ in ('Linear', 'Bilinear'):\n    nn.init.xavier_uniform_(m.weight)",
    "classname = m.__class__.__name__\nif classname.find('Linear') != -1:\n    nn.init.xavier_uniform_(m.weight)",
    "classname = m.__class__.__name__\nif classname.find('Linear') >= 0:\n    nn.init.xavier_uniform_(m.weight)",
    "classname = m.__class__.__name__\nif 'Linear' in classname:\n    nn.init.xavier_uniform_(m.weight)",
    "classname = type(m).__name__\nif classname.startswith('Lin'):\n    nn.init.xavier_uniform_(m.weight)",
    "if isinstance(m, nn.Linear) or isinstance(m, nn.Embedding):\n    nn.init.xavier_uniform_(m.weight)",
    "if isinstance(m, nn.Linear) and m.bias is not None:\n    nn.init.xavier_uniform_(m.weight)",
    "if not isinstance(m, nn.Linear):\n    return\nnn.init.xavier_uniform_(m.weight)",
    "if type(m) != nn.Linear:\n    return\nnn.init.xavier_uniform_(m.weight)",
    "classname = m.__class__.__name__\nif classname.find('Linear') == -1:\n    return\nnn.init.xavier_uniform_(m.weight)",
    "if isinstance(m, nn.Conv2d):\n    nn.init.kaiming_normal_(m.weight)\nelif isinstance(m, nn.Linear):\n"
    "    nn.init.xavier_uniform_(m.weight)",
    "if isinstance(m, nn.Conv2d):\n    nn.init.kaiming_normal_(m.weight)\nelif not isinstance(m, nn.Linear):\n"
    "    pass\nelse:\n    nn.init.xavier_uniform_(m.weight)",
    # excluding needs the whole test: a Linear without a bias still reaches the elif
    "if isinstance(m, nn.Linear) and m.bias is not None:\n    pass\n"
    "elif isinstance(m, (nn.Linear, nn.Conv2d)):\n    nn.init.xavier_uniform_(m.weight)",
])
def test_dispatch_spellings_reach_the_linear_layers(body: str) -> None:
    assert findings(body) == XAVIER_ON_FC1


@pytest.mark.parametrize("body", [
    # everything but a Conv: which layers that is, is not known precisely
    "if not isinstance(m, nn.Conv2d):\n    nn.init.xavier_uniform_(m.weight)",
    "if isinstance(m, nn.Conv2d):\n    nn.init.kaiming_normal_(m.weight)\nelse:\n    nn.init.xavier_uniform_(m.weight)",
    # a guard on something else than the class narrows nothing
    "if m.training:\n    nn.init.kaiming_normal_(m.weight)",
    # a module *name* test is not a class test
    "name = 'Linear'\nif name in ('Linear',):\n    nn.init.xavier_uniform_(m.weight)",
])
def test_no_false_narrowing(body: str) -> None:
    assert findings(body) == []


def test_early_return_only_guards_the_rest_of_its_block() -> None:
    body = """
    for child in m.children():
        if not isinstance(child, nn.Linear):
            continue
        nn.init.kaiming_normal_(child.weight)
    if isinstance(m, nn.Linear):
        nn.init.xavier_uniform_(m.weight)
    """
    assert findings(body) == XAVIER_ON_FC1
