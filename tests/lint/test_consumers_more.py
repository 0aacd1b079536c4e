"""What consumes a layer's output and which layers an init reaches: the activations inside a
recurrent layer, ``getattr`` with a parameter's name, ``hasattr``/``dim()`` tests of a module,
functions that read only a tensor's shape, a function bound in the method that applies it, and
a loop zeroing layers of which only some have a known use."""

from __future__ import annotations

import textwrap
from pathlib import Path

from tests.lint.selection import lint_selected
from tests.lint.test_binding_holders import findings


def lines(code: str, rule: str) -> list[int]:
    return sorted(d.line for d in lint_selected(code, rule))



# ---------------------------------------------------------------- inside a recurrent layer

RECURRENT = """\
import torch.nn as nn


class Encoder(nn.Module):
    def __init__(self):
        super().__init__()
        self.lstm = nn.LSTM(16, 32, num_layers=2)
        self.gru = nn.GRUCell(16, 32)
        self.rnn = nn.RNN(16, 32, nonlinearity="relu")
        self.head = nn.Linear(32, 4)
        for i in range(2):
            nn.init.kaiming_normal_(getattr(self.lstm, f"weight_ih_l{i}"))
            nn.init.xavier_uniform_(getattr(self.lstm, f"weight_hh_l{i}"))
        nn.init.kaiming_uniform_(self.gru.weight_hh, nonlinearity="relu")
        nn.init.xavier_normal_(self.gru.weight_ih, gain=nn.init.calculate_gain("tanh"))
        nn.init.kaiming_normal_(self.rnn.weight_ih_l0)
        nn.init.xavier_normal_(self.rnn.weight_hh_l0)

    def forward(self, x):
        out, _ = self.lstm(x)
        return self.head(out)
"""


def test_he_on_recurrent_weights_is_judged_by_the_gates_inside_the_layer():
    # An LSTM's and a GRU's input and hidden weights feed sigmoid gates and a tanh: He is
    # reported (lines 12, 14), Glorot is not; a plain RNN told ``relu`` wants He (17, not 16).
    assert lines(RECURRENT, "IA103") == [12, 14, 17]


def test_a_recurrent_layer_of_another_nonlinearity_or_projection_is_left_alone():
    code = """\
        import torch.nn as nn

        class Encoder(nn.Module):
            def __init__(self, act):
                super().__init__()
                self.rnn = nn.RNN(16, 32, nonlinearity=act)
                self.lstm = nn.LSTM(16, 32, proj_size=8)
                nn.init.kaiming_normal_(self.rnn.weight_ih_l0)
                nn.init.kaiming_normal_(self.lstm.weight_hr_l0)

            def forward(self, x):
                return self.lstm(self.rnn(x)[0])
    """
    assert lines(code, "IA103") == []


def test_getattr_with_a_literal_name_writes_that_parameter():
    code = """\
        import torch.nn as nn

        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.fc = nn.Linear(8, 8)
                self.out = nn.Linear(8, 2)
                nn.init.xavier_uniform_(getattr(self.fc, "weight"))
                nn.init.xavier_uniform_(getattr(self.out, "weight"))

            def forward(self, x):
                return self.out(self.fc(x).relu())
    """
    assert lines(code, "IA103") == [8]


# ---------------------------------------------------------------- hasattr / dim() tests

HASATTR = """\
import torch.nn as nn


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(8, 8)
        self.norm = nn.LayerNorm(8)
        self.out = nn.Linear(8, 2)

    def forward(self, x):
        return self.out(self.norm(self.fc(x)).relu())


def init_weights(m):
    if hasattr(m, "weight") and m.weight.dim() > 1:
        nn.init.{function}(m.weight)


model = Net()
model.apply(init_weights)
"""


def test_hasattr_and_dim_select_the_layers_holding_a_weight_matrix():
    # He reaches the two Linear layers; the output one feeds no activation.
    assert lines(HASATTR.format(function="kaiming_uniform_"), "IA103") == [17]


def test_hasattr_selection_with_a_scheme_that_suits_every_layer_is_quiet():
    assert lines(HASATTR.format(function="xavier_uniform_"), "IA103") == []


