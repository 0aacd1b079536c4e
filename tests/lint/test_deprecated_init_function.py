"""IA104 deprecated-init-function."""

from __future__ import annotations

import functools
import sys
import types

import pytest

from initaudit import knowledge
from initaudit.diagnostics import Diagnostic
from initaudit.lint.fixes.apply import apply_fixes
from tests.lint.selection import lint_selected

ARGS = {"constant": "w, 0.1", "sparse": "w, 0.1", "dirac": "w4", "eye": "w"}


def lint(code: str) -> list[Diagnostic]:
    """IA104 selected alone: no other rule's finding on these calls can change a case."""
    return lint_selected(code, "IA104")


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
    found = lint(code)
    assert len(found) == 1
    assert found[0].line == 2 and found[0].column == 1
    fixed, applied = apply_fixes(code, found, unsafe=False)
    assert applied == 1
    assert knowledge.DEPRECATED_ALIASES[alias] + "(" in fixed
    assert lint(fixed) == []


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
    assert lint(code) == []


def test_from_import_renames_import_and_every_use_in_one_fix() -> None:
    code = (
        "from torch.nn.init import xavier_uniform, zeros_\n"
        "xavier_uniform(a)\n"
        "xavier_uniform(b)\n"
    )
    found = lint(code)
    assert [d.line for d in found] == [2, 3]
    fixed, _ = apply_fixes(code, found[:1], unsafe=False)
    assert fixed == (
        "from torch.nn.init import xavier_uniform_, zeros_\n"
        "xavier_uniform_(a)\n"
        "xavier_uniform_(b)\n"
    )


def test_aliased_import_renames_only_the_import() -> None:
    code = "from torch.nn.init import kaiming_normal as kn\nkn(w)\n"
    [diagnostic] = lint(code)
    assert diagnostic.line == 2
    fixed, _ = apply_fixes(code, [diagnostic], unsafe=False)
    assert fixed == "from torch.nn.init import kaiming_normal_ as kn\nkn(w)\n"


def test_unused_deprecated_import_is_reported() -> None:
    code = "from torch.nn.init import orthogonal\n"
    [diagnostic] = lint(code)
    assert (diagnostic.code, diagnostic.line, diagnostic.column) == ("IA104", 1, 27)
    assert apply_fixes(code, [diagnostic], unsafe=False)[0] == "from torch.nn.init import orthogonal_\n"


@pytest.mark.parametrize("code", [
    # torch's own overrides table lists the deprecated functions without calling them,
    "import torch\nIGNORED = {torch.nn.init.uniform, torch.nn.init.normal}\n",
    # and a table of names maps each to the function it stands for (to patch them all).
    "import torch.nn as nn\nINITS = {'normal': nn.init.normal, 'eye': nn.init.eye}\n",
])
def test_references_held_in_a_collection_are_not_uses(code: str) -> None:
    assert lint(code) == []


@pytest.mark.parametrize("code, fixed", [
    ("import torch.nn as nn\ndef conv(init=nn.init.kaiming_normal):\n    return init\n",
     "import torch.nn as nn\ndef conv(init=nn.init.kaiming_normal_):\n    return init\n"),
    ("import functools\nimport torch.nn as nn\nf = functools.partial(nn.init.constant, val=0)\n",
     "import functools\nimport torch.nn as nn\nf = functools.partial(nn.init.constant_, val=0)\n"),
    ("from torch.nn.init import orthogonal\nchosen = orthogonal\n",
     "from torch.nn.init import orthogonal_\nchosen = orthogonal_\n"),
    ("import torch.nn as nn\nlayer = Block(weight_init=nn.init.xavier_uniform)\n",
     "import torch.nn as nn\nlayer = Block(weight_init=nn.init.xavier_uniform_)\n"),
])
def test_a_reference_handed_on_to_be_called_is_a_use(code: str, fixed: str) -> None:
    """A default, an argument or an assigned value is called later under another name."""
    assert {d.code for d in lint(code)} == {"IA104"}
    assert fix_all(code) == fixed


def fix_all(code: str) -> str:
    """The text after every safe fix, round after round, as ``--fix`` does."""
    for _ in range(5):
        found = lint(code)
        code, applied = apply_fixes(code, found, unsafe=False)
        if not applied:
            return code
    raise AssertionError("fixes did not settle")


def _stand_in_torch() -> dict[str, types.ModuleType]:
    """torch, torch.nn and a torch.nn.init whose old names forward to the new ones."""
    init = types.ModuleType("torch.nn.init")
    for old, new in knowledge.DEPRECATED_ALIASES.items():
        setattr(init, new, functools.partial(lambda name, *args, **kwargs: (name, args), new))
        setattr(init, old, getattr(init, new))
    nn = types.ModuleType("torch.nn")
    nn.init = init  # type: ignore[attr-defined]
    torch = types.ModuleType("torch")
    torch.nn = nn  # type: ignore[attr-defined]
    return {"torch": torch, "torch.nn": nn, "torch.nn.init": init}


