"""Where a layer and an init come from: a helper's ``*args`` bound to the call's arguments, an
attribute bound in the arms of an ``if``, an init written in a wrapper the applied function
calls, layers handed to a constructor, and script code that redraws a built model."""

from __future__ import annotations

from pathlib import Path

import libcst as cst
import pytest

from initaudit.config import Config
from initaudit.lint.model.binding import bind, decided
from initaudit.lint.run.runner import run_lint
from tests.lint.selection import selecting
from tests.lint.test_project import write


def findings(root: Path, files: dict[str, str], *rules: str) -> list[tuple[str, int, str]]:
    """(file, line, code) of the findings of ``rules`` in the project ``files``."""
    run = run_lint([write(root, {"pyproject.toml": "", **files})], selecting(*rules) if rules else Config())
    assert not run.errors, [r.error for r in run.errors]
    return sorted((Path(d.path).name, d.line, d.code) for r in run for d in r.diagnostics)


# ---------------------------------------------------------------- *args of a helper

VARARGS_HELPER = """\
from torch import nn


def init_all(*models):
    for model in models:
        for module in model.modules():
            if isinstance(module, nn.Conv2d):
                nn.init.kaiming_normal_(module.weight)
"""

UNET = """\
from torch import nn

from .utils import init_all


class TinyUNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = nn.Sequential(nn.Conv2d(3, 8, 3), nn.ReLU(), nn.Conv2d(8, 8, 3), nn.ReLU())
        self.final = nn.Conv2d(8, 2, 1)
        init_all({arguments})

    def forward(self, x):
        return {forward}
"""


def _unet(root: Path, arguments: str, forward: str) -> list[tuple[str, int, str]]:
    return findings(root, {"pkg/__init__.py": "", "pkg/utils.py": VARARGS_HELPER,
                           "pkg/unet.py": UNET.format(arguments=arguments, forward=forward)}, "IA103")


def test_the_arguments_of_a_varargs_call_are_each_looped_over(tmp_path: Path) -> None:
    # ``final`` feeds no activation: the ReLU gain the helper gives it is wrong.
    assert _unet(tmp_path, "self.body, self.final", "self.final(self.body(x))") == [("unet.py", 11, "IA103")]


def test_one_argument_to_the_varargs_is_the_loop_variable(tmp_path: Path) -> None:
    assert _unet(tmp_path, "self", "self.final(self.body(x))") == [("unet.py", 11, "IA103")]


def test_varargs_whose_layers_all_feed_relu_are_quiet(tmp_path: Path) -> None:
    assert _unet(tmp_path, "self.body, self.final", "nn.functional.relu(self.final(self.body(x)))") == []


def test_an_argument_not_passed_to_the_varargs_is_not_reached(tmp_path: Path) -> None:
    assert _unet(tmp_path, "self.body", "self.final(self.body(x))") == []


def test_a_starred_argument_leaves_the_varargs_unknown(tmp_path: Path) -> None:
    assert _unet(tmp_path, "*[self.body, self.final]", "self.final(self.body(x))") == []


def test_binding_packs_what_no_named_parameter_takes() -> None:
    function = cst.parse_module("def f(a, *args, k=1, **kwargs): pass").body[0]
    assert isinstance(function, cst.FunctionDef)
    call = cst.parse_expression("f(x, y, z, k=2, extra=w)")
    assert isinstance(call, cst.Call)
    code = {name: cst.Module([]).code_for_node(value)
            for name, value in bind(function, call, skip_self=False, packed=True).items()}
    assert code == {"a": "x", "args": "(y, z)", "k": "2", "kwargs": "{'extra': w}"}
    starred = cst.parse_expression("f(x, *rest, **more)")
    assert isinstance(starred, cst.Call)
    assert set(bind(function, starred, skip_self=False, packed=True)) == {"a"}


# ---------------------------------------------------------------- bound in the arms of an if

CRITIC = """\
import torch.nn as nn


class Critic(nn.Module):
    def __init__(self, {parameter}):
        super().__init__()
        if pooling == "flat":
            self.fc = nn.Sequential(nn.Linear(64, 32), nn.PReLU(32), nn.Linear(32, 1))
        else:
            self.fc = nn.Linear(64, 1)

    def forward(self, x):
        return self.fc(x)
"""

GAN = """\
import torch.nn as nn
from critic import Critic


def init_linear(m):
    if isinstance(m, nn.Linear):
        nn.init.xavier_uniform_(m.weight)


class GAN(nn.Module):
    def __init__(self):
        super().__init__()
        self.critic = Critic({argument})
        self.critic.apply(init_linear)
"""


