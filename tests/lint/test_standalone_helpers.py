"""Init helpers judged where they are written: class tests (``isinstance``, ``type(m) ==``,
``classname.find(...)``, ``elif`` chains) fix the kind of layer an operation writes, whatever the
helper is later applied to, so what holds for every layer of those classes is reported at the
helper's own line; what depends on the activation after the layer (IA103) still needs the model."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.lint.selection import lint_selected
from tests.lint.test_project import findings, write

ALL = ("IA101", "IA102", "IA103", "IA105", "IA107", "IA110", "IA111", "IA113", "IA114")


def lines_and_codes(code: str) -> list[tuple[int, str]]:
    return [(d.line, d.code) for d in lint_selected(code, *ALL)]


@pytest.mark.parametrize(("body", "code"), [
    ("if isinstance(m, nn.BatchNorm2d):\n        nn.init.normal_(m.weight, 0.0, 0.02)", "IA114"),
    ("if isinstance(m, (nn.Conv2d, nn.BatchNorm2d)):\n        nn.init.uniform_(m.weight, -0.1, 0.1)", "IA114"),
    ("if isinstance(m, nn.Linear):\n        nn.init.xavier_uniform_(m.bias)", "IA110"),
    ("if isinstance(m, nn.Linear):\n        m.weight.data.fill_(0.5)", "IA102"),
    ("if isinstance(m, nn.Linear):\n        nn.init.zeros_(m.weight)", "IA101"),
    ("if isinstance(m, nn.Conv2d):\n        nn.init.normal_(m.weight)", "IA105"),
    ("if type(m) == nn.Linear:\n        m.weight.normal_(0, 0.01)", "IA107"),
    ("if isinstance(m, nn.Linear):\n        nn.init.normal_(m.weight, 0, 1 / math.sqrt(m.weight.size(0)))", "IA113"),
])
def test_a_helper_dispatching_on_the_class_is_judged_at_its_line(body: str, code: str) -> None:
    source = f"import math\nimport torch.nn as nn\n\n\ndef init(m):\n    {body}\n"
    assert lines_and_codes(source) == [(7, code)]


def test_a_class_name_found_in_an_elif_chain() -> None:
    assert lines_and_codes("""
        import torch.nn as nn

        def weights_init(m):
            classname = m.__class__.__name__
            if classname.find('Conv') != -1:
                m.weight.data.normal_(0.0, 0.02)
            elif classname.find('BatchNorm') != -1:
                m.weight.data.normal_(0.0, 0.02)
                m.bias.data.fill_(0)
    """) == [(9, "IA114")]


def test_the_example_of_a_helper_file() -> None:
    assert lines_and_codes("""
        import torch.nn as nn

        def weights_init(m):
            if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d, nn.BatchNorm2d)):
                nn.init.normal_(m.weight.data, 0.0, 0.02)

        def other_init(m):
            if isinstance(m, nn.Linear):
                nn.init.xavier_uniform_(m.bias)
                m.weight.data.fill_(0.5)
    """) == [(6, "IA114"), (10, "IA110"), (11, "IA102")]


def test_a_scheme_wanting_an_activation_stays_quiet_without_the_model() -> None:
    assert lines_and_codes("""
        import torch.nn as nn

        def init(m):
            if isinstance(m, nn.Linear):
                nn.init.kaiming_normal_(m.weight, nonlinearity='relu')
    """) == []


@pytest.mark.parametrize("helper", [
    "def init(w):\n    nn.init.zeros_(w)",  # a tensor of no known kind
    "def init(m):\n    nn.init.normal_(m.weight)",  # no class test
    "def init(m):\n    if isinstance(m, nn.BatchNorm2d):\n        nn.init.ones_(m.weight)",
    "def init(m):\n    if isinstance(m, nn.Linear):\n        pass\n    else:\n        nn.init.normal_(m.weight)",
    # a zero start under a test of something else than the class: a head, on purpose
    "def init(m, name=''):\n    if isinstance(m, nn.Linear):\n        if name.startswith('head'):\n"
    "            nn.init.zeros_(m.weight)",
    "def zero_module(m):\n    if isinstance(m, nn.Conv2d):\n        nn.init.zeros_(m.weight)",
    "def init(m):\n    if isinstance(m, MyNorm):\n        nn.init.normal_(m.weight, 0, 0.02)",
    # Glorot's bound for each of q, k and v: both fans summed, not dimension 0 taken as the fan-in
    "def init(m):\n    if isinstance(m, nn.Linear):\n"
    "        val = math.sqrt(6. / float(m.weight.shape[0] // 3 + m.weight.shape[1]))\n"
    "        nn.init.uniform_(m.weight, -val, val)",
])
def test_nothing_is_judged_without_a_class_that_fixes_the_kind(helper: str) -> None:
    assert lines_and_codes(f"import math\nimport torch.nn as nn\nfrom blocks import MyNorm\n\n\n{helper}\n") == []


def test_a_helper_applied_in_its_file_is_reported_once() -> None:
    found = lint_selected("""
        import torch.nn as nn

        def weights_init(m):
            if isinstance(m, nn.BatchNorm2d):
                nn.init.normal_(m.weight, 0.0, 0.02)

        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.conv = nn.Conv2d(3, 8, 3)
                self.bn = nn.BatchNorm2d(8)
                self.apply(weights_init)

            def forward(self, x):
                return self.bn(self.conv(x))
    """, *ALL)
    assert [(d.line, d.code) for d in found] == [(6, "IA114")]
    assert "bn.weight (BatchNorm2d)" in found[0].message  # the model's layer, named by resolution


HELPERS = """\
import torch.nn as nn


