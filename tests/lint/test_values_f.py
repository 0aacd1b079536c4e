"""Values as Python evaluates them: a test of ``and``/``or`` decided by one operand, a list a
comprehension binds to a name and a ModuleList built from it, a slope computed by a
``calculate_gain`` call."""

from __future__ import annotations

from tests.lint.selection import lint_selected

_LAST_LAYER_TEST = """
import torch.nn as nn
import torch.nn.functional as F
from torch.nn import init


class Perceptron(nn.Module):
    def __init__(self, dims, output_activation=None):
        super().__init__()
        self.output_activation = output_activation
        self.layers = nn.ModuleList([nn.Linear(a, b) for a, b in zip(dims, dims[1:])])

    def forward(self, x):
        for i, layer in enumerate(self.layers):
            x = layer(x)
            if {test}:
                x = {then}
            else:
                x = {otherwise}
        return x


class AutoEncoder(nn.Module):
    def __init__(self):
        super().__init__()
        self.encoder = Perceptron([3, 4, 5]{passed})
        for m in self.modules():
            if isinstance(m, nn.Linear):
                init.xavier_normal_(m.weight)
"""


def _lines(code: str, rule: str) -> list[int]:
    return [d.line for d in lint_selected(code, rule)]


def test_an_and_with_a_false_operand_is_false() -> None:
    # No construction passes an output activation: the attribute holds None, so the test is
    # False whatever ``i`` is, and every layer feeds the ReLU.
    code = _LAST_LAYER_TEST.format(test="i == len(self.layers) - 1 and self.output_activation is not None",
                                   then="self.output_activation(x)", otherwise="F.relu(x)", passed="")
    assert _lines(code, "IA103") == [29]


def test_an_or_with_a_true_operand_is_true() -> None:
    # The arm that would call None never runs.
    code = _LAST_LAYER_TEST.format(test="i == 0 or self.output_activation is None",
                                   then="F.relu(x)", otherwise="self.output_activation(x)", passed="")
    assert _lines(code, "IA103") == [29]


def test_an_and_whose_operands_are_unknown_stays_unknown() -> None:
    # A sigmoid may follow the last layer: Xavier suits it, so the layer is not judged a mismatch.
    code = _LAST_LAYER_TEST.format(test="i == len(self.layers) - 1 and self.output_activation is not None",
                                   then="self.output_activation(x)", otherwise="F.relu(x)",
                                   passed=", output_activation=F.sigmoid")
    assert _lines(code, "IA103") == []


_COMPREHENSION_LIST = """
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.nn import init


class Decoder(nn.Module):
    def __init__(self, dims{extra}):
        super().__init__()
        z_dim, h_dim, x_dim = dims
        neurons = [z_dim, *h_dim]
        linear_layers = [nn.Linear(neurons[i - 1], neurons[i]) for i in range(1, len(neurons))]
        self.hidden = nn.ModuleList(linear_layers)
        self.reconstruction = nn.Linear(h_dim[-1], x_dim)

    def forward(self, x):
        for layer in self.hidden:
            x = F.{activation}(layer(x))
        return torch.sigmoid(self.reconstruction(x))


class VAE(nn.Module):
    def __init__(self):
        super().__init__()
        self.decoder = Decoder([4, [8, 8], 16])
        for m in self.modules():
            if isinstance(m, nn.Linear):
                init.xavier_normal_(m.weight.data)
"""


def test_a_modulelist_of_a_list_a_comprehension_bound() -> None:
    diagnostics = lint_selected(_COMPREHENSION_LIST.format(extra="", activation="relu"), "IA103")
    assert [(d.line, "decoder.hidden.0" in d.message) for d in diagnostics] == [(29, True)]


def test_the_comprehension_list_keeps_what_its_layers_feed() -> None:
    assert _lines(_COMPREHENSION_LIST.format(extra="", activation="tanh"), "IA103") == []


def test_a_loop_variable_hiding_a_default_leaves_the_list_unknown() -> None:
    # ``i`` is a parameter with a default too: the element cannot be read with the defaults.
    assert _lines(_COMPREHENSION_LIST.format(extra=", i=0", activation="relu"), "IA103") == []


_SLOPE_BY_CALL = """
import torch.nn as nn
from torch.nn.init import calculate_gain, kaiming_normal_


class Block(nn.Module):
    def __init__(self, c_in, c_out):
        super().__init__()
        self.conv = nn.Conv2d(c_in, c_out, 3, 1, 1)
        kaiming_normal_(self.conv.weight, a={slope})
        self.act = nn.LeakyReLU(0.2)

    def forward(self, x):
        return self.act(self.conv(x))
"""