STAND_IN_TORCH = _stand_in_torch()


def run_module(code: str, monkeypatch) -> object:
    """``RESULT`` after executing ``code`` against the stand-in torch."""
    for name, module in STAND_IN_TORCH.items():
        monkeypatch.setitem(sys.modules, name, module)
    namespace: dict[str, object] = {"__name__": "fixed"}
    exec(compile(code, "<fixed>", "exec"), namespace)
    return namespace["RESULT"]


RENAMED_EVERYWHERE = '''\
from torch.nn.init import xavier_normal

FNS = [xavier_normal]


def f(w):
    global xavier_normal
    xavier_normal(w)
    return xavier_normal


def g(xavier_normal):
    return xavier_normal(1)


class A:
    xavier_normal = 3

    def m(self, w):
        return xavier_normal(w, gain=self.xavier_normal)


RESULT = [FNS[0](1), f(2)(3), g(lambda x: x + 1), A().m(4)]
del xavier_normal
'''


def test_safe_fix_renames_every_use_of_the_imported_name(monkeypatch) -> None:
    fixed = fix_all(RENAMED_EVERYWHERE)
    assert fixed == (RENAMED_EVERYWHERE.replace("import xavier_normal\n", "import xavier_normal_\n")
                     .replace("[xavier_normal]", "[xavier_normal_]")
                     .replace("global xavier_normal", "global xavier_normal_")
                     .replace("    xavier_normal(w)\n    return xavier_normal\n",
                              "    xavier_normal_(w)\n    return xavier_normal_\n")
                     .replace("return xavier_normal(w, gain", "return xavier_normal_(w, gain")
                     .replace("del xavier_normal", "del xavier_normal_"))
    assert "def g(xavier_normal):\n    return xavier_normal(1)" in fixed  # a parameter shadows it
    assert "self.xavier_normal" in fixed and "    xavier_normal = 3" in fixed
    assert run_module(fixed, monkeypatch) == run_module(RENAMED_EVERYWHERE, monkeypatch)


def test_a_list_of_the_old_function_keeps_working(monkeypatch) -> None:
    code = "from torch.nn.init import xavier_normal\nFNS = [xavier_normal]\nRESULT = FNS[0](1)\n"
    fixed = fix_all(code)
    assert fixed == "from torch.nn.init import xavier_normal_\nFNS = [xavier_normal_]\nRESULT = FNS[0](1)\n"
    assert run_module(fixed, monkeypatch) == ("xavier_normal_", (1,))


def test_import_inside_a_function_renames_that_scope_only(monkeypatch) -> None:
    code = ("def build(w):\n    from torch.nn.init import normal\n    return [normal, normal(w)]\n\n"
            "normal = 5\nRESULT = (build(1), normal)\n")
    fixed = fix_all(code)
    assert fixed == code.replace("import normal\n", "import normal_\n").replace(
        "[normal, normal(w)]", "[normal_, normal_(w)]")
    assert run_module(fixed, monkeypatch) == run_module(code, monkeypatch)


@pytest.mark.parametrize("code", [
    # exported by name: renaming would change the module's interface
    "from torch.nn.init import orthogonal\n__all__ = ['orthogonal']\nRESULT = orthogonal(1)\n",
    # looked up by a string
    "from torch.nn.init import orthogonal\nRESULT = globals()[\"orthogonal\"](1)\n",
    # the new name already means something else here
    "from torch.nn.init import orthogonal\northogonal_ = len\nRESULT = orthogonal(1), orthogonal_('ab')\n",
    # a nested function rebinds it through ``nonlocal``: the import is then bound both ways
    "def outer(w):\n    from torch.nn.init import orthogonal\n    def inner():\n        nonlocal orthogonal\n"
    "        orthogonal = orthogonal\n    inner()\n    return orthogonal(w)\nRESULT = outer(1)\n",
    # the variable may hold another module's function
    "try:\n    from fastinit import orthogonal\nexcept ImportError:\n    from torch.nn.init import orthogonal\n"
    "RESULT = orthogonal(1)\n",
])
def test_import_is_aliased_where_renaming_could_change_meaning(code: str, monkeypatch) -> None:
    fixed = fix_all(code)
    assert fixed == code.replace("torch.nn.init import orthogonal\n", "torch.nn.init import orthogonal_ as orthogonal\n")
    assert lint(fixed) == []
    assert run_module(fixed, monkeypatch) == run_module(code, monkeypatch)


def test_an_unused_deprecated_import_is_reported_beside_a_qualified_use_of_the_same_name() -> None:
    """Found by fuzzing: the qualified call hid the import, whose rename only a second round of
    --fix then made, unreported."""
    found = lint("""
        from torch.nn.init import kaiming_normal as kn
        import torch
        torch.nn.init.kaiming_normal(w)
    """)
    assert [(d.code, d.line) for d in found] == [("IA104", 2), ("IA104", 4)]
