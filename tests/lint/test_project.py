"""Project-wide analysis: classes and init helpers of other project files are known, findings
are reported where the init call is written, a run given one changed file sees what a full run
sees, results are the same with any number of workers, and cached results follow the files they
read."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from initaudit.config import Config
from initaudit.lint.run import engine
from initaudit.lint.run.runner import run_lint
from tests.lint.selection import selecting

BLOCKS = """\
import torch.nn as nn
import torch.nn.functional as F


class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(8, 8)
        self.fc2 = nn.Linear(8, 8)

    def forward(self, x):
        return self.fc2(F.relu(self.fc1(x)))
"""

#: A model built of an imported block, initialised in its own __init__.
MODEL = """\
import torch
import torch.nn as nn
{import_line}


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.block = Block()
        self.head = nn.Linear(8, 2)
        for m in self.modules():
            if isinstance(m, nn.Linear):
                nn.init.{function}(m.weight)

    def forward(self, x):
        return self.head(torch.tanh(self.block(x)))
"""

INIT_HELPERS = """\
import torch.nn as nn


def init_weights(net):
    for m in net.modules():
        if isinstance(m, nn.Linear):
            nn.init.xavier_uniform_(m.weight)


def weights_init(m):
    if isinstance(m, nn.Linear):
        nn.init.kaiming_normal_(m.weight)
"""

#: The model file, without an init of its own.
PLAIN_MODEL = """\
import torch
import torch.nn as nn
from .blocks import Block


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.block = Block()
        self.head = nn.Linear(8, 2)

    def forward(self, x):
        return self.head(torch.tanh(self.block(x)))
"""

TRAIN = """\
from pkg.model import Net
from pkg.init_utils import init_weights, weights_init

