"""Item assignment into a Parameter (``w[:, 0::2] = table``) is an in-place write: IA107 reports
it as it reports ``w.fill_()``, directly or through a helper handed the tensor, and nothing else
takes it for an initialisation."""

from __future__ import annotations

import textwrap

from initaudit import lint_source
from tests.lint.selection import lint_selected, lint_text

_HELPER = """
import numpy as np
import torch
import torch.nn as nn


def sinusoidal(n_pos, dim, out):
    table = np.array([[pos / np.power(10000, 2 * (j // 2) / dim) for j in range(dim)] for pos in range(n_pos)])
    {before}out{through}[:, 0::2] = torch.FloatTensor(np.sin(table[:, 0::2]))
    out{through}[:, 1::2] = torch.FloatTensor(np.cos(table[:, 1::2]))
    out.detach_()
    out.requires_grad = False


class Model(nn.Module):
    def __init__(self, dim):
        super().__init__()
        self.positions = nn.Embedding(512, dim)
        nn.init.normal_(self.positions.weight, std=dim ** -0.5)
        {call}

    def forward(self, x):
        return self.positions(x)
"""


def _helper(before: str = "", through: str = "",
            call: str = "sinusoidal(512, dim, out=self.positions.weight)") -> str:
    return _HELPER.format(before=before, through=through, call=call)


def _ia107(code: str) -> list[int]:
    return [d.line for d in lint_selected(code, "IA107")]


def test_slice_assignment_through_a_helper_parameter_is_reported_at_each_write() -> None:
    found = lint_selected(_helper(), "IA107")
    assert [d.line for d in found] == [9, 10]
    assert found[0].message.startswith("`out[:, 0::2] = ...` writes into a Parameter that requires grad")


def test_requires_grad_cleared_before_the_writes_is_quiet() -> None:
    assert _ia107(_helper(before="out.requires_grad = False\n    ")) == []
    assert _ia107(_helper(before="out.requires_grad_(False)\n    ")) == []
    assert _ia107(_helper(before="out.detach_()\n    ")) == []


def test_writes_through_data_a_detached_argument_or_no_grad_are_quiet() -> None:
    assert _ia107(_helper(through=".data")) == []
    assert _ia107(_helper(call="sinusoidal(512, dim, out=self.positions.weight.data)")) == []
    assert _ia107(_helper(call="sinusoidal(512, dim, out=self.positions.weight.detach())")) == []
    assert _ia107(_helper(call="with torch.no_grad():\n            sinusoidal(512, dim, self.positions.weight)")) == []


def test_a_tensor_of_no_layer_handed_to_the_helper_is_quiet() -> None:
    assert _ia107(_helper(call="sinusoidal(512, dim, out=torch.zeros(512, dim))")) == []


def test_direct_item_assignment_into_a_layer_weight_or_a_bare_parameter() -> None:
    code = """
        import torch
        import torch.nn as nn

        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.fc = nn.Linear(4, 4)
                self.scale = nn.Parameter(torch.ones(4))
                self.fc.weight[0] = 1.0
                self.scale[:2] = 0.5
                self.fc.weight.data[1] = 1.0
                with torch.no_grad():
                    self.fc.bias[0] = 0.0
                mask = torch.zeros(4)
                mask[0] = 1.0
                nn.init.zeros_(self.fc.bias)
    """
    assert _ia107(code) == [10, 11]


def test_the_fix_writes_through_data() -> None:
    code = """
        import torch.nn as nn

        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.fc = nn.Linear(4, 4)
                nn.init.zeros_(self.fc.bias)
                self.fc.weight[:, :2] = 0.0
    """
    text = textwrap.dedent(code)
    found = lint_text(text, "IA107")
    assert [d.line for d in found] == [9]
    assert found[0].fix is not None
    edit, = found[0].fix.edits
    fixed = text[:edit.start] + edit.text + text[edit.end:]
    assert "        self.fc.weight.data[:, :2] = 0.0\n" in fixed
    assert lint_text(fixed, "IA107") == []


def test_a_slice_write_is_no_initialisation_for_the_other_rules() -> None:
    code = """
        import torch
        import torch.nn as nn

        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.fc = nn.Linear(4, 4)
                nn.init.kaiming_normal_(self.fc.weight)
                with torch.no_grad():
                    self.fc.weight[:, :2] = 0.0

            def forward(self, x):
                return torch.relu(self.fc(x))
    """
    assert [d.code for d in lint_source(textwrap.dedent(code), "model.py")] == []


def test_an_in_place_method_of_a_helper_called_under_no_grad_is_quiet() -> None:
    code = """
        import torch
        import torch.nn as nn

        def fill(w):
            w.fill_(0.5)

        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.fc = nn.Linear(4, 4)
                {call}
    """
    assert _ia107(code.format(call="fill(self.fc.bias)")) == [6]
    assert _ia107(code.format(call="with torch.no_grad():\n                    fill(self.fc.bias)")) == []