def weights_init(m):
    if isinstance(m, nn.BatchNorm2d):
        nn.init.normal_(m.weight, 0.0, 0.02)
    elif isinstance(m, nn.Linear):
        nn.init.xavier_uniform_(m.weight)
"""

MODEL = """\
import torch
import torch.nn as nn
from init_utils import weights_init


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(8, 8)
        self.bn = nn.BatchNorm1d(8)
        self.norm = nn.BatchNorm2d(8)
        self.apply(weights_init)

    def forward(self, x):
        return self.norm(self.bn(torch.relu(self.fc(x))))
"""


def test_a_helper_of_another_file_is_judged_at_the_helper_and_at_the_call(tmp_path: Path) -> None:
    """The helper alone shows its norm scale drawn around 0 (kept when only that file is
    checked, as a pre-commit run on it does); the call that applies it reports what it does to
    this model, IA103 included, as cross-file findings are (it names the helper's line)."""
    root = write(tmp_path, {"pyproject.toml": "", "init_utils.py": HELPERS, "model.py": MODEL})
    found = [(name, line, code) for name, line, code, _ in findings([root])]
    assert found == [("init_utils.py", 6, "IA114"), ("model.py", 12, "IA103"), ("model.py", 12, "IA114")]
    alone = write(tmp_path / "alone", {"init_utils.py": HELPERS})
    assert [(name, line, code) for name, line, code, _ in findings([alone])] == [("init_utils.py", 6, "IA114")]


DRAW = """\
import torch


def truncated_normal_(tensor, mean=0.0, std=1.0):
    torch.nn.init.normal_(tensor, mean=mean, std=std)
    return tensor
"""

#: A dispatch helper handing the weight to another helper with a std it computes: the fan-in
#: read from dimension 0 (out_features) is found through the call's binding of ``std``.
CALLER = """\
import numpy as np
import torch.nn as nn
{import_line}


def init_fn(m):
    if isinstance(m, nn.Linear):
        input_dim = m.weight.data.shape[{dim}]
        stddev = 1 / (2 * np.sqrt(input_dim))
        {call}(m.weight.data, std=stddev)
"""


@pytest.mark.parametrize(("import_line", "call"), [
    ("from pkg.util.draw import truncated_normal_", "truncated_normal_"),
    ("import pkg.util.draw", "pkg.util.draw.truncated_normal_"),
    ("import pkg.util.draw as draw", "draw.truncated_normal_"),
    ("from pkg.util import draw", "draw.truncated_normal_"),
])
def test_a_helper_called_by_a_dispatch_helper_of_another_file_is_judged_with_its_arguments(
        tmp_path: Path, import_line: str, call: str) -> None:
    files = {"pyproject.toml": "", "pkg/__init__.py": "", "pkg/util/__init__.py": "", "pkg/util/draw.py": DRAW}
    wrong = write(tmp_path / "wrong", {**files, "pkg/init.py": CALLER.format(import_line=import_line, dim=0, call=call)})
    assert [(name, line, code) for name, line, code, _ in findings([wrong])] == [("init.py", 8, "IA113")]
    right = write(tmp_path / "right", {**files, "pkg/init.py": CALLER.format(import_line=import_line, dim=1, call=call)})
    assert findings([right]) == []


def test_a_helper_of_the_same_file_called_by_a_dispatch_helper_is_judged_with_its_arguments() -> None:
    source = DRAW + CALLER.format(import_line="", dim=0, call="truncated_normal_")
    assert lines_and_codes(source) == [(14, "IA113")]
    assert lines_and_codes(DRAW + CALLER.format(import_line="", dim=1, call="truncated_normal_")) == []


def test_a_helper_called_outside_any_class_test_stays_unjudged() -> None:
    """Without ``isinstance`` nothing says which layer the tensor belongs to."""
    source = DRAW + CALLER.format(import_line="", dim=0, call="truncated_normal_").replace(
        "    if isinstance(m, nn.Linear):\n", "    if m is not None:\n")
    assert lines_and_codes(source) == []
