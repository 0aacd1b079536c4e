"""Values that reach an init call through a call: a wrapper class's constructor arguments and
defaults, a helper's parameters, the tuple a helper returns and a ``*``/``**`` argument that
cannot be read (which keeps the rules needing its values quiet)."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from initaudit.config import Config
from initaudit.lint.run.runner import run_lint
from tests.lint.selection import lint_selected

WRAPPER = """\
import torch.nn as nn
import torch.nn.functional as F


class LinearNorm(nn.Module):
    def __init__(self, in_dim, out_dim, bias=True, w_init_gain='linear'):
        super().__init__()
        self.linear_layer = nn.Linear(in_dim, out_dim, bias=bias)
        nn.init.xavier_uniform_(self.linear_layer.weight, gain=nn.init.calculate_gain(w_init_gain))

    def forward(self, x):
        return self.linear_layer(x)
"""

PRENET = """\


class Prenet(nn.Module):
    def __init__(self, in_dim, sizes):
        super().__init__()
        self.layers = nn.ModuleList([{construction} for i, o in zip([in_dim] + sizes[:-1], sizes)])

    def forward(self, x):
        for linear in self.layers:
            x = F.dropout(F.relu(linear(x)), p=0.5, training=True)
        return x
"""


def prenet(construction: str) -> str:
    return WRAPPER + PRENET.format(construction=construction)


# ---------------------------------------------------------------- a wrapper's constructor


def test_a_wrapper_left_at_its_default_gain_before_relu_is_reported_where_it_is_built() -> None:
    found = lint_selected(prenet("LinearNorm(i, o, bias=False)"), "IA103")
    assert [(d.line, d.column) for d in found] == [(18, 38)]
    assert "written at line 9" in found[0].message
    assert "layers.0.linear_layer (Linear) feeds relu" in found[0].message
    assert found[0].fix is None  # the fix would belong in the wrapper, which every caller shares


@pytest.mark.parametrize("construction", [
    "LinearNorm(i, o, w_init_gain='relu')",  # by keyword
    "LinearNorm(i, o, False, 'relu')",  # by position
    "LinearNorm(i, o, **options)",  # unknown: it may pass any gain
    "LinearNorm(*sizes)",  # unknown
])
def test_a_wrapper_given_the_gain_or_an_unknown_one_is_quiet(construction: str) -> None:
    assert lint_selected(prenet(construction), "IA103") == []


def test_the_wrapper_alone_is_not_judged_on_its_default() -> None:
    assert lint_selected(WRAPPER, "IA103") == []


def test_a_wrapper_with_the_tanh_gain_before_tanh_is_quiet_and_before_relu_is_not() -> None:
    code = WRAPPER + textwrap.dedent("""\


        class Attention(nn.Module):
            def __init__(self):
                super().__init__()
                self.query = LinearNorm(8, 8, w_init_gain='tanh')
                self.hidden = LinearNorm(8, 8, w_init_gain='tanh')

            def forward(self, x):
                return F.relu(self.hidden(torch.tanh(self.query(x))))
        """)
    found = lint_selected("import torch\n" + code, "IA103")
    assert [d.line for d in found] == [20]
    assert "hidden.linear_layer (Linear) feeds relu" in found[0].message


def test_xavier_with_the_linear_gain_is_glorot_before_tanh() -> None:
    """``calculate_gain('linear')`` is 1: the same draw as Xavier without a gain."""
    code = WRAPPER + textwrap.dedent("""\


        class Dense(nn.Module):
            def __init__(self):
                super().__init__()
                self.fc = LinearNorm(8, 8)

            def forward(self, x):
                return torch.tanh(self.fc(x))
        """)
    assert lint_selected("import torch\n" + code, "IA103") == []


def test_a_kaiming_wrapper_takes_its_nonlinearity_from_the_constructor() -> None:
    code = textwrap.dedent("""\
        import torch
        import torch.nn as nn


        class Dense(nn.Module):
            def __init__(self, n, nonlinearity='relu'):
                super().__init__()
                self.fc = nn.Linear(n, n)
                nn.init.kaiming_normal_(self.fc.weight, nonlinearity=nonlinearity)

            def forward(self, x):
                return self.fc(x)


        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.a = Dense(8)
                self.b = Dense(8, nonlinearity='tanh')

            def forward(self, x):
                return torch.tanh(self.b(torch.tanh(self.a(x))))
        """)
    found = lint_selected(code, "IA103")
    assert [d.line for d in found] == [18]
    assert "kaiming_normal_ (written at line 9)" in found[0].message


def test_a_fixed_xavier_in_a_wrapper_is_judged_by_what_its_builder_feeds() -> None:
    """The wrapper's own Xavier feeds the wrapper's output: its builder's Sequential decides, and
    the verdict, the init's own, is reported where it is written."""
    code = textwrap.dedent("""\
        import torch.nn as nn
        from torch.nn import init


        class Linear(nn.Module):
            def __init__(self, n_in, n_out):
                super().__init__()
                self.linear = nn.Linear(n_in, n_out)
                init.xavier_uniform_(self.linear.weight)

            def forward(self, x):
                return self.linear(x)


        class FeedForward(nn.Module):
            def __init__(self, d):
                super().__init__()
                self.net = nn.Sequential(Linear(d, 4 * d), nn.ReLU(), Linear(4 * d, d))

            def forward(self, x):
                return self.net(x)
        """)
    found = lint_selected(code, "IA103")
    assert [(d.line, d.column) for d in found] == [(9, 9)]
    assert "net.0.linear (Linear) in FeedForward feeds relu" in found[0].message


