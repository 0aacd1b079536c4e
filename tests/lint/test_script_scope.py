"""Code at module level: weights a script makes in variables, and the functions of the file that
multiply the signal by them, are judged as a module class's bare Parameters and its forward."""

from __future__ import annotations

from tests.lint.selection import lint_selected

#: A script's weights, made by a function of the file, used by functions of the file.
SCRIPT = """\
import numpy as np
import torch
import torch.nn.functional as F
from torch.autograd import Variable


def he_init(size):
    in_dim = size[0]
    stddev = 1. / np.sqrt(in_dim / 2.)
    return Variable(torch.randn(*size) * stddev, requires_grad=True)


W1 = he_init(size=[784, 128])
b1 = Variable(torch.zeros(128), requires_grad=True)
W2 = he_init(size=[128, 10])


def net(x):
    h = F.relu(x @ W1 + b1.repeat(x.size(0), 1))
    return {head}
"""


def _lines(code: str, *rules: str) -> list[tuple[str, int]]:
    return [(d.code, d.line) for d in lint_selected(code, *rules)]


def test_a_script_weight_whose_product_feeds_a_sigmoid_is_judged_by_it() -> None:
    found = lint_selected(SCRIPT.format(head="torch.sigmoid(h @ W2)"), "IA103")
    assert [(d.code, d.line) for d in found] == [("IA103", 15)]
    assert "W2 (a raw weight matrix) feeds sigmoid" in found[0].message


def test_a_script_weight_returned_raw_feeds_the_output() -> None:
    found = lint_selected(SCRIPT.format(head="h @ W2"), "IA103")
    assert [(d.code, d.line) for d in found] == [("IA103", 15)]
    assert "no activation" in found[0].message


def test_a_script_weight_before_a_relu_suits_a_he_draw() -> None:
    assert _lines(SCRIPT.format(head="F.relu(h @ W2)"), "IA103") == []


def test_a_name_the_function_binds_is_not_the_script_weight() -> None:
    # The function's own ``W2`` (its parameter) hides the script's: nothing is known of it.
    code = SCRIPT.replace("def net(x):", "def net(x, W2):").format(head="torch.sigmoid(h @ W2)")
    assert _lines(code, "IA103") == []


def test_a_weight_written_directly_at_module_level() -> None:
    code = """\
    import math
    import torch
    from torch import nn

    n_in = 64
    W = nn.Parameter(torch.randn(n_in, 32) * math.sqrt(2. / n_in))


    def decode(z):
        return torch.tanh(z @ W)
    """
    assert _lines(code, "IA103") == [("IA103", 6)]


def test_a_script_weight_no_function_multiplies_is_not_judged() -> None:
    code = """\
    import math
    import torch
    from torch import nn

    n_in = 64
    W = nn.Parameter(torch.randn(n_in, 32) * math.sqrt(2. / n_in))


    def decode(z):
        return torch.tanh(z * W)
    """
    assert _lines(code, "IA103") == []


def test_a_script_function_called_by_another_that_activates_its_result_is_ambiguous() -> None:
    # ``logits`` is returned by one function and squashed by another: no single consumer.
    code = SCRIPT.format(head="h @ W2") + """

def probabilities(x):
    return torch.relu(net(x))
"""
    assert _lines(code, "IA103") == []


def test_a_script_weight_reloaded_after_its_draw_is_not_judged_by_it() -> None:
    code = SCRIPT.replace('W2 = he_init(size=[128, 10])\n',
                          'W2 = he_init(size=[128, 10])\nW2 = torch.load("w2.pt")\n')
    assert _lines(code.format(head="torch.sigmoid(h @ W2)"), "IA103") == []


def test_a_helper_drawing_with_a_fixed_scale_states_no_intent() -> None:
    code = SCRIPT.replace("1. / np.sqrt(in_dim / 2.)", "0.01")
    assert _lines(code.format(head="torch.sigmoid(h @ W2)"), "IA103") == []


INIT_CALL = """\
import torch
import torch.nn.functional as F
from torch import nn

W = nn.Parameter(torch.empty(784, 128))
nn.init.xavier_uniform_(W)


def encode(x):
    return {activation}(x @ W)
"""


def test_an_init_call_on_a_script_weight_is_judged_by_what_its_product_feeds() -> None:
    assert _lines(INIT_CALL.format(activation="F.relu"), "IA103") == [("IA103", 6)]
    assert _lines(INIT_CALL.format(activation="torch.tanh"), "IA103") == []


UNIT_DRAW = """\
import torch

W = torch.randn(784, 10, requires_grad=True)


def logits(x):
    return {use}
"""


def test_a_unit_draw_a_script_multiplies_by_is_unscaled() -> None:
    assert _lines(UNIT_DRAW.format(use="x @ W"), "IA105") == [("IA105", 3)]
    assert _lines(UNIT_DRAW.format(use="x * W"), "IA105") == []