def _critic(root: Path, parameter: str, argument: str = "") -> list[tuple[str, int, str]]:
    return findings(root, {"critic.py": CRITIC.format(parameter=parameter),
                           "gan.py": GAN.format(argument=argument)}, "IA103")


def test_the_arm_the_defaults_take_gives_the_layer(tmp_path: Path) -> None:
    # With pooling="flat" the first Linear feeds PReLU: gain-1 Xavier is wrong for it.
    assert _critic(tmp_path, 'pooling="flat"') == [("gan.py", 7, "IA103")]


def test_the_arm_the_defaults_take_judged_right_is_quiet(tmp_path: Path) -> None:
    # With any other default the layer is the single Linear producing the output.
    assert _critic(tmp_path, 'pooling="conv"') == []


def test_arms_no_default_decides_are_not_judged(tmp_path: Path) -> None:
    assert _critic(tmp_path, "pooling", argument='"flat"') == []


# ---------------------------------------------------------------- an init in a wrapper

DETECTOR = """\
import torch.nn as nn
import torch.nn.functional as F


class Detector(nn.Module):
    def __init__(self):
        super().__init__()
        self.extras = nn.ModuleList([nn.Conv2d(16, 16, 3), nn.Conv2d(16, 16, 3)])

    def forward(self, x):
        for layer in self.extras:
            x = F.relu(layer(x))
        return x
"""

WRAPPED = """\
import torch.nn as nn
import torch.nn.init as init
from net import Detector


def glorot(tensor, gain=1.0):
    init.xavier_uniform_(tensor, gain=gain)


def init_convs(m):
    if isinstance(m, nn.Conv2d):
        glorot(m.weight.data{gain})
        m.bias.data.zero_()


model = Detector()
model.extras.apply(init_convs)
"""


def _wrapped(root: Path, gain: str) -> list[tuple[str, int, str]]:
    return findings(root, {"net.py": DETECTOR, "train.py": WRAPPED.format(gain=gain)}, "IA103")


def test_an_init_in_a_wrapper_the_applied_function_calls_is_followed(tmp_path: Path) -> None:
    # Reported at the wrapper's call, where the gain it runs with (its default) is decided.
    assert _wrapped(tmp_path, "") == [("train.py", 12, "IA103")]


def test_a_wrapper_given_the_right_gain_is_quiet(tmp_path: Path) -> None:
    assert _wrapped(tmp_path, ', gain=init.calculate_gain("relu")') == []


# ---------------------------------------------------------------- layers handed to a constructor

HOLDER = """\
import torch.nn as nn
import torch.nn.functional as F


class Detector(nn.Module):
    def __init__(self, extras):
        super().__init__()
        self.extras = nn.ModuleList(extras)

    def forward(self, x):
        for layer in self.extras:
            x = F.relu(layer(x))
        return x


def make_extras():
    return [nn.Conv2d(16, 16, 3), nn.Conv2d(16, 16, 3)]


def init_convs(m):
    if isinstance(m, nn.Conv2d):
        nn.init.xavier_uniform_(m.weight)


{constructions}
model.extras.apply(init_convs)
"""


def _holder(root: Path, constructions: str) -> list[tuple[str, int, str]]:
    return findings(root, {"net.py": HOLDER.format(constructions=constructions)}, "IA103")


def test_layers_a_factory_hands_the_constructor_fill_the_holder(tmp_path: Path) -> None:
    assert _holder(tmp_path, "model = Detector(make_extras())") == [("net.py", 22, "IA103")]


def test_layers_written_at_the_construction_fill_the_holder(tmp_path: Path) -> None:
    assert _holder(tmp_path, "model = Detector([nn.Conv2d(16, 16, 3)])") == [("net.py", 22, "IA103")]


def test_a_sequential_unpacking_the_argument_is_filled(tmp_path: Path) -> None:
    text = HOLDER.replace("nn.ModuleList(extras)", "nn.Sequential(*extras)").replace(
        "for layer in self.extras:\n            x = F.relu(layer(x))\n        return x", "return self.extras(x)")
    constructions = "model = Detector([nn.Conv2d(16, 16, 3), nn.{act}(), nn.Conv2d(16, 16, 3), nn.{act}()])"
    assert findings(tmp_path / "relu", {"net.py": text.format(constructions=constructions.format(
        act="ReLU"))}, "IA103") == [("net.py", 20, "IA103")]
    assert findings(tmp_path / "tanh", {"net.py": text.format(constructions=constructions.format(
        act="Tanh"))}, "IA103") == []


