"""Bare Parameters used through products: how many dimensions their creation gives them (sizes
passed as one tuple), what the product flows into when it also leaves the block, and a weight a
method takes as an argument from the module's own attributes."""

from __future__ import annotations

import libcst as cst

from initaudit.lint.model.file_model import FileModel
from tests.lint.selection import lint_selected


def lines(code: str, *rules: str) -> list[tuple[int, str]]:
    return [(d.line, d.code) for d in lint_selected(code, *rules)]


def parameters(code: str, name: str) -> dict[str, int | None]:
    model = FileModel(cst.parse_module(code), code)
    return model.classes[name].parameters


# ---------------------------------------------------------------- dimensions of a creation


ATTENTION_VECTOR = """
import torch
import torch.nn as nn


class Attention(nn.Module):
    def __init__(self, d):
        super().__init__()
        self.a = nn.Parameter(torch.empty({shape}))
        nn.init.xavier_uniform_(self.a.data, gain=1.414)

    def forward(self, x):
        return torch.softmax(torch.matmul(x, self.a).squeeze(-1), dim=-1)
"""


def test_sizes_passed_as_one_tuple_count_each_dimension() -> None:
    for shape in ("(2 * d, 1)", "[2 * d, 1]", "2 * d, 1", "(d, d)"):
        code = ATTENTION_VECTOR.format(shape=shape)
        assert parameters(code, "Attention") == {"a": 2}, shape
        assert lines(code, "IA110") == [], shape


def test_a_vector_still_fails_a_fan_based_init() -> None:
    for shape in ("(2 * d,)", "2 * d", "[d]"):
        code = ATTENTION_VECTOR.format(shape=shape)
        assert parameters(code, "Attention") == {"a": 1}, shape
        assert lines(code, "IA110") == [(10, "IA110")], shape


def test_a_starred_shape_leaves_the_dimensions_unknown() -> None:
    code = ATTENTION_VECTOR.format(shape="(*dims, 1)")
    assert parameters(code, "Attention") == {"a": None}
    assert lines(code, "IA110") == []


KERNEL = """
import torch
import torch.nn as nn


class Kernel(nn.Module):
    def __init__(self, a, b, x, kind="mat"):
        super().__init__()
        if kind == "mat":
            size = a, b, a
        else:
            size = {size}
        self.kernel = nn.Parameter(torch.zeros(size))
        nn.init.xavier_uniform_(self.kernel.data)
"""


def test_a_size_named_by_a_local_is_read_through_its_binding() -> None:
    for size, ndim, expected in (("b, a", 2, []), ("[b]", 1, [(14, "IA110")]), ("a * b", 1, [(14, "IA110")]),
                                 ("x.shape", None, []), ("x.size()", None, []), ("x.shape[1:]", None, [])):
        code = KERNEL.format(size=size)
        assert parameters(code, "Kernel") == {"kernel": ndim}, size
        assert lines(code, "IA110") == expected, size


# ---------------------------------------------------------------- a product that leaves the block


GRAPH_ATTENTION = """
import torch
import torch.nn as nn
import torch.nn.functional as F


class HeadAttention(nn.Module):
    def __init__(self, heads, f_in, f_out):
        super().__init__()
        self.w = nn.Parameter(torch.Tensor(heads, f_in, f_out))
        self.a = nn.Parameter(torch.Tensor(heads, f_out, 1))
        nn.init.kaiming_uniform_(self.w, nonlinearity="relu")
        nn.init.kaiming_uniform_(self.a, a=0.2, nonlinearity="leaky_relu")

    def forward(self, h):
        projected = torch.matmul(h.unsqueeze(1), self.w)
        scores = torch.softmax(F.leaky_relu(torch.matmul(projected, self.a), 0.2), dim=-1)
{tail}


class Stack(nn.Module):
    def __init__(self):
        super().__init__()
        self.layer = HeadAttention(4, 16, 16)

    def forward(self, x):
        return F.elu(self.layer(x))
"""


def test_a_product_that_is_also_returned_is_judged_by_what_its_holder_makes_of_it() -> None:
    # The scores path is a linear map of the product, the returned path meets the holder's
    # ELU: the consumers disagree, so the ReLU gain is not judged.
    returned = "        return torch.matmul(scores, projected)"
    assert lines(GRAPH_ATTENTION.format(tail=returned), "IA103") == []


def test_a_product_that_only_scores_is_judged_there() -> None:
    # The product stays inside the block: another weight takes it directly.
    scored = "        return torch.matmul(scores, h.unsqueeze(1))"
    assert lines(GRAPH_ATTENTION.format(tail=scored), "IA103") == [(12, "IA103")]


def test_a_returned_product_whose_paths_agree_is_still_judged() -> None:
    code = GRAPH_ATTENTION.format(tail="        return torch.tanh(projected)").replace(
        "F.leaky_relu(torch.matmul(projected, self.a), 0.2)", "torch.matmul(torch.tanh(projected), self.a)"
    ).replace("F.elu(self.layer(x))", "torch.tanh(self.layer(x))").replace(
        'nn.init.kaiming_uniform_(self.a, a=0.2, nonlinearity="leaky_relu")', "nn.init.xavier_uniform_(self.a)")
    # tanh inside the block and tanh in the holder: the ReLU gain suits neither.
    assert lines(code, "IA103") == [(12, "IA103")]


# ---------------------------------------------------------------- a weight passed to a method


CAPSULES = """
import torch
import torch.nn as nn


class ConvCaps(nn.Module):
    def __init__(self, B=8, C=8, K=3, P=4):
        super().__init__()
        self.C = C
        self.weights = nn.Parameter(torch.randn(1, K*K*B, C, P, P))
        self.offsets = nn.Parameter(torch.randn(1, K*K*B, C, P, P))

    def transform(self, x, w, C):
        b = x.shape[0]
        w = w.repeat(b, 1, 1, 1, 1)
        x = x.repeat(1, 1, C, 1, 1)
        return torch.matmul(x, w)

    def forward(self, x):
        return self.transform(x, {passed}, self.C) + self.offsets
"""


def test_a_weight_a_method_multiplies_by_through_its_parameter() -> None:
    assert lines(CAPSULES.format(passed="self.weights"), "IA105") == [(10, "IA105")]


def test_a_weight_passed_on_by_keyword_and_through_a_second_method() -> None:
    code = CAPSULES.format(passed="self.weights").replace(
        "return self.transform(x, self.weights, self.C) + self.offsets",
        "return self.route(x, weight=self.weights) + self.offsets\n\n"
        "    def route(self, x, weight):\n"
        "        return self.transform(x, C=self.C, w=weight)")
    assert lines(code, "IA105") == [(10, "IA105")]


def test_an_attribute_a_method_only_adds_is_not_a_weight() -> None:
    # Neither draw is a factor: ``weights`` reaches the product only where it is passed.
    code = CAPSULES.format(passed="x")
    assert lines(code, "IA105") == []


def test_a_parameter_rebound_to_something_else_is_not_the_argument() -> None:
    code = CAPSULES.format(passed="self.weights").replace(
        "w = w.repeat(b, 1, 1, 1, 1)", "w = torch.ones_like(x)")
    assert lines(code, "IA105") == []


def test_a_local_alias_of_an_attribute_is_the_attribute() -> None:
    code = """
    import torch
    import torch.nn as nn


    class Mixer(nn.Module):
        def __init__(self, d):
            super().__init__()
            self.w = nn.Parameter(torch.randn(d, d))

        def forward(self, x):
            w = self.w.t()
            return x @ w
    """
    assert lines(code, "IA105") == [(9, "IA105")]
