"""IA104 deprecated-init-function."""

from __future__ import annotations

import pytest

from initaudit import knowledge
from initaudit.lint.fixes import apply_fixes
from tests.conftest import lint

ARGS = {"constant": "w, 0.1", "sparse": "w, 0.1", "dirac": "w4", "eye": "w"}


@pytest.mark.parametrize("alias", sorted(knowledge.DEPRECATED_ALIASES))
@pytest.mark.parametrize("imports,spelling", [
    ("import torch.nn as nn", "nn.init.{}"),
    ("import torch", "torch.nn.init.{}"),
    ("from torch.nn import init", "init.{}"),
    ("from torch.nn import init as I", "I.{}"),
    ("import torch.nn.init as tinit", "tinit.{}"),
    ("from torch import nn", "nn.init.{}"),
    ("from torch.nn.init import {}", "{}"),
])
def test_every_deprecated_name_under_every_import_form(alias: str, imports: str, spelling: str) -> None:
    call = spelling.format(alias) + f"({ARGS.get(alias, 'w')})"
    code = f"{imports.format(alias)}\n{call}\n"
    found = [d for d in lint(code) if d.code == "IA104"]
    assert len(found) == 1
    assert found[0].line == 2 and found[0].column == 1
    fixed, applied = apply_fixes(code, found, unsafe=False)
    assert applied == 1
    assert knowledge.DEPRECATED_ALIASES[alias] + "(" in fixed
    assert lint(fixed) == [] or all(d.code != "IA104" for d in lint(fixed))


@pytest.mark.parametrize("code", [
    "import torch.nn as nn\nnn.init.xavier_uniform_(w)\nnn.init.zeros_(b)\n",
    # no deprecated alias exists for these: calling them is an AttributeError, not a deprecation
    "import torch.nn as nn\nnn.init.zeros(w)\nnn.init.ones(w)\nnn.init.trunc_normal(w)\n",
    # a local name that is not torch.nn.init
    "def build(init):\n    init.xavier_uniform(w)\n",
    "import numpy as np\nnp.random.uniform(0, 1)\nnp.random.normal(0, 1)\n",
    "from scipy.stats import uniform\nuniform(0, 1)\n",
    "import torch\ntorch.nn.init.normal_(w, 0, 0.02)\nx = torch.normal(0, 1, (3,))\n",
    "class init:\n    @staticmethod\n    def uniform(w):\n        pass\ninit.uniform(w)\n",
])
def test_not_reported(code: str) -> None:
    assert [d for d in lint(code) if d.code == "IA104"] == []


def test_from_import_renames_import_and_every_use_in_one_fix() -> None:
    code = (
        "from torch.nn.init import xavier_uniform, zeros_\n"
        "xavier_uniform(a)\n"
        "xavier_uniform(b)\n"
    )
    found = [d for d in lint(code) if d.code == "IA104"]
    assert [d.line for d in found] == [2, 3]
    fixed, _ = apply_fixes(code, found[:1], unsafe=False)
    assert fixed == (
        "from torch.nn.init import xavier_uniform_, zeros_\n"
        "xavier_uniform_(a)\n"
        "xavier_uniform_(b)\n"
    )


def test_aliased_import_renames_only_the_import() -> None:
    code = "from torch.nn.init import kaiming_normal as kn\nkn(w)\n"
    [diagnostic] = [d for d in lint(code) if d.code == "IA104"]
    assert diagnostic.line == 2
    fixed, _ = apply_fixes(code, [diagnostic], unsafe=False)
    assert fixed == "from torch.nn.init import kaiming_normal_ as kn\nkn(w)\n"


def test_unused_deprecated_import_is_reported() -> None:
    code = "from torch.nn.init import orthogonal\n"
    [diagnostic] = lint(code)
    assert (diagnostic.code, diagnostic.line, diagnostic.column) == ("IA104", 1, 27)
    assert apply_fixes(code, [diagnostic], unsafe=False)[0] == "from torch.nn.init import orthogonal_\n"


def test_references_that_are_not_calls_are_not_uses() -> None:
    # torch's own overrides table lists the deprecated functions without calling them.
    code = "import torch\nIGNORED = {torch.nn.init.uniform, torch.nn.init.normal}\n"
    assert lint(code) == []
