"""Raw weights and hand-written scales: Parameters bound by ``setattr``, a base class's weight
multiplied in its subclasses' ``forward``, fans written over a number, out-of-place scaled draws,
copies of one layer indexed by a variable, and layers built by a method ``forward`` calls."""

from __future__ import annotations

from pathlib import Path

from initaudit.lint.files.prefilter import builds_layer_in_forward
from tests.lint.selection import lint_selected
from tests.lint.test_project import findings, write


def lines(code: str, *rules: str) -> list[tuple[int, str]]:
    return [(d.line, d.code) for d in lint_selected(code, *rules)]


# ---------------------------------------------------------------- setattr / getattr


SETATTR = """
import torch
import torch.nn as nn


class GraphConv(nn.Module):
    def __init__(self, i, o, n):
        super().__init__()
        for k in range(n):
            setattr(self, 'W{}'.format(k), nn.Parameter(torch.{draw}(i, o)))

    def forward(self, x):
        out = 0
        for k in range(3):
            out = out + x.mm(getattr(self, 'W{{}}'.format(k)))
        return out
"""


def test_a_parameter_bound_by_setattr_is_read_back_by_getattr() -> None:
    assert lines(SETATTR.replace("{draw}", "randn").replace("{{}}", "{}"), "IA105") == [(10, "IA105")]


def test_a_setattr_parameter_of_a_fan_based_draw_is_left_alone() -> None:
    code = SETATTR.replace("torch.{draw}(i, o)", "torch.empty(i, o)").replace("{{}}", "{}")
    assert lines(code, "IA105") == []


def test_an_f_string_name_matches_the_format_call_that_builds_the_same_text() -> None:
    code = SETATTR.replace("{draw}", "randn").replace("'W{{}}'.format(k)", 'f"W{k}"')
    assert lines(code, "IA105") == [(10, "IA105")]


def test_a_name_read_back_with_another_variable_is_another_attribute() -> None:
    code = SETATTR.replace("{draw}", "randn").replace("'W{{}}'.format(k)", 'f"W{j}"')
    assert lines(code, "IA105") == []


def test_setattr_with_a_literal_name_binds_like_an_assignment() -> None:
    code = """
        import torch
        import torch.nn as nn


        class Net(nn.Module):
            def __init__(self, i, o):
                super().__init__()
                setattr(self, "w", nn.Parameter(torch.randn(i, o)))

            def forward(self, x):
                return x @ self.w
    """
    assert lines(code, "IA105") == [(9, "IA105")]
    assert lines(code.replace("x @ self.w", "x + self.w"), "IA105") == []  # an offset, not a weight


# ---------------------------------------------------------------- a base class's raw weight


BASE_AND_SUBCLASSES = """
import torch
from torch_sparse import spmm


class WaveletLayer(torch.nn.Module):
    def __init__(self, i, o):
        super().__init__()
        self.weight_matrix = torch.nn.Parameter(torch.Tensor(i, o))
        self.init_parameters()

    def init_parameters(self):
        torch.nn.init.xavier_uniform_(self.weight_matrix)


class SparseLayer(WaveletLayer):
    def forward(self, index, value, n, x):
        filtered = spmm(index, value, n, n, self.weight_matrix)
        return torch.nn.functional.{act}(spmm(index, value, n, n, filtered))


class DenseLayer(WaveletLayer):
    def forward(self, x, index, value, n):
        return spmm(index, value, n, n, torch.mm(x, self.weight_matrix))
"""


def test_a_base_class_weight_is_judged_by_the_subclass_that_multiplies_it() -> None:
    found = lint_selected(BASE_AND_SUBCLASSES.replace("{act}", "relu"), "IA103")
    assert [(d.line, d.code) for d in found] == [(13, "IA103")]
    assert "feeds relu in SparseLayer" in found[0].message


def test_a_base_class_weight_whose_subclasses_match_its_gain_is_left_alone() -> None:
    assert lines(BASE_AND_SUBCLASSES.replace("{act}", "tanh"), "IA103") == []


def test_a_base_class_that_multiplies_its_weight_itself_is_judged_by_its_own_forward() -> None:
    code = BASE_AND_SUBCLASSES.replace("{act}", "relu").replace(
        "    def init_parameters(self):",
        "    def forward(self, x):\n        return torch.tanh(x @ self.weight_matrix)\n\n    def init_parameters(self):")
    assert lines(code, "IA103") == []


# ---------------------------------------------------------------- hand-written scales