model = Net()
init_weights(model)
other = Net()
other.apply(weights_init)
"""


def write(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text), encoding="utf-8")
    return root


def findings(paths: list[Path], jobs: int = 1, config: Config | None = None,
             **options) -> list[tuple[str, int, str, str]]:
    run = run_lint(paths, config or Config(), jobs=jobs, **options)
    assert not run.errors, [r.error for r in run.errors]
    return sorted((Path(d.path).name, d.line, d.code, d.message) for r in run for d in r.diagnostics)


def three_files(root: Path) -> Path:
    """pkg/blocks.py (the block), pkg/model.py (the model), pkg/init_utils.py (the init helpers)
    and train.py (the calls)."""
    return write(root, {"pyproject.toml": "", "pkg/__init__.py": "", "pkg/blocks.py": BLOCKS,
                        "pkg/model.py": PLAIN_MODEL, "pkg/init_utils.py": INIT_HELPERS,
                        "train.py": TRAIN})


# ---------------------------------------------------------------- imports of every kind


@pytest.mark.parametrize("layout", ["relative", "absolute", "script", "src", "relative module",
                                    "module alias", "dotted module"])
def test_a_block_of_another_file_is_known(tmp_path: Path, layout: str) -> None:
    files = {
        "relative": {"pyproject.toml": "", "pkg/__init__.py": "", "pkg/blocks.py": BLOCKS,
                     "pkg/model.py": ("from .blocks import Block", "pkg/blocks.py")},
        "absolute": {"pyproject.toml": "", "pkg/__init__.py": "", "pkg/blocks.py": BLOCKS,
                     "pkg/model.py": ("from pkg.blocks import Block", "pkg/blocks.py")},
        # A script folder without __init__.py: ``from blocks import Block`` is its sibling.
        "script": {"blocks.py": BLOCKS, "model.py": ("from blocks import Block", "blocks.py")},
        "src": {"pyproject.toml": "", "src/pkg/__init__.py": "", "src/pkg/blocks.py": BLOCKS,
                "scripts/model.py": ("from pkg.blocks import Block", "src/pkg/blocks.py")},
        # A module imported whole, its class built through it.
        "relative module": {"pyproject.toml": "", "pkg/__init__.py": "", "pkg/blocks.py": BLOCKS,
                            "pkg/model.py": ("from . import blocks", "pkg/blocks.py", "blocks.Block")},
        "module alias": {"pyproject.toml": "", "pkg/__init__.py": "", "pkg/blocks.py": BLOCKS,
                         "pkg/model.py": ("import pkg.blocks as b", "pkg/blocks.py", "b.Block")},
        "dotted module": {"pyproject.toml": "", "pkg/__init__.py": "", "pkg/layers/__init__.py": "",
                          "pkg/layers/blocks.py": BLOCKS,
                          "pkg/model.py": ("import pkg.layers.blocks", "pkg/layers/blocks.py",
                                           "pkg.layers.blocks.Block")},
    }[layout]
    model_name, (import_line, shown, *built) = next((k, v) for k, v in files.items() if isinstance(v, tuple))
    files[model_name] = MODEL.format(import_line=import_line, function="xavier_uniform_").replace(
        "self.block = Block()", f"self.block = {built[0] if built else 'Block'}()")
    write(tmp_path, files)  # type: ignore[arg-type]
    found = findings([tmp_path])
    assert [(name, line, code) for name, line, code, _ in found] == [("model.py", 13, "IA103")]
    assert f"block.fc1 (Linear, {shown}:8) feeds relu" in found[0][3]


def test_the_right_scheme_on_an_imported_block_is_quiet(tmp_path: Path) -> None:
    write(tmp_path, {"pkg/__init__.py": "", "pkg/blocks.py": BLOCKS,
                     "pkg/model.py": MODEL.format(import_line="from .blocks import Block",
                                                  function="kaiming_normal_")})
    # fc1 feeds relu (right); fc2 and head feed tanh or the output: Kaiming is wrong there only
    # for the head, which the model's own forward shows, and for fc2, which feeds tanh.
    messages = [message for *_, message in findings([tmp_path])]
    assert not any("block.fc1 " in message for message in messages)


def test_a_re_export_through_the_package_init_is_followed(tmp_path: Path) -> None:
    write(tmp_path, {"pkg/__init__.py": "from .blocks import Block\n", "pkg/blocks.py": BLOCKS,
                     "train.py": MODEL.format(import_line="from pkg import Block", function="xavier_uniform_")})
    found = findings([tmp_path])
    assert [(name, code) for name, _, code, _ in found] == [("train.py", "IA103")]
    assert "block.fc1 (Linear, pkg/blocks.py:8)" in found[0][3]


def test_an_import_from_outside_the_project_stays_unknown(tmp_path: Path) -> None:
    # The same block installed in a virtual environment inside the project is not project code.
    write(tmp_path, {"pyproject.toml": "", ".venv/lib/site-packages/ext/__init__.py": "",
                     ".venv/lib/site-packages/ext/blocks.py": BLOCKS,
                     "site-packages/ext/__init__.py": "", "site-packages/ext/blocks.py": BLOCKS,
                     "model.py": MODEL.format(import_line="from ext.blocks import Block",
                                              function="xavier_uniform_")})
    assert findings([tmp_path / "model.py"]) == []


def test_an_import_cycle_is_harmless(tmp_path: Path) -> None:
    write(tmp_path, {"pkg/__init__.py": "", "pkg/blocks.py": "from .model import Net\n" + BLOCKS,
                     "pkg/model.py": MODEL.format(import_line="from .blocks import Block",
                                                  function="xavier_uniform_")})
    assert [code for _, _, code, _ in findings([tmp_path])] == ["IA103"]


# ---------------------------------------------------------------- init helpers of another file


def test_an_imported_init_helper_is_reported_at_its_call(tmp_path: Path) -> None:
    found = findings([three_files(tmp_path)])
    assert [(name, line, code) for name, line, code, _ in found] == [
        ("train.py", 5, "IA103"), ("train.py", 7, "IA103"), ("train.py", 7, "IA103")]
    assert "model.block.fc1 (Linear, pkg/blocks.py:8) feeds relu" in found[0][3]
    # The block's output layer feeds what the model makes of the block's output: a tanh.
    assert "other.block.fc2 (Linear, pkg/blocks.py:9) feeds tanh" in found[1][3]
    assert "other.head (Linear, pkg/model.py:10) feeds no activation" in found[2][3]


def test_an_imported_helper_run_again_by_a_later_apply_is_superseded(tmp_path: Path) -> None:
    """``model.apply(weights_init)`` after ``init_weights(model)`` rewrites every Linear weight:
    only the later one's findings stand, and the earlier call is reported as voided (IA111)."""
    root = three_files(tmp_path)
    (root / "train.py").write_text(TRAIN.replace("other = Net()\nother.apply", "model.apply"), encoding="utf-8")
    found = findings([root])
    assert [(name, line, code) for name, line, code, _ in found] == [("train.py", 6, "IA103")] * 2 + [
        ("train.py", 6, "IA111")]
    assert "model.block.fc2 (Linear, pkg/blocks.py:9) feeds tanh" in found[0][3]
    assert "model.head (Linear, pkg/model.py:10) feeds no activation" in found[1][3]
    assert "so the xavier_uniform_ at pkg/init_utils.py:7, run by the call at line 5, has no effect" in found[2][3]