def test_a_vector_dim_test_excludes_the_linear_layers():
    code = HASATTR.format(function="kaiming_uniform_").replace("m.weight.dim() > 1", "m.weight.dim() == 1")
    assert lines(code, "IA103") == []


def test_hasattr_reaches_the_layers_of_a_block_from_another_file(tmp_path: Path):
    block = """\
        import torch.nn as nn

        class Classifier(nn.Module):
            def __init__(self):
                super().__init__()
                self.norm = nn.LayerNorm(8)
                self.logits = nn.Linear(8, 2)

            def forward(self, x):
                return self.logits(self.norm(x))
    """
    train = """\
        from torch import nn
        from blocks import Classifier

        def initialize_weights(m):
            if hasattr(m, "weight") and m.weight.dim() > 1:
                nn.init.{function}(m.weight.data)

        model = Classifier()
        model.apply(initialize_weights)
    """
    files = {"blocks.py": textwrap.dedent(block)}
    assert findings(tmp_path / "he", {**files, "train.py": textwrap.dedent(train).format(
        function="kaiming_uniform_")}, "IA103") == [("train.py", 6, "IA103")]
    assert findings(tmp_path / "glorot", {**files, "train.py": textwrap.dedent(train).format(
        function="xavier_uniform_")}, "IA103") == []


# ---------------------------------------------------------------- shape-only readers

GUMBEL = """\
import torch
import torch.nn as nn
import torch.nn.functional as F


class Actor(nn.Module):
    def __init__(self):
        super().__init__()
        self.hidden = nn.Linear(4, 8)
        self.logits = nn.Linear(8, 3)
        nn.init.xavier_uniform_(self.logits.weight, gain=nn.init.calculate_gain("{gain}"))

    def forward(self, x):
        out = self.logits(F.leaky_relu(self.hidden(x)))
        u = torch.rand_like(out)
        return F.softmax(out - torch.log(-torch.log(u)), dim=-1)
"""


def test_a_shape_only_reader_does_not_hide_what_the_logits_feed():
    # ``rand_like`` reads the logits' shape, not their values: the softmax is their consumer.
    assert lines(GUMBEL.format(gain="leaky_relu"), "IA103") == [11]


def test_logits_with_a_linear_gain_stay_quiet_beside_a_shape_only_reader():
    assert lines(GUMBEL.format(gain="linear"), "IA103") == []


def test_a_function_reading_values_still_hides_the_consumer():
    code = GUMBEL.format(gain="leaky_relu").replace("torch.rand_like(out)", "torch.special.erf(out)")
    assert lines(code, "IA103") == []


# ---------------------------------------------------------------- local functions

LOCAL_INITS = """\
import torch.nn as nn


class Encoder(nn.Module):
    def __init__(self):
        super().__init__()

        def init_weights(m):
            if type(m) == nn.Linear:
                nn.init.{encoder}(m.weight)

        self.net = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 8), nn.ReLU())
        self.net.apply(init_weights)

    def forward(self, x):
        return self.net(x)


class Policy(nn.Module):
    def __init__(self):
        super().__init__()

        def init_weights(m):
            if type(m) == nn.Linear:
                nn.init.xavier_uniform_(m.weight)

        self.net = nn.Sequential(nn.Linear(4, 8), nn.Tanh(), nn.Linear(8, 2), nn.Tanh())
        self.net.apply(init_weights)

    def forward(self, x):
        return self.net(x)
"""


def test_apply_runs_the_function_its_own_method_defines():
    # Each class applies its own nested ``init_weights``, not the last one of that name.
    assert lines(LOCAL_INITS.format(encoder="xavier_uniform_"), "IA103") == [10]


def test_a_suitable_local_function_is_not_judged_by_its_namesake():
    assert lines(LOCAL_INITS.format(encoder="kaiming_uniform_"), "IA103") == []


# ---------------------------------------------------------------- zero loops over known layers

ZERO_ALL = """\
import torch
import torch.nn as nn


class Net(nn.Module):
    def __init__(self, encoder):
        super().__init__()
        self.encoder = encoder
        self.inner = nn.Linear(8, 8)
        self.fc1 = nn.Linear(8, 8)
        self.fc2 = nn.Linear(8, 2)

    def init_weights(self):
        for m in self.modules():
            if type(m) is torch.nn.Linear:
                torch.nn.init.zeros_(m.weight)

    def forward(self, x):
        h = self.encoder(self.inner(x))
        return self.fc2({hidden})
"""