HAND_SCALE = """
import math
import torch
import torch.nn as nn


class Generator(nn.Module):
    def __init__(self, i, o):
        super().__init__()
        self.w = nn.Parameter({made})

    def forward(self, x):
        return torch.{act}(x @ self.w)
"""


def test_a_std_over_the_square_root_of_half_the_fan_is_the_relu_gain() -> None:
    code = HAND_SCALE.replace("{made}", "torch.randn(i, o) * (1. / math.sqrt(i / 2.))")
    assert lines(code.replace("{act}", "sigmoid"), "IA103") == [(10, "IA103")]
    assert lines(code.replace("{act}", "relu"), "IA103") == []


def test_an_in_place_draw_over_half_the_fan_is_the_relu_gain_too() -> None:
    code = """
        import math
        import torch
        import torch.nn as nn


        class Generator(nn.Module):
            def __init__(self, i, o):
                super().__init__()
                self.w = nn.Parameter(torch.empty(i, o))
                self.w.data.normal_(0, 1. / math.sqrt(i / {divisor}))

            def forward(self, x):
                return torch.sigmoid(x @ self.w)
    """
    assert lines(code.replace("{divisor}", "2."), "IA103") == [(11, "IA103")]
    assert lines(code.replace("{divisor}", "1."), "IA103") == []


def test_a_product_of_kernel_and_channels_is_all_fan() -> None:
    code = """
        import math
        import torch.nn as nn


        class Net(nn.Module):
            def __init__(self, c):
                super().__init__()
                self.conv = nn.Conv2d(c, c, 3)
                self.conv.weight.data.normal_(0, math.sqrt(2. / (3 * 3 * c)))

            def forward(self, x):
                return nn.functional.relu(self.conv(x))
    """
    assert lines(code, "IA103") == []


def test_an_out_of_place_unit_draw_scaled_by_a_fixed_number_is_not_unscaled() -> None:
    code = HAND_SCALE.replace("{made}", "torch.randn(i, o) * 0.02").replace("{act}", "relu")
    assert lines(code, "IA105", "IA103") == []
    assert lines(HAND_SCALE.replace("{made}", "torch.randn(i, o)").replace("{act}", "relu"), "IA105") == [(10, "IA105")]


# ---------------------------------------------------------------- copies of one layer


HIGHWAY = """
import numpy as np
import torch.nn as nn


def init_linear(linear):
    bound = np.sqrt(6.0 / (linear.weight.size(0) + linear.weight.size(1)))
    nn.init.uniform_(linear.weight, -bound, bound)


class Highway(nn.Module):
    def __init__(self, size, num_layers=2):
        super().__init__()
        self.num_layers = num_layers
        self.trans = nn.ModuleList()
        for _ in range(num_layers):
            self.trans.append(nn.Linear(size, size))

    def rand_init(self):
        for i in range(self.num_layers):
            init_linear(self.trans[i])

    def forward(self, x):
        x = nn.functional.{act}(self.trans[0](x))
        for i in range(1, self.num_layers):
            x = nn.functional.{act}(self.trans[i](x))
        return x
"""


def test_a_variable_index_into_copies_of_one_layer_selects_that_layer() -> None:
    assert lines(HIGHWAY.replace("{act}", "relu"), "IA103") == [(8, "IA103")]
    assert lines(HIGHWAY.replace("{act}", "tanh"), "IA103") == []


def test_a_variable_index_into_different_layers_selects_none() -> None:
    code = HIGHWAY.replace("{act}", "relu").replace(
        "            self.trans.append(nn.Linear(size, size))",
        "            self.trans.append(nn.Linear(size, size))\n            self.trans.append(nn.Tanh())")
    assert lines(code, "IA103") == []


def test_a_helper_of_another_file_on_an_indexed_copy_is_reported_at_the_call(tmp_path: Path) -> None:
    helper, model = HIGHWAY.split("class Highway")
    root = write(tmp_path, {"pyproject.toml": "", "model/__init__.py": "", "model/utils.py": helper,
                            "model/highway.py": "import torch.nn as nn\nimport model.utils as utils\n\n\n"
                            "class Highway" + model.replace("init_linear(", "utils.init_linear(")
                            .replace("{act}", "relu")})
    found = [(name, line, code) for name, line, code, _ in findings([root]) if code == "IA103"]
    assert found == [("highway.py", 15, "IA103")]


# ---------------------------------------------------------------- layers built by a method


