"""Names a star import binds: ``from torch.nn.init import *`` gives the init functions under
their own names, and ``from utils import *`` gives what ``utils`` imported (``nn`` after
``import torch.nn as nn`` there), as Python binds them; a name the module defines, keeps
private or leaves out of ``__all__`` is not one of them."""

from __future__ import annotations

from pathlib import Path

import pytest

from initaudit.config import Config
from initaudit.lint.run.engine import fix_text, lint_source
from initaudit.lint.run.runner import run_lint
from tests.lint.test_project import findings, write

#: A model whose init calls reach torch only through ``nn`` (bound by {star}).
MODEL = """\
{star}


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(8, 8)
        nn.init.xavier_uniform(self.fc.weight)
"""


def codes(source: str) -> list[tuple[int, str]]:
    return [(d.line, d.code) for d in lint_source(source)]


def test_init_functions_from_a_star_import_of_the_init_module() -> None:
    source = (
        "from torch.nn.init import *\n"
        "import torch.nn as nn\n"
        "layer = nn.Linear(4, 4)\n"
        "xavier_uniform(layer.weight)\n"
    )
    assert codes(source) == [(4, "IA104")]
    assert "xavier_uniform_(layer.weight)" in fix_text("m.py", source, Config())


def test_layer_classes_and_init_from_a_star_import_of_torch_nn() -> None:
    source = (
        "from torch.nn import *\n"
        "class Net(Module):\n"
        "    def __init__(self):\n"
        "        super().__init__()\n"
        "        self.fc = Linear(4, 4)\n"
        "        init.constant(self.fc.bias, 0)\n"
    )
    assert codes(source) == [(6, "IA104")]


def test_a_name_bound_in_the_file_is_not_the_star_imports() -> None:
    source = (
        "from torch.nn.init import *\n"
        "def xavier_uniform(w):\n"
        "    return w\n"
        "xavier_uniform(None)\n"
    )
    assert codes(source) == []


def test_a_builtin_is_not_taken_for_a_star_imported_name() -> None:
    # ``from torch import *`` gives ``zeros``, not ``max``, ``len`` or ``print``.
    source = (
        "from torch import *\n"
        "import torch.nn as nn\n"
        "layer = nn.Linear(4, 4)\n"
        "print(len(layer.weight), max(1, 2))\n"
    )
    assert codes(source) == []


def test_a_module_alias_through_a_project_star_import(tmp_path: Path) -> None:
    root = write(tmp_path, {"utils.py": "import torch\nimport torch.nn as nn\n",
                            "model.py": MODEL.format(star="from utils import *")})
    assert [(name, line, code) for name, line, code, _ in findings([root])] == [("model.py", 8, "IA104")]


def test_a_module_alias_through_two_star_imports(tmp_path: Path) -> None:
    root = write(tmp_path, {"pkg/__init__.py": "", "pkg/base.py": "from torch import nn\n",
                            "pkg/layers.py": "from .base import *\n",
                            "pkg/model.py": MODEL.format(star="from .layers import *")})
    assert [(name, line, code) for name, line, code, _ in findings([root])] == [("model.py", 8, "IA104")]


@pytest.mark.parametrize("utils", [
    # ``__all__`` leaves ``nn`` out, so the star import does not give it.
    "import torch.nn as nn\n__all__ = ['helper']\ndef helper():\n    pass\n",
    # ``nn`` is the module's own class, not torch's.
    "class nn:\n    pass\n",
    # A name starting with an underscore is never given by a star import.
    "import torch.nn as _nn\nnn = None\n",
])
def test_names_a_project_star_import_does_not_give(tmp_path: Path, utils: str) -> None:
    root = write(tmp_path, {"utils.py": utils, "model.py": MODEL.format(star="from utils import *")})
    assert findings([root]) == []


def test_the_fix_keeps_a_name_the_star_import_does_not_give(tmp_path: Path) -> None:
    # ``utils`` gives the old name only: renaming the call would leave a name nothing binds.
    root = write(tmp_path, {"utils.py": "from torch.nn.init import xavier_uniform\n",
                            "model.py": "from utils import *\nimport torch.nn as nn\n"
                                        "layer = nn.Linear(4, 4)\nnn.init.zeros_(layer.bias)\n"
                                        "xavier_uniform(layer.weight)\n"})
    run = run_lint([root / "model.py"], Config(), jobs=1)
    [diagnostic] = [d for result in run for d in result.diagnostics]
    assert (diagnostic.line, diagnostic.code) == (5, "IA104")
    assert diagnostic.fix is None or not diagnostic.fix.edits


def test_the_fix_renames_a_name_the_star_import_also_gives_new(tmp_path: Path) -> None:
    root = write(tmp_path, {"utils.py": "from torch.nn.init import *\n",
                            "model.py": "from utils import *\nimport torch.nn as nn\n"
                                        "layer = nn.Linear(4, 4)\nnn.init.zeros_(layer.bias)\n"
                                        "xavier_uniform(layer.weight)\n"})
    run = run_lint([root / "model.py"], Config(), jobs=1)
    [diagnostic] = [d for result in run for d in result.diagnostics]
    assert diagnostic.fix is not None and [edit.text for edit in diagnostic.fix.edits] == ["xavier_uniform_"]