def test_a_slope_computed_by_calculate_gain() -> None:
    # ``a`` is the leaky slope: calculate_gain('conv2d') returns 1, not the 0.2 that follows.
    diagnostics = lint_selected(_SLOPE_BY_CALL.format(slope="calculate_gain('conv2d')"), "IA109")
    assert [(d.line, "slope of 1 " in d.message) for d in diagnostics] == [(10, True)]


def test_a_slope_written_as_the_activation_s_is_quiet() -> None:
    assert _lines(_SLOPE_BY_CALL.format(slope="0.2"), "IA109") == []


def test_a_gain_torch_rejects_gives_no_slope() -> None:
    assert _lines(_SLOPE_BY_CALL.format(slope="calculate_gain('gelu')"), "IA109") == []


_TWO_OUTPUTS = """
import torch
import torch.nn as nn
import torch.nn.functional as F


class Heads(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc_a = nn.Linear(8, 8)
        self.fc_b = nn.Linear(8, 8)

    def forward(self, x):
        return {returned}


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.heads = Heads()
        nn.init.kaiming_normal_(self.heads.fc_b.weight, nonlinearity="relu")

    def forward(self, x):
        {read}
        return F.relu({relu}), torch.tanh({tanh})
"""


def _two_outputs(returned: str, read: str, relu: str, tanh: str) -> list[int]:
    return _lines(_TWO_OUTPUTS.format(returned=returned, read=read, relu=relu, tanh=tanh), "IA103")


def test_each_name_a_returned_tuple_unpacks_to_gets_its_own_item() -> None:
    # fc_b's output reaches the tanh alone: He's ReLU gain does not suit it.
    assert _two_outputs("self.fc_a(x), self.fc_b(x)", "a, b = self.heads(x)", "a", "b") == [21]
    assert _two_outputs("self.fc_a(x), self.fc_b(x)", "b, a = self.heads(x)", "a", "b") == []


def test_a_position_read_from_a_returned_tuple() -> None:
    assert _two_outputs("self.fc_a(x), self.fc_b(x)", "out = self.heads(x)", "out[0]", "out[-1]") == [21]
    assert _two_outputs("self.fc_a(x), self.fc_b(x)", "out = self.heads(x)", "out[1]", "out[0]") == []


def test_a_string_key_read_from_a_returned_dict() -> None:
    returned = '{"a": self.fc_a(x), "b": self.fc_b(x)}'
    assert _two_outputs(returned, "out = self.heads(x)", 'out["a"]', 'out["b"]') == [21]
    assert _two_outputs(returned, "out = self.heads(x)", 'out["b"]', 'out["a"]') == []


_COLLECTED = """
import torch
import torch.nn as nn
import torch.nn.functional as F


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(8, 8)
        nn.init.kaiming_normal_(self.fc.weight, nonlinearity="relu")

    def forward(self, x):
        outputs = []
        {collect}
        return torch.cat(outputs, 1)
"""


def test_a_tensor_appended_to_a_list_goes_where_the_list_goes() -> None:
    # The list is the model's output: He's ReLU gain before no activation.
    assert _lines(_COLLECTED.format(collect="outputs.append(self.fc(x))"), "IA103") == [11]
    assert _lines(_COLLECTED.format(collect="outputs.append(F.relu(self.fc(x)))"), "IA103") == []


def test_adding_a_list_joins_lists_and_sums_no_tensors() -> None:
    # ``outputs += [y]`` is no skip connection: the layer is judged as the output's.
    assert _lines(_COLLECTED.format(collect="outputs += [self.fc(x)]"), "IA103") == [11]
    assert _lines(_COLLECTED.format(collect="outputs += [F.relu(self.fc(x))]"), "IA103") == []


_PACKED = """
import torch
import torch.nn as nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(8, 8)
        nn.init.{init}(self.fc.weight)

    def forward(self, x, lengths):
        packed = pack_padded_sequence(self.fc(x), lengths)
        padded, _ = pad_packed_sequence(packed)
        return torch.relu(padded)
"""


def test_packing_a_sequence_keeps_its_values() -> None:
    assert _lines(_PACKED.format(init="xavier_uniform_"), "IA103") == [11]
    assert _lines(_PACKED.format(init="kaiming_uniform_"), "IA103") == []