def test_a_finding_at_an_imported_helper_call_offers_no_fix(tmp_path: Path) -> None:
    root = three_files(tmp_path)
    run = run_lint([root], Config(), jobs=1, fix=True, unsafe_fixes=True, write=False)
    train = next(r for r in run if r.path.endswith("train.py"))
    assert train.diagnostics and all(d.fix is None for d in train.diagnostics)
    assert train.fixed_text is None


def test_a_helper_called_on_its_argument_in_the_same_file(tmp_path: Path) -> None:
    (tmp_path / "net.py").write_text(BLOCKS + "\n\n" + textwrap.dedent("""\
        def init_weights(net):
            for m in net.modules():
                if isinstance(m, nn.Linear):
                    nn.init.xavier_uniform_(m.weight)


        block = Block()
        init_weights(block)
        """))
    found = findings([tmp_path])
    assert [(line, code) for _, line, code, _ in found] == [(18, "IA103")]  # at the init, in this file
    assert "fc1 (Linear) feeds relu" in found[0][3]


def test_an_imported_function_without_init_does_not_make_its_caller_parsed(tmp_path: Path, monkeypatch) -> None:
    write(tmp_path, {"pkg/__init__.py": "", "pkg/blocks.py": BLOCKS,
                     "pkg/helpers.py": "def count(model):\n    return sum(1 for _ in model.parameters())\n",
                     "use.py": "from pkg.blocks import Block\nfrom pkg.helpers import count\ncount(Block())\n"})
    analysed = []
    original = engine._analyse

    def recording(path, *args, **kwargs):
        analysed.append(Path(path).name)
        return original(path, *args, **kwargs)

    monkeypatch.setattr(engine, "_analyse", recording)
    assert findings([tmp_path]) == []
    assert analysed == []


# ---------------------------------------------------------------- one changed file, workers, cache


def test_a_run_given_one_changed_file_sees_what_a_full_run_sees(tmp_path: Path) -> None:
    root = three_files(tmp_path)
    full = [f for f in findings([root]) if f[0] == "train.py"]
    assert full and findings([root / "train.py"]) == full


def test_several_workers_give_the_same_findings(tmp_path: Path) -> None:
    root = three_files(tmp_path)
    for index in range(20):  # enough files for the run to use workers
        write(root, {f"pkg/variant{index}.py": MODEL.format(import_line="from .blocks import Block",
                                                            function="xavier_uniform_" if index % 2 else "orthogonal_")})
    one = findings([root], jobs=1)
    assert len(one) > 10
    assert findings([root], jobs=3) == one


def test_a_cached_result_follows_the_files_its_analysis_read(tmp_path: Path) -> None:
    root = three_files(tmp_path / "project")
    cache = tmp_path / "cache"
    first = findings([root], cache_dir=cache)
    assert any("feeds relu" in message for *_, message in first)
    assert findings([root], cache_dir=cache) == first
    blocks = root / "pkg" / "blocks.py"
    blocks.write_text(blocks.read_text().replace("F.relu", "torch.tanh").replace(
        "import torch.nn as nn", "import torch\nimport torch.nn as nn"))
    changed = findings([root], cache_dir=cache)
    assert changed == findings([root])
    assert not any("feeds relu" in message for *_, message in changed)


def test_a_zero_init_helper_of_another_file_is_reported_at_its_call(tmp_path: Path) -> None:
    write(tmp_path, {"pkg/__init__.py": "", "pkg/blocks.py": BLOCKS,
                     "pkg/zero.py": """\
                         import torch.nn as nn


                         def zero_linears(net):
                             for m in net.modules():
                                 if isinstance(m, nn.Linear):
                                     nn.init.zeros_(m.weight)
                         """,
                     "run.py": "from pkg.blocks import Block\nfrom pkg.zero import zero_linears\n\n"
                               "block = Block()\nzero_linears(block)\n"})
    found = findings([tmp_path], config=selecting("IA101"))
    assert [(name, line, code) for name, line, code, _ in found] == [("run.py", 5, "IA101")]


# ---------------------------------------------------------------- what is modelled


#: Classes that are module classes without ``nn.Module`` in their own statement.
INDIRECT_MODULES = {
    "a local base": "import torch.nn as nn\n\nclass Base(nn.Module):\n    pass\n\n"
                    "class Mid(Base):\n    pass\n\nclass Block(Mid, object):\n    size = 8\n",
    "an alias of Module": "from torch.nn import Module as Base\n\nclass Block(Base):\n    size = 8\n",
    "a forward method": 'class Block:\n    """A\nstring at column 0 ends nothing"""\n\n'
                        "    def forward(self, x):\n        return x\n",
    "a nested class": "def make():\n    class Block(Base):\n        pass\n    return Block\n",
}