# ---------------------------------------------------------------- across files


def write(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        (root / name).write_text(textwrap.dedent(text), encoding="utf-8")
    return root


def project_findings(root: Path) -> list[tuple[str, int, str, str]]:
    run = run_lint([root], Config(), jobs=1)
    assert not run.errors, [r.error for r in run.errors]
    return sorted((Path(d.path).name, d.line, d.code, d.message) for r in run for d in r.diagnostics)


MODEL = """\
import torch.nn as nn
import torch.nn.functional as F
from layers import LinearNorm


class Prenet(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = {first}
        self.fc2 = LinearNorm(8, 8, w_init_gain='relu')

    def forward(self, x):
        return F.relu(self.fc2(F.relu(self.fc1(x))))
"""


def test_a_wrapper_of_another_file_is_reported_where_it_is_built(tmp_path: Path) -> None:
    write(tmp_path, {"pyproject.toml": "", "layers.py": WRAPPER,
                     "model.py": MODEL.format(first="LinearNorm(8, 8, bias=False)")})
    found = project_findings(tmp_path)
    assert [(name, line, code) for name, line, code, _ in found] == [("model.py", 9, "IA103")]
    assert "xavier_uniform_ (written at layers.py:9)" in found[0][3]
    assert "fc1.linear_layer (Linear, layers.py:8) feeds relu" in found[0][3]


def test_a_wrapper_of_another_file_given_the_right_gain_is_quiet(tmp_path: Path) -> None:
    write(tmp_path, {"pyproject.toml": "", "layers.py": WRAPPER,
                     "model.py": MODEL.format(first="LinearNorm(8, 8, w_init_gain='relu')")})
    assert project_findings(tmp_path) == []


# ---------------------------------------------------------------- helpers' parameters


HELPERS = """\
import torch.nn as nn
import torch.nn.functional as F


def init_layer(layer, gain_name="linear"):
    nn.init.xavier_uniform_(layer.weight, gain=nn.init.calculate_gain(gain_name))


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(8, 8)
        self.fc2 = nn.Linear(8, 2)
        init_layer(self.fc1{first})
        init_layer(self.fc2)

    def forward(self, x):
        return self.fc2(F.relu(self.fc1(x)))
"""


def test_a_helper_left_at_its_default_gain_is_reported_at_its_call() -> None:
    found = lint_selected(HELPERS.format(first=""), "IA103")
    assert [d.line for d in found] == [14]
    assert "xavier_uniform_ (written at line 6)" in found[0].message


@pytest.mark.parametrize("first", [", 'relu'", ", gain_name='relu'", ", **options"])
def test_a_helper_given_the_gain_or_an_unknown_one_is_quiet(first: str) -> None:
    assert lint_selected(HELPERS.format(first=first), "IA103") == []


def test_a_helper_default_of_unit_scale_is_reported_at_its_call() -> None:
    code = textwrap.dedent("""\
        import torch.nn as nn


        def draw(layer, std=1.0):
            nn.init.normal_(layer.weight, std=std)


        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.fc1 = nn.Linear(8, 8)
                self.fc2 = nn.Linear(8, 2)
                draw(self.fc1)
                draw(self.fc2, std=0.01)

            def forward(self, x):
                return self.fc2(self.fc1(x))
        """)
    assert [d.line for d in lint_selected(code, "IA105")] == [13]


# ---------------------------------------------------------------- returned tuples and stars


ACTOR = """\
import numpy as np
import torch.nn as nn


def hidden_init(layer):
    {name} = layer.weight.data.size()[{dim}]
    lim = 1. / np.sqrt({name})
    return (-lim, lim)


class Actor(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(8, 16)
        self.fc2 = nn.Linear(16, 2)
        self.fc1.weight.data.uniform_({bounds})
        self.fc2.weight.data.uniform_(-3e-3, 3e-3)

    def forward(self, x):
        return self.fc2(self.fc1(x).relu())
"""


@pytest.mark.parametrize("name", ["fan_in", "n"])
def test_the_bounds_a_helper_returns_are_read_through_the_star(name: str) -> None:
    code = ACTOR.format(name=name, dim=0, bounds="*hidden_init(self.fc1)")
    assert lint_selected(code, "IA105") == []  # U(-lim, lim), not uniform_() with no arguments
    found = lint_selected(code, "IA113")
    # At the draw the call's layer is bound for (each call its own), naming the helper's read.
    assert [(d.line, d.column) for d in found] == [(16, 9)]
    assert "fc1.weight (Linear)" in found[0].message and "(read at line 6)" in found[0].message


@pytest.mark.parametrize(("name", "dim"), [("fan_in", 1), ("fan_out", 0)])
def test_bounds_from_dimension_1_or_named_a_fan_out_are_quiet(name: str, dim: int) -> None:
    code = ACTOR.format(name=name, dim=dim, bounds="*hidden_init(self.fc1)")
    assert lint_selected(code, "IA105", "IA113") == []


@pytest.mark.parametrize("bounds", ["*bounds", "*unknown_helper(self.fc1)", "**options"])
def test_a_star_that_cannot_be_read_keeps_the_value_rules_quiet(bounds: str) -> None:
    code = ACTOR.format(name="fan_in", dim=0, bounds=bounds)
    assert lint_selected(code, "IA105", "IA113") == []


@pytest.mark.parametrize("call", ["nn.init.normal_(self.fc1.weight, *moments)",
                                  "nn.init.normal_(self.fc1.weight, **moments)",
                                  "self.fc1.weight.data.normal_(*moments)"])
def test_a_star_into_an_init_call_is_not_read_as_the_defaults(call: str) -> None:
    code = textwrap.dedent(f"""\
        import torch.nn as nn


        class Net(nn.Module):
            def __init__(self, moments):
                super().__init__()
                self.fc1 = nn.Linear(8, 8)
                {call}

            def forward(self, x):
                return self.fc1(x)
        """)
    assert lint_selected(code, "IA105") == []


def test_a_function_valued_default_is_the_helper_called() -> None:
    code = textwrap.dedent("""\
        import numpy as np
        import torch.nn as nn


        def fanin_init(layer):
            fan_in = layer.weight.data.size()[0]
            return (-1. / np.sqrt(fan_in), 1. / np.sqrt(fan_in))


        class Critic(nn.Module):
            def __init__(self):
                super().__init__()
                self.fc1 = nn.Linear(8, 16)
                self.reset()

            def reset(self, init=fanin_init):
                self.fc1.weight.data.uniform_(*init(self.fc1))

            def forward(self, x):
                return self.fc1(x).relu()
        """)
    assert [d.line for d in lint_selected(code, "IA105", "IA113")] == [17]


@pytest.mark.parametrize(("gain", "found"), [("'linear'", [16]), ("'relu'", [])])
def test_the_keywords_of_a_partial_reach_the_applied_function(gain: str, found: list[int]) -> None:
    code = textwrap.dedent(f"""\
        import functools
        import torch.nn as nn
        import torch.nn.functional as F


        def init_weights(m, gain_name):
            if isinstance(m, nn.Linear):
                nn.init.xavier_uniform_(m.weight, gain=nn.init.calculate_gain(gain_name))


        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.fc1 = nn.Linear(8, 8)
                self.fc2 = nn.Linear(8, 8)
                self.apply(functools.partial(init_weights, gain_name={gain}))

            def forward(self, x):
                return F.relu(self.fc2(F.relu(self.fc1(x))))
        """)
    assert [d.line for d in lint_selected(code, "IA103")] == found


@pytest.mark.parametrize(("gain", "found"), [("", [18]), (", 'relu'", [])])
def test_a_helper_calling_a_helper_is_followed_to_the_init(gain: str, found: list[int]) -> None:
    code = textwrap.dedent(f"""\
        import torch.nn as nn
        import torch.nn.functional as F


        def init_weight(w, gain_name):
            nn.init.xavier_uniform_(w, gain=nn.init.calculate_gain(gain_name))


        def init_layer(layer, gain_name="linear"):
            init_weight(layer.weight, gain_name)


        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.fc1 = nn.Linear(8, 8)
                self.fc2 = nn.Linear(8, 2)
                init_layer(self.fc1{gain})

            def forward(self, x):
                return self.fc2(F.relu(self.fc1(x)))
        """)
    found_lines = [d.line for d in lint_selected(code, "IA103")]
    assert found_lines == found


def test_a_chain_of_helpers_without_values_reports_at_the_init() -> None:
    code = textwrap.dedent("""\
        import torch.nn as nn
        import torch.nn.functional as F


        def init_weight(w):
            nn.init.xavier_uniform_(w)


        def init_layer(layer):
            init_weight(layer.weight)


        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.fc1 = nn.Linear(8, 8)
                self.fc2 = nn.Linear(8, 2)
                init_layer(self.fc1)

            def forward(self, x):
                return self.fc2(F.relu(self.fc1(x)))
        """)
    found = lint_selected(code, "IA103")
    assert [d.line for d in found] == [6]
    assert "fc1 (Linear) feeds relu" in found[0].message