APPLY_BN = """
import torch.nn as nn


class Encoder(nn.Module):
    def __init__(self, d, bn=True):
        super().__init__()
        self.fc = nn.Linear(d, d)
        self.bn = bn

    def apply_bn(self, x):
        bn_module = nn.BatchNorm1d(x.size()[1])
        return bn_module(x)

    def encode(self, x):
        x = self.fc(x)
        if self.bn:
            x = self.apply_bn(x)
        return x


class NodeEncoder(Encoder):
    def forward(self, x):
        return self.encode(x)
"""


def test_a_layer_built_by_a_method_forward_calls_is_built_on_every_call() -> None:
    found = lint_selected(APPLY_BN, "IA108")
    assert [(d.line, d.code) for d in found] == [(12, "IA108")]
    assert "Encoder.apply_bn() (which NodeEncoder.forward() calls)" in found[0].message


def test_a_method_forward_never_calls_builds_nothing_per_call() -> None:
    assert lines(APPLY_BN.replace("return self.encode(x)", "return self.fc(x)"), "IA108") == []


def test_a_lazy_construction_through_a_method_is_left_alone() -> None:
    code = """
        import torch.nn as nn


        class Head(nn.Module):
            def __init__(self):
                super().__init__()
                self.proj = None

            def build(self, d):
                self.proj = nn.Linear(d, 4)

            def forward(self, x):
                if self.proj is None:
                    self.build(x.size(1))
                return self.proj(x)
    """
    assert lines(code, "IA108") == []


def test_the_text_screen_keeps_a_file_whose_forward_may_call_a_layer_building_method() -> None:
    assert builds_layer_in_forward(APPLY_BN)
    assert not builds_layer_in_forward(APPLY_BN.replace("self.apply_bn(x)", "x"))  # never called


# ---------------------------------------------------------------- tensors trained without Parameter


TRAINED = """
import math
import torch
import torch.nn as nn
from torch.autograd import Variable


class Generator(nn.Module):
    def __init__(self, i, o):
        super().__init__()
        self.w = {made}

    def forward(self, x):
        return torch.sigmoid(x @ self.w)
"""


def test_a_tensor_that_requires_grad_is_a_raw_weight_like_a_parameter() -> None:
    for made in ("Variable(torch.randn(i, o) * (1. / math.sqrt(i / 2.)), requires_grad=True)",
                 "(torch.randn(i, o) * (1. / math.sqrt(i / 2.))).requires_grad_()"):
        assert lines(TRAINED.replace("{made}", made), "IA103") == [(11, "IA103")], made
    assert lines(TRAINED.replace("{made}", "torch.randn(i, o, requires_grad=True)"), "IA105") == [(11, "IA105")]


def test_a_tensor_that_is_not_trained_is_no_weight() -> None:
    for made in ("Variable(torch.randn(i, o) * (1. / math.sqrt(i / 2.)))",
                 "torch.randn(i, o) * (1. / math.sqrt(i / 2.))",
                 "torch.randn(i, o, requires_grad=False)"):
        assert lines(TRAINED.replace("{made}", made), "IA103", "IA105") == [], made


# ------------------------------------------------ names built by f-strings, nodes written nowhere


def test_a_loop_over_an_attribute_named_by_an_f_string_is_analysed() -> None:
    # ``getattr(self, f"blocks{i + 1}")`` is no identifier: the loop element stays the call itself.
    code = """
import torch.nn as nn


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        for i in range(2):
            setattr(self, f"blocks{i + 1}", nn.ModuleList([nn.Linear(4, 4)]))
        nn.init.xavier_uniform(self.blocks1[0].weight)

    def forward(self, x):
        for i in range(2):
            for block in getattr(self, f"blocks{i + 1}"):
                x = block(x)
        return x
"""
    assert lines(code, "IA104") == [(10, "IA104")]


def test_an_applied_helper_filling_a_bias_beside_parameters_bound_by_setattr() -> None:
    # The fills ``apply`` runs are judged on the tensors the call binds, which the file never
    # spells out (no position): they are compared as code, not by their text in the file.
    code = """
import torch
import torch.nn as nn


class Net(nn.Module):
    def __init__(self, n=2):
        super().__init__()
        for i in range(n):
            setattr(self, f"pos_{i}", nn.Parameter(torch.zeros(1, 4, 8)))
        self.head = nn.Linear(8, 2)
        for i in range(n):
            nn.init.normal_(getattr(self, f"pos_{i}"), std=0.02)
        self.apply(self._init_weights)

    def _init_weights(self, m):
        if isinstance(m, nn.Linear):
            nn.init.constant_(m.weight, 0.5)

    def forward(self, x):
        return self.head(x + self.pos_0)
"""
    assert lines(code, "IA102") == [(18, "IA102")]