def test_a_zeroing_loop_is_reported_for_the_layers_whose_use_is_known():
    # ``inner`` feeds a module of unknown class and fc2 is the head; fc1 feeds a ReLU, so the
    # loop is reported for it.
    assert lines(ZERO_ALL.format(hidden="torch.relu(self.fc1(h))"), "IA101") == [16]


def test_a_zeroing_loop_whose_layers_have_no_known_use_but_the_head_is_quiet():
    assert lines(ZERO_ALL.format(hidden="h"), "IA101") == []


# ---------------------------------------------------------------- a block's raw weight

SPARSE_BLOCK = """\
import torch
from torch_sparse import spmm


class Sparse(torch.nn.Module):
    def __init__(self, n, k):
        super().__init__()
        self.weight_matrix = torch.nn.Parameter(torch.Tensor(n, k))
        torch.nn.init.xavier_uniform_(self.weight_matrix)

    def forward(self, index, value):
        return spmm(index=index, value=value, m=3, n=4, matrix=self.weight_matrix)


class Model(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.layer = Sparse(4, 8)
        self.out = torch.nn.Linear(8, 2)

    def forward(self, index, value):
        return self.out({hidden})
"""


def test_a_blocks_raw_weight_is_judged_by_what_its_builder_feeds_it_to():
    # The factor passed by keyword (``matrix=``) is the weight; the model puts a ReLU after it.
    assert lines(SPARSE_BLOCK.format(hidden="torch.relu(self.layer(index, value))"), "IA103") == [9]


def test_a_blocks_raw_weight_before_tanh_is_quiet():
    assert lines(SPARSE_BLOCK.format(hidden="torch.tanh(self.layer(index, value))"), "IA103") == []


def test_a_block_built_twice_with_one_use_unknown_is_quiet():
    # ``other`` is used nowhere forward() shows: the weight both instances share is not judged.
    code = SPARSE_BLOCK.format(hidden="torch.relu(self.layer(index, value))")
    code = code.replace("        self.out = torch.nn.Linear(8, 2)\n",
                        "        self.out = torch.nn.Linear(8, 2)\n        self.other = Sparse(4, 8)\n")
    assert lines(code, "IA103") == []


# ---------------------------------------------------------------- a function read through its class

STATIC_INIT = """\
import torch
import torch.nn as nn
import torch.nn.functional as F


class DQN(nn.Module):
    def __init__(self):
        super().__init__()
        self.__fc1 = nn.Linear(4, 8)
        self.__fc2 = nn.Linear(8, 2)

    def forward(self, x):
        return self.__fc2(F.{activation}(self.__fc1(x)))

    @staticmethod
    def init_weights(module):
        if isinstance(module, nn.Linear):
            torch.nn.init.{function}(module.weight)
"""


def test_apply_of_a_staticmethod_read_through_its_class():
    # He reaches the output layer, which feeds no activation; Glorot suits both before a tanh.
    applied = "\n\nnet = DQN()\nnet.apply(DQN.init_weights)\n"
    code = STATIC_INIT.format(function="kaiming_normal_", activation="relu") + applied
    assert lines(code, "IA103") == [18]
    quiet = STATIC_INIT.format(function="xavier_normal_", activation="tanh") + applied
    assert lines(quiet, "IA103") == []


def test_apply_of_a_staticmethod_of_an_imported_class(tmp_path: Path):
    agent = """\
        from model import DQN


        class Agent:
            def __init__(self):
                self.policy = DQN()
                self.policy.apply(DQN.init_weights)
    """
    for function, activation, expected in (("kaiming_normal_", "relu", [("agent.py", 7, "IA103")]),
                                           ("xavier_normal_", "tanh", [])):
        files = {"model.py": STATIC_INIT.format(function=function, activation=activation),
                 "agent.py": textwrap.dedent(agent)}
        assert findings(tmp_path / function, files, "IA103") == expected


# ---------------------------------------------------------------- modules built where they are called