def test_constructions_that_disagree_leave_the_holder_unknown(tmp_path: Path) -> None:
    assert _holder(tmp_path, "other = Detector([nn.Linear(4, 4)])\nmodel = Detector(make_extras())") == []


# ---------------------------------------------------------------- script code after construction

NET = """\
import torch
import torch.nn as nn


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.proj = nn.Linear(8, 8)
        nn.init.orthogonal_(self.proj.weight)

    def forward(self, x):
        return torch.tanh(self.proj(x))
"""

RUN = """\
import sys
import torch.nn as nn
from model import Net

net = Net()
for p in net.parameters():
    {test}:
        nn.init.xavier_uniform_(p)
"""


def _run(root: Path, test: str) -> list[tuple[str, int, str]]:
    return findings(root, {"model.py": NET, "run.py": RUN.format(test=test)}, "IA111")


def test_a_script_loop_over_the_built_model_voids_its_init(tmp_path: Path) -> None:
    assert _run(tmp_path, "if p.dim() > 1") == [("run.py", 8, "IA111")]


def test_a_script_loop_under_its_own_test_may_not_run(tmp_path: Path) -> None:
    assert _run(tmp_path, 'if "--xavier" in sys.argv') == []


def test_a_script_loop_over_the_biases_leaves_the_weight_init(tmp_path: Path) -> None:
    assert _run(tmp_path, "if p.dim() == 1") == []


NONE_DEFAULT = """\
import torch.nn as nn


def init_linear(m):
    if isinstance(m, nn.Linear):
        nn.init.xavier_uniform_(m.weight)


class Critic(nn.Module):
    def __init__(self, head=None, flat={flat}):
        super().__init__()
        if head is None:
            if not flat:
                self.fc = nn.Linear(64, 1)
            else:
                self.fc = nn.Sequential(nn.Linear(64, 32), nn.PReLU(32), nn.Linear(32, 1))
        else:
            self.fc = head
        self.fc.apply(init_linear)

    def forward(self, x):
        return self.fc(x)
"""


@pytest.mark.parametrize("flat", ["True", "False"])
def test_a_flag_default_does_not_decide_the_arms(tmp_path: Path, flat: str) -> None:
    """``flat=True`` or ``head=None`` says nothing of what the constructions pass: the arms
    disagree (a Linear before PReLU, or one at the output), so nothing is judged."""
    assert findings(tmp_path, {"critic.py": NONE_DEFAULT.format(flat=flat)}, "IA103") == []


INITS = """\
import torch.nn as nn
import torch.nn.init as init


def glorot(tensor, gain=1.0):
    init.xavier_uniform_(tensor, gain=gain)


def init_convs(m):
    if isinstance(m, nn.Conv2d):
        glorot(m.weight{gain})
"""

APPLIED = """\
from net import Detector
from inits import init_convs

model = Detector()
model.extras.apply(init_convs)
"""


def test_an_imported_applied_function_calling_a_wrapper_is_followed(tmp_path: Path) -> None:
    files = {"net.py": DETECTOR, "train.py": APPLIED}
    assert findings(tmp_path / "gain1", {**files, "inits.py": INITS.format(gain="")}, "IA103") == [
        ("train.py", 5, "IA103")]
    assert findings(tmp_path / "relu", {**files, "inits.py": INITS.format(
        gain=', gain=init.calculate_gain("relu")')}, "IA103") == []


def test_a_function_building_and_redrawing_the_model_voids_its_init(tmp_path: Path) -> None:
    run = "import torch.nn as nn\nfrom model import Net\n\n\ndef main():\n    net = Net()\n" \
          "    for p in net.parameters():\n        if p.dim() > 1:\n            nn.init.xavier_uniform_(p)\n"
    assert findings(tmp_path, {"model.py": NET, "run.py": run}, "IA111") == [("run.py", 9, "IA111")]


@pytest.mark.parametrize("test, held, verdict", [
    ("m.he_init", {"m.he_init": "False"}, False),
    ("not m.he_init and m.kind == 'conv'", {"m.he_init": "False", "m.kind": "'conv'"}, True),
    ("m.he_init", {"he_init": "True"}, None),  # an attribute is bound by its dotted name only
])
def test_a_test_reads_an_attribute_bound_by_its_dotted_name(test: str, held: dict[str, str], verdict: bool | None) -> None:
    bound = {name: cst.parse_expression(value) for name, value in held.items()}
    assert decided(cst.parse_expression(test), bound) is verdict