@pytest.mark.parametrize("blocks", INDIRECT_MODULES.values(), ids=INDIRECT_MODULES.keys())
def test_a_module_class_told_from_its_text_is_modelled(tmp_path: Path, blocks: str) -> None:
    from initaudit.lint.model.project import Project

    write(tmp_path, {"pkg/__init__.py": "", "pkg/blocks.py": blocks})
    blocks_file = tmp_path / "pkg" / "blocks.py"
    project = Project((str(tmp_path),))
    assert project._may_be_module(blocks_file, "Block", set())


def test_a_block_told_by_its_forward_is_known_across_files(tmp_path: Path) -> None:
    blocks = BLOCKS.replace("class Block(nn.Module):", 'class Block:\n    """A\nstring"""')
    write(tmp_path, {"pkg/__init__.py": "", "pkg/blocks.py": blocks,
                     "pkg/model.py": MODEL.format(import_line="from .blocks import Block",
                                                  function="xavier_uniform_")})
    found = findings([tmp_path])
    assert [(name, code) for name, _, code, _ in found] == [("model.py", "IA103")]
    assert "block.fc1 (Linear, pkg/blocks.py:" in found[0][3]


def test_an_imported_class_that_is_no_module_is_not_modelled(tmp_path: Path) -> None:
    from initaudit.lint.model.project import Binding, Project

    write(tmp_path, {"pkg/__init__.py": "", "pkg/config.py": "class Config:\n    size = 8\n",
                     "pkg/blocks.py": BLOCKS})
    project = Project((str(tmp_path),))
    config, blocks = tmp_path / "pkg" / "config.py", tmp_path / "pkg" / "blocks.py"
    assert not project._may_be_module(config, "Config", set())
    assert not project.provides(Binding(config, "Config"), "class")
    assert project.provides(Binding(blocks, "Block"), "class")
    assert project._models.keys() == {blocks}


def test_a_class_naming_module_only_in_its_body_is_no_module_class(tmp_path: Path) -> None:
    from initaudit.lint.model.project import Project

    write(tmp_path, {"pkg/__init__.py": "", "pkg/registry.py":
                     "import torch.nn as nn\n\nclass Registry:\n    def add(self, m):\n"
                     "        return isinstance(m, nn.Module) and m.forward\n"})
    assert not Project((str(tmp_path),))._may_be_module(tmp_path / "pkg" / "registry.py", "Registry", set())


HELPERS_OF_OWN_TENSORS = """\
import torch


def noise(n):
    y = torch.empty(n)
    y.normal_()
    return y


def fresh(shape):
    return torch.empty(shape).normal_()


def reset(out):
    out.zero_()


def made(n):
    y = torch.empty(n)
    reset(y)
    return y


def zero_all(m):
    for p in m.parameters():
        reset(p)
"""


@pytest.mark.parametrize("call, initialises", [
    ("noise(3)", False), ("fresh((3,))", False), ("net.weight = made(3)", False),
    ("reset(net.weight)", True), ("zero_all(nn.Linear(2, 2))", True),
    ("reset(buffer)", False),  # nothing in the caller is a model's: it fills a plain tensor
])
def test_a_helper_initialises_a_caller_only_through_its_arguments(tmp_path: Path, call: str,
                                                                 initialises: bool) -> None:
    from initaudit.lint.model.project import Links, Project

    write(tmp_path, {"pkg/__init__.py": "", "pkg/helpers.py": HELPERS_OF_OWN_TENSORS})
    called = call.rpartition("= ")[2].partition("(")[0]
    caller = f"from .helpers import {called}\n\nbuffer = net = None\n{call}\n"
    links = Links(Project((str(tmp_path),)), tmp_path / "pkg" / "use.py", caller)
    assert links.calls_initialiser(caller) is initialises


#: A block that initialises nothing (a module class all the same) and a helper that does.
PLAIN_AND_HELPER = BLOCKS.replace("class Block", "class Plain") + """

def init_layer(m):
    nn.init.zeros_(m.weight)
"""


