"""Init helpers that choose their scheme from an argument (``init_type="kaiming"``) and run it
through ``apply`` on the module their caller passes: the branch the call's value takes is judged,
on the modules the argument denotes at the call, in this file or from another project file."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import lint
from tests.lint.test_project import findings, write

DISCRIMINATOR = '''
import torch.nn as nn
from torch.nn import init


def init_weights(net, init_type="normal", gain=0.02):
    def init_func(m):
        classname = m.__class__.__name__
        if hasattr(m, "weight") and classname.find("Conv") != -1:
            if init_type == "normal":
                init.normal_(m.weight.data, 0.0, gain)
            elif init_type == "kaiming":
                init.kaiming_normal_(m.weight.data, a=0, mode="fan_in")
    net.apply(init_func)


class D(nn.Module):
    def __init__(self):
        super().__init__()
        self.model = nn.Sequential(nn.Conv2d(3, 8, 4), nn.LeakyReLU(0.2), nn.Conv2d(8, 8, 4),
                                   nn.BatchNorm2d(8), nn.LeakyReLU(0.2), nn.Conv2d(8, 1, 4))

    def forward(self, x):
        return self.model(x)


def define_D({parameters}):
    net = D()
    init_weights(net, {argument})
    return net
'''
KAIMING_LINE = 13


def codes_and_lines(parameters: str, argument: str) -> list[tuple[str, int]]:
    source = DISCRIMINATOR.format(parameters=parameters, argument=argument)
    return sorted((d.code, d.line) for d in lint(source) if d.code in ("IA103", "IA109"))


@pytest.mark.parametrize(("parameters", "argument"), [
    ("", '"kaiming"'),
    ("", 'init_type="kaiming"'),
])
def test_the_branch_a_string_argument_takes_is_judged_on_the_module_passed(parameters: str, argument: str) -> None:
    # The last conv gives the logits (IA103); the first feeds LeakyReLU(0.2) with a=0 (IA109).
    assert codes_and_lines(parameters, argument) == [("IA103", KAIMING_LINE), ("IA109", KAIMING_LINE)]


@pytest.mark.parametrize(("parameters", "argument"), [
    ("", '"normal"'),
    ("", "init_type='normal'"),
    ("", ""),  # the helper's default
    # a value the caller's own caller chooses: that choice is judged where it is made
    ("init_type", "init_type"),
])
def test_a_branch_the_call_does_not_take_is_not_judged(parameters: str, argument: str) -> None:
    assert codes_and_lines(parameters, argument) == []


def test_a_helper_call_that_passes_the_gain_is_judged_at_the_call() -> None:
    source = DISCRIMINATOR.replace(
        'init.normal_(m.weight.data, 0.0, gain)', 'init.xavier_normal_(m.weight.data, gain=gain)'
    ).format(parameters="", argument='"normal", gain=1.0')
    found = [(d.code, d.line) for d in lint(source) if d.code == "IA103"]
    assert found == [("IA103", 29)]  # Xavier gain 1 before LeakyReLU, reported where 1.0 is written


LAYER_HELPER = '''
import torch.nn as nn


def init_layer(layer, kind="kaiming"):
    if kind == "xavier":
        nn.init.xavier_uniform_(layer.weight)
    elif kind in ("kaiming", "he"):
        nn.init.kaiming_normal_(layer.weight)


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.hidden = nn.Linear(4, 8)
        self.out = nn.Linear(8, 2)
        init_layer(self.hidden, {hidden})
        init_layer(self.out, {out})

    def forward(self, x):
        return self.out(self.hidden(x).relu())
'''


@pytest.mark.parametrize(("hidden", "out", "expected"), [
    ('"kaiming"', '"xavier"', []),
    ('kind="he"', 'kind="xavier"', []),
    ("", '"xavier"', []),
    ('"xavier"', '"kaiming"', [("IA103", 7), ("IA103", 9)]),
])
def test_a_helper_called_directly_runs_only_the_branch_its_argument_takes(hidden: str, out: str,
                                                                          expected: list[tuple[str, int]]) -> None:
    source = LAYER_HELPER.format(hidden=hidden, out=out)
    assert sorted((d.code, d.line) for d in lint(source) if d.code == "IA103") == expected


INIT_UTILS = '''
import torch.nn as nn
from torch.nn import init


def init_normal(m):
    if m.__class__.__name__.find("Conv") != -1 or m.__class__.__name__.find("Linear") != -1:
        init.normal_(m.weight.data, 0.0, 0.02)


def init_kaiming(m):
    if m.__class__.__name__.find("Conv") != -1 or m.__class__.__name__.find("Linear") != -1:
        init.kaiming_normal_(m.weight.data, a=0, mode="fan_in")


def init_weights(net, init_type="normal"):
    if init_type == "normal":
        net.apply(init_normal)
    elif init_type == "kaiming":
        net.apply(init_kaiming)
    else:
        raise NotImplementedError(init_type)
'''
UNET = '''
import torch.nn as nn
from pkg.init_utils import init_weights


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = nn.Sequential(nn.Conv2d(3, 8, 3), nn.ReLU())
        self.final = nn.Conv2d(8, 2, 1)
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                init_weights(m, init_type={init_type})

    def forward(self, x):
        return self.final(self.body(x))
'''
GATED = '''
import torch.nn as nn
from pkg.init_utils import init_weights


class SqEx(nn.Module):
    def __init__(self, n):
        super().__init__()
        self.linear1 = nn.Linear(n, n // 2)
        self.linear2 = nn.Linear(n // 2, n)

    def forward(self, x):
        return self.linear2(self.linear1(x).relu()).sigmoid()


class Up(nn.Module):
    def __init__(self, n):
        super().__init__()
        self.sqex = SqEx(n)
        self.conv = nn.Sequential(nn.Conv2d(n, n, 3), nn.ReLU())
        for m in self.children():
            init_weights(m, init_type={init_type})

    def forward(self, x):
        return self.conv(self.sqex(x))
'''


def project(tmp_path: Path, model: str, init_type: str) -> list[tuple[str, int, str, str]]:
    write(tmp_path, {"pyproject.toml": "", "pkg/__init__.py": "", "pkg/init_utils.py": INIT_UTILS,
                     "pkg/model.py": model.format(init_type=init_type)})
    return [found for found in findings([tmp_path]) if found[2] == "IA103"]


def test_an_imported_helper_applying_the_scheme_its_argument_names_is_judged_at_the_call(tmp_path: Path) -> None:
    found = project(tmp_path, UNET, '"kaiming"')
    assert [(name, line, code) for name, line, code, _ in found] == [("model.py", 13, "IA103")]
    assert "final (Conv2d) feeds no activation" in found[0][3]
    assert "written at pkg/init_utils.py:13" in found[0][3]


def test_an_imported_helper_applied_to_each_child_reaches_the_layers_inside_it(tmp_path: Path) -> None:
    found = project(tmp_path, GATED, '"kaiming"')
    assert [(name, line, code) for name, line, code, _ in found] == [("model.py", 22, "IA103")]
    assert "sqex.linear2 (Linear) feeds sigmoid" in found[0][3]


@pytest.mark.parametrize("model", [UNET, GATED])
def test_an_imported_helper_whose_argument_picks_another_scheme_is_quiet(tmp_path: Path, model: str) -> None:
    assert project(tmp_path, model, '"normal"') == []


LEAKY = '''
import torch.nn as nn


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(4, 8), nn.LeakyReLU(0.2), nn.Linear(8, 8), nn.BatchNorm1d(8),
                                 nn.LeakyReLU(0.2), nn.Linear(8, 8), nn.LeakyReLU(0.2))
        for m in self.modules():
            if isinstance(m, nn.Linear):
                nn.init.kaiming_normal_(m.weight, a={slope})

    def forward(self, x):
        return self.net(x)
'''


def test_a_slope_that_differs_from_the_leaky_activations_some_layers_feed() -> None:
    found = [d for d in lint(LEAKY.format(slope="0")) if d.code == "IA109"]
    assert [(d.code, d.line) for d in found] == [("IA109", 12)]
    assert "slope 0.2" in found[0].message
    assert found[0].fix is None  # rewriting it would also change the layer before the norm


def test_a_slope_that_matches_the_leaky_activations_some_layers_feed() -> None:
    assert [d.code for d in lint(LEAKY.format(slope="0.2")) if d.code == "IA109"] == []


def test_a_parameter_the_helper_binds_again_is_no_longer_the_value_passed() -> None:
    source = DISCRIMINATOR.replace(
        '    def init_func(m):', '    init_type = "normal" if gain < 0.1 else init_type\n\n    def init_func(m):'
    )
    assert [d.code for d in lint(source.format(parameters="", argument='"kaiming"'))
            if d.code in ("IA103", "IA109")] == []
    source = LAYER_HELPER.replace('    if kind == "xavier":', '    kind = kind.lower()\n    if kind == "xavier":')
    # the value tested is unknown: both branches may run, as for a call whose value is unknown
    assert sorted((d.code, d.line) for d in lint(source.format(hidden='"XAVIER"', out='"XAVIER"'))
                  if d.code == "IA103") == [("IA103", 8), ("IA103", 10)]
