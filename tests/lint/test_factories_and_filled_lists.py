"""Layers made by a function of the file that builds, initialises and returns them; lists of
layers bound by unpacking (``enc, dec = [], []``) and filled by a loop; optional layers set to
None in one branch; functions of the file that ``forward`` calls with a layer; a project class
that only specialises a torch.nn layer."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from initaudit.config import Config
from initaudit.lint.run.runner import run_lint
from tests.lint.selection import lint_selected

FACTORY = '''
import torch
from torch import nn


def Conv1d(in_channels, out_channels, kernel_size, dropout=0, **kwargs):
    m = nn.Conv1d(in_channels, out_channels, kernel_size, **kwargs)
    nn.init.kaiming_normal_(m.weight, nonlinearity="relu")
    if m.bias is not None:
        nn.init.constant_(m.bias, 0)
    return {returned}


class Block(nn.Module):
    def __init__(self, c, *args, **kwargs):
        super().__init__()
        self.conv = Conv1d(c, c, 3, padding=1, *args, **kwargs)

    def forward(self, x):
        return {activation}(self.conv(x))
'''


def _factory(returned: str = "m", activation: str = "torch.tanh") -> str:
    return FACTORY.format(returned=returned, activation=activation)


def test_the_init_inside_a_factory_reaches_the_layer_the_caller_stores() -> None:
    found = lint_selected(_factory(), "IA103")
    assert [(d.line, d.code) for d in found] == [(8, "IA103")]
    assert "conv (Conv1d) feeds tanh" in found[0].message


def test_a_factory_returning_its_layer_through_weight_norm_is_a_factory() -> None:
    found = lint_selected(_factory("nn.utils.weight_norm(m)"), "IA103")
    assert [d.code for d in found] == ["IA103"]


def test_a_factory_layer_followed_by_the_activation_its_init_assumes_is_quiet() -> None:
    assert lint_selected(_factory(activation="torch.relu"), "IA103") == []


def test_a_function_returning_a_parameter_it_did_not_build_is_no_factory() -> None:
    code = _factory().replace("    return m\n", "    return kwargs\n")
    assert lint_selected(code, "IA103") == []


CHAIN = '''
import torch
from torch import nn


def Conv1d(i, o, kernel_size, **kwargs):
    m = nn.Conv1d(i, o, kernel_size, **kwargs)
    nn.init.kaiming_normal_(m.weight, nonlinearity="relu")
    return m


def Conv1d1x1(i, o, bias=True):
    return Conv1d(i, o, kernel_size=1, bias=bias)


def _apply(conv, x, incremental):
    if incremental:
        x = conv.incremental_forward(x)
    else:
        x = conv(x)
    return x


class Gate(nn.Module):
    def __init__(self, c, cond=-1):
        super().__init__()
        self.conv = Conv1d(c, 2 * c, 3, padding=1)
        if cond > 0:
            self.cond = Conv1d1x1(cond, 2 * c, bias=False)
        else:
            self.cond = None
        self.out = Conv1d1x1(c, c)

    def forward(self, x, h):
        x = self.conv(x)
        a, b = x.split(x.size(1) // 2, dim=1)
        h = _apply(self.cond, h, False)
        ha, hb = h.split(h.size(1) // 2, dim=1)
        a, b = a + ha, b + hb
        x = {gate}
        return {out}
'''


def test_a_factory_calling_a_factory_and_a_function_forward_calls_with_the_layer() -> None:
    found = lint_selected(CHAIN.format(gate="torch.tanh(a) * torch.sigmoid(b)", out="self.out(x)"), "IA103")
    messages = sorted(d.message.split(" but ")[1].split(";")[0] for d in found)
    assert messages == ["cond (Conv1d) feeds sigmoid", "conv (Conv1d) feeds sigmoid",
                        "out (Conv1d) feeds no activation (it is the model's output)"]


def test_the_same_layers_feeding_relu_are_quiet() -> None:
    code = CHAIN.format(gate="torch.relu(a) * torch.relu(b)", out="torch.relu(self.out(x))")
    assert lint_selected(code, "IA103") == []


UNPACKED = '''
import torch
import torch.nn as nn


class DAE(nn.Module):
    def __init__(self, dims):
        super().__init__()
        {lists}
        for i in range(len(dims) // 2):
            enc.append(nn.Linear(dims[i], dims[i + 1]))
            dec.append(nn.Linear(dims[i + 1], dims[i]))
        self.encoder = nn.ModuleList(enc)
        self.decoder = nn.ModuleList(dec)
        self.encoder.apply(self.weight_init)
        self.decoder.apply(self.weight_init)

    def weight_init(self, m):
        if isinstance(m, nn.Linear):
            nn.init.kaiming_normal_(m.weight)
            m.bias.data.zero_()

    def forward(self, x):
        for i, layer in enumerate(self.encoder):
            x = {activation}(layer(x))
        for i, layer in enumerate(self.decoder):
            x = layer(x)
            if i != len(self.decoder) - 1:
                x = {activation}(x)
        return x
'''


def test_lists_bound_by_unpacking_hold_what_the_loop_appends() -> None:
    found = lint_selected(UNPACKED.format(lists="enc, dec = [], []", activation="torch.tanh"), "IA103")
    assert {d.message.split(" but ")[1].split(" (")[0] for d in found} == {"encoder.0", "decoder.0"}


def test_unpacked_lists_feeding_relu_are_quiet() -> None:
    assert lint_selected(UNPACKED.format(lists="enc, dec = [], []", activation="torch.relu"), "IA103") == []


def test_a_list_unpacked_from_an_unknown_value_is_unknown() -> None:
    code = UNPACKED.format(lists="enc, dec = make_lists()", activation="torch.tanh")
    assert lint_selected(code, "IA103") == []


PROJECT_CONV = '''
from torch import nn


class Conv1d(nn.Conv1d):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._buffer = None

    def incremental_forward(self, x):
        self._buffer = x
        return x
'''

PROJECT_MODEL = '''
import torch
from torch import nn
from pkg import conv


def Conv1d(i, o, k):
    m = conv.Conv1d(i, o, k)
    nn.init.kaiming_normal_(m.weight, nonlinearity="relu")
    return m


class Block(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.conv = Conv1d(c, c, 3)

    def forward(self, x):
        return {activation}(self.conv(x))
'''


def _project(root: Path, activation: str) -> list[tuple[str, int, str]]:
    files = {"pkg/__init__.py": "", "pkg/conv.py": PROJECT_CONV,
             "pkg/model.py": PROJECT_MODEL.format(activation=activation)}
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(textwrap.dedent(text), encoding="utf-8")
    run = run_lint([root], Config(), jobs=1)
    return sorted((Path(d.path).name, d.line, d.code) for r in run for d in r.diagnostics if d.code == "IA103")


def test_a_project_class_specialising_a_torch_layer_is_that_layer(tmp_path: Path) -> None:
    assert _project(tmp_path, "torch.tanh") == [("model.py", 9, "IA103")]


def test_a_project_class_specialising_a_torch_layer_before_relu_is_quiet(tmp_path: Path) -> None:
    assert _project(tmp_path, "torch.relu") == []


STARRED = '''
import torch
from torch import nn


def init_layer(layer, scale=1.0):
    nn.init.kaiming_normal_(layer.weight)


class Net(nn.Module):
    def __init__(self, extra):
        super().__init__()
        self.fc = nn.Linear(4, 4)
        init_layer({arguments})

    def forward(self, x):
        return torch.tanh(self.fc(x))
'''


def test_arguments_before_a_starred_one_bind_as_python_binds_them() -> None:
    found = lint_selected(STARRED.format(arguments="self.fc, *extra"), "IA103")
    assert [d.code for d in found] == ["IA103"]


def test_a_parameter_only_a_starred_argument_can_fill_stays_unbound() -> None:
    assert lint_selected(STARRED.format(arguments="*extra, self.fc"), "IA103") == []


OPTIONAL = '''
import torch
from torch import nn


class Net(nn.Module):
    def __init__(self, project):
        super().__init__()
        {assignments}
        nn.init.kaiming_normal_(self.proj.weight)

    def forward(self, x):
        return torch.tanh(self.proj(x))
'''


def test_an_optional_layer_set_to_none_in_the_other_branch_is_the_layer() -> None:
    code = OPTIONAL.format(assignments="if project:\n            self.proj = nn.Linear(4, 4)\n"
                                       "        else:\n            self.proj = None")
    assert [d.code for d in lint_selected(code, "IA103")] == ["IA103"]


def test_a_layer_replaced_by_none_unconditionally_is_not_known() -> None:
    code = OPTIONAL.format(assignments="self.proj = nn.Linear(4, 4)\n        self.proj = None")
    assert lint_selected(code, "IA103") == []


def test_a_factory_called_without_arguments_builds_and_initialises_its_layer() -> None:
    code = '''
import torch
from torch import nn


def head():
    m = nn.Linear(8, 2)
    nn.init.kaiming_normal_(m.weight)
    return m


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.head = head()

    def forward(self, x):
        return {activation}(self.head(x))
'''
    assert [d.code for d in lint_selected(code.format(activation="torch.tanh"), "IA103")] == ["IA103"]
    assert lint_selected(code.format(activation="torch.relu"), "IA103") == []


FILLED = '''
import torch
from torch import nn


class Net(nn.Module):
    def __init__(self, n):
        super().__init__()
{filling}
        for m in self.modules():
            if isinstance(m, nn.Linear):
                nn.init.kaiming_normal_(m.weight)

    def forward(self, x):
        for layer in self.layers:
            x = {activation}(layer(x))
        return x
'''

FILLINGS = {
    "append": "self.layers = nn.ModuleList()\nfor _ in range(n):\n    self.layers.append(nn.Linear(4, 4))",
    "iadd": "self.layers = nn.ModuleList()\nfor _ in range(n):\n    self.layers += [nn.Linear(4, 4)]",
    "extend": "self.layers = nn.ModuleList()\nfor _ in range(n):\n    self.layers.extend([nn.Linear(4, 4)])",
    "wrapped": "layers = []\nfor _ in range(n):\n    layers.append(nn.Linear(4, 4))\nself.layers = nn.ModuleList(layers)",
    "unpacked": "layers, rest = [], []\nfor _ in range(n):\n    layers += [nn.Linear(4, 4)]\nself.layers = nn.Sequential(*layers)",
}


@pytest.mark.parametrize("filling", sorted(FILLINGS))
def test_a_container_filled_by_a_loop_holds_the_layers_it_appends(filling: str) -> None:
    body = textwrap.indent(FILLINGS[filling], " " * 8)
    assert [d.code for d in lint_selected(FILLED.format(filling=body, activation="torch.tanh"), "IA103")] == ["IA103"]
    assert lint_selected(FILLED.format(filling=body, activation="torch.relu"), "IA103") == []


FACTORIES_FILE = '''
from torch import nn


def Conv1d(i, o, kernel_size, **kwargs):
    m = nn.Conv1d(i, o, kernel_size, **kwargs)
    nn.init.kaiming_normal_(m.weight, nonlinearity="relu")
    return nn.utils.weight_norm(m)


def Conv1d1x1(i, o, bias=True):
    return Conv1d(i, o, kernel_size=1, bias=bias)
'''

IMPORTER = '''
import torch
from torch import nn

from .modules import Conv1d1x1


class Net(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.last = nn.ModuleList([
            nn.ReLU(inplace=True),
            Conv1d1x1(c, c),
            nn.ReLU(inplace=True),
            Conv1d1x1(c, c),
        ])

    def forward(self, x):
        for f in self.last:
            x = f(x)
        return {returned}
'''


def _imported(root: Path, returned: str) -> list[tuple[str, int, str, str]]:
    files = {"pkg/__init__.py": "", "pkg/modules.py": FACTORIES_FILE,
             "pkg/net.py": IMPORTER.format(returned=returned)}
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(textwrap.dedent(text), encoding="utf-8")
    run = run_lint([root], Config(), jobs=1)
    return sorted((Path(d.path).name, d.line, d.code, d.message) for r in run for d in r.diagnostics
                  if d.code == "IA103")


def test_an_imported_factory_returning_another_factorys_layer_is_followed(tmp_path: Path) -> None:
    found = _imported(tmp_path, "x")
    # last.1 feeds the ReLU after it (right for He); last.3, the list's last, is the output.
    assert [(name, line, code) for name, line, code, _ in found] == [("net.py", 15, "IA103")]
    assert "last.3" in found[0][3] and "last.1" not in found[0][3]


def test_an_imported_factory_layer_followed_by_relu_is_quiet(tmp_path: Path) -> None:
    assert _imported(tmp_path, "torch.relu(x)") == []