@pytest.mark.parametrize("caller, initialises", [
    ("from pkg import blocks\n\nlayer = nn.Linear(2, 2)\nblocks.init_layer(layer)\n", True),
    ("from pkg import blocks\n\nnet = blocks.Plain()\n", False),
    ("from pkg.blocks import *\n\nlayer = nn.Linear(2, 2)\ninit_layer(layer)\n", True),
    ("from pkg.blocks import *\n\nnet = Plain()\n", False),
])
def test_a_name_reached_through_a_module_or_a_star_import_is_read_only_when_its_text_initialises(
        tmp_path: Path, caller: str, initialises: bool) -> None:
    """As for a name imported itself: a class whose construction names no init is not modelled
    to decide whether its file is analysed."""
    from initaudit.lint.model.project import Links, Project

    write(tmp_path, {"pkg/__init__.py": "", "pkg/blocks.py": PLAIN_AND_HELPER})
    project = Project((str(tmp_path),))
    links = Links(project, tmp_path / "pkg" / "use.py", caller)
    assert links.calls_initialiser(caller) is initialises
    assert bool(project._models) is initialises


#: Blocks behind an unrelated class that is larger than the block.
SLICED_BLOCKS = "import torch.nn as nn\nimport torch.nn.functional as F\n\n\nclass Unrelated(nn.Module):\n" + "".join(
    f"    def method_{i}(self):\n        return {i}\n\n" for i in range(30)) + "\n" + BLOCKS.split("\n", 3)[3]


def test_an_imported_block_is_modelled_from_its_slice_and_located_in_its_file(tmp_path: Path) -> None:
    from initaudit.lint.model.project import Project

    write(tmp_path, {"pkg/__init__.py": "", "pkg/blocks.py": SLICED_BLOCKS,
                     "pkg/model.py": MODEL.format(import_line="from .blocks import Block",
                                                  function="xavier_uniform_")})
    found = findings([tmp_path])
    line = SLICED_BLOCKS.splitlines().index("        self.fc1 = nn.Linear(8, 8)") + 1
    assert [(name, code) for name, _, code, _ in found] == [("model.py", "IA103")]
    assert f"block.fc1 (Linear, pkg/blocks.py:{line})" in found[0][3]
    project = Project((str(tmp_path),))
    model = project.model(tmp_path / "pkg" / "blocks.py", "Block")
    assert model is not None and set(model.classes) == {"Block"}


def test_a_definition_a_slice_already_holds_is_not_parsed_again(tmp_path: Path) -> None:
    from initaudit.lint.model.project import Project

    based = SLICED_BLOCKS.replace("class Block(nn.Module):", "class Base(nn.Module):\n    pass\n\n\nclass Block(Base):")
    write(tmp_path, {"pkg/__init__.py": "", "pkg/blocks.py": based})
    project = Project((str(tmp_path),))
    block = project.model(tmp_path / "pkg" / "blocks.py", "Block")
    assert block is not None and set(block.classes) == {"Base", "Block"}
    assert project.model(tmp_path / "pkg" / "blocks.py", "Base") is block
    unrelated = project.model(tmp_path / "pkg" / "blocks.py", "Unrelated")
    assert unrelated is not block and "Unrelated" in unrelated.classes


def test_a_file_a_slice_cannot_cut_is_modelled_whole(tmp_path: Path) -> None:
    from initaudit.lint.model.project import Project

    cut = SLICED_BLOCKS.replace("class Unrelated(nn.Module):\n",
                                "def table():\n    return dict(\nwidth=8)\n\n\nclass Unrelated(nn.Module):\n")
    write(tmp_path, {"pkg/__init__.py": "", "pkg/blocks.py": cut})
    model = Project((str(tmp_path),)).model(tmp_path / "pkg" / "blocks.py", "Block")
    assert model is not None and set(model.classes) == {"Unrelated", "Block"}


@pytest.mark.parametrize("project_wide", [False, True])
def test_a_checked_file_is_freed_without_the_cycle_collector(tmp_path: Path, project_wide: bool) -> None:
    """No reference cycle holds a syntax tree: each file's trees go as soon as it is done, and
    the run can leave the cyclic collector paused while a file is checked."""
    import gc

    import libcst as cst

    from initaudit.lint.model.project import Project

    three_files(tmp_path)
    project = Project((str(tmp_path),)) if project_wide else None
    paths = [tmp_path / "pkg" / "model.py", tmp_path / "pkg" / "init_utils.py", tmp_path / "train.py"]
    gc.collect()
    enabled = gc.isenabled()
    gc.disable()
    gc.set_debug(gc.DEBUG_SAVEALL)
    try:
        for path in paths:
            engine.lint_file(str(path), path.read_bytes(), Config(), project=project)
        gc.collect()
        left = [o for o in gc.garbage if isinstance(o, cst.CSTNode)]
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
        if enabled:
            gc.enable()
    assert left == []