INLINE_ACTIVATION = """\
import torch.nn as nn


class MLP(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.ModuleList()
        for size in (8, 8):
            self.fc.append(nn.Linear(size, size))
        for m in self.fc:
            nn.init.xavier_uniform_(m.weight)

    def forward(self, x):
        for {loop}:
            x = {layer}(x)
            x = nn.{activation}()(x)
            x = nn.Dropout(p=0.1)(x)
        return x
"""


def test_an_activation_module_built_and_called_at_once_consumes_the_output():
    code = INLINE_ACTIVATION.format(loop="layer in self.fc", layer="layer", activation="ReLU")
    assert lines(code, "IA103") == [11]
    quiet = INLINE_ACTIVATION.format(loop="layer in self.fc", layer="layer", activation="Tanh")
    assert lines(quiet, "IA103") == []


def test_a_layer_read_by_a_loop_index_is_each_child_in_turn():
    for loop in ("i in range(len(self.fc))", "i, _ in enumerate(self.fc)", "i, _ in enumerate(range(len(self.fc)))",
                 "_, i in enumerate(range(len(self.fc)))"):
        assert lines(INLINE_ACTIVATION.format(loop=loop, layer="self.fc[i]", activation="ReLU"), "IA103") == [11], loop
        assert lines(INLINE_ACTIVATION.format(loop=loop, layer="self.fc[i]", activation="Tanh"), "IA103") == [], loop


def test_an_index_that_does_not_run_over_the_container_selects_nothing():
    code = INLINE_ACTIVATION.format(loop="i in range(len(self.other))", layer="self.fc[i]", activation="ReLU")
    code = code.replace("        for m in self.fc:\n", "        self.other = [1, 2]\n        for m in self.fc:\n")
    # Layers written one by one (a loop's copies of one layer are that layer at any index).
    code = code.replace("nn.ModuleList()", "nn.ModuleList([nn.Linear(8, 8), nn.Tanh()])").replace(
        "        for size in (8, 8):\n            self.fc.append(nn.Linear(size, size))\n", "")
    assert lines(code, "IA103") == []


# ---------------------------------------------------------------- class tests of a helper judged alone

GAUSSIAN_HELPER = """\
from torch.nn import init


def init_fun(m):
    classname = m.__class__.__name__
    if {test}:
        init.normal_(m.weight.data, 0.0, 0.02)
"""


def test_a_hasattr_helper_alone_is_not_a_norm_init():
    # Every layer holding a weight passes the test: which ones it is given, the model says.
    assert lines(GAUSSIAN_HELPER.format(test="hasattr(m, 'weight')"), "IA114") == []
    named = "hasattr(m, 'weight') and classname.find('BatchNorm') != -1"
    assert lines(GAUSSIAN_HELPER.format(test=named), "IA114") == [7]


def test_a_class_name_found_at_position_zero_starts_with_it():
    test = "(classname.find('Conv') == 0 or classname.find('Linear') == 0) and hasattr(m, 'weight')"
    assert lines(GAUSSIAN_HELPER.format(test=test), "IA114") == []


def test_a_product_factor_passed_by_keyword_is_the_raw_weight():
    code = """\
        import torch
        import torch.nn.functional as F


        class Layer(torch.nn.Module):
            def __init__(self):
                super().__init__()
                self.w = torch.nn.Parameter(torch.empty(8, 4))
                torch.nn.init.xavier_uniform_(self.w)

            def forward(self, x):
                return F.{activation}(torch.mm(x, mat2=self.w))
    """
    assert lines(code.replace("{activation}", "relu"), "IA103") == [9]
    assert lines(code.replace("{activation}", "tanh"), "IA103") == []


def test_a_function_defined_inside_an_if_of_the_method_is_the_one_applied():
    # A ``def`` in a compound statement of the method binds the name in its local scope too.
    nested = LOCAL_INITS.replace(
        "        def init_weights(m):\n            if type(m) == nn.Linear:\n                nn.init.{encoder}(m.weight)\n",
        "        if True:\n            def init_weights(m):\n                if type(m) == nn.Linear:\n"
        "                    nn.init.{encoder}(m.weight)\n")
    assert lines(nested.format(encoder="xavier_uniform_"), "IA103") == [11]
    assert lines(nested.format(encoder="kaiming_uniform_"), "IA103") == []
