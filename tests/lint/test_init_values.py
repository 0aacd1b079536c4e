"""What an init operation writes and the value it leaves: in-place arithmetic after a draw (in its
chain or in the statements right after it) carries the draw's parameters through."""

from __future__ import annotations

from pathlib import Path

from tests.lint.selection import lint_selected
from tests.lint.test_binding_holders import findings


def lines(code: str, *rules: str) -> list[tuple[int, str]]:
    return [(d.line, d.code) for d in lint_selected(code, *rules)]



# ---------------------------------------------------------------- in-place arithmetic after a draw

TRUNCATED_HELPER = """\
import torch.nn as nn


class Head(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(512, 18, 1)
        self.score = nn.Conv2d(512, 9, 1)
        self._init_weights()

    def _init_weights(self):
        def normal_init(m, mean, stddev, truncated=False):
            if truncated:
                m.weight.data.normal_().fmod_(2){scale}.add_(mean)
            else:
                m.weight.data.normal_(mean, stddev)

        normal_init(self.conv, 0, 0.01, True)
        normal_init(self.score, 0, 0.01, True)

    def forward(self, x):
        return self.score(self.conv(x))
"""


def test_a_draw_scaled_in_its_own_chain_is_not_unit_scale() -> None:
    assert lines(TRUNCATED_HELPER.format(scale=".mul_(stddev)"), "IA105") == []


def test_a_draw_only_bounded_and_shifted_in_its_chain_keeps_unit_scale() -> None:
    assert lines(TRUNCATED_HELPER.format(scale=""), "IA105") == [(18, "IA105"), (19, "IA105")]


STATEMENTS = """\
import torch.nn as nn


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(784, 256)
        self.fc.weight.data.uniform_(-1, 1)
        {after}
        self.out = nn.Linear(256, 10)

    def forward(self, x):
        return self.out(self.fc(x).relu())
"""


def test_a_scaling_statement_right_after_the_draw_rescales_it() -> None:
    for after in ("self.fc.weight.data *= 0.01", "self.fc.weight.mul_(0.01)",
                  "self.fc.weight.data /= 28"):
        assert lines(STATEMENTS.format(after=after), "IA105") == [], after


def test_a_statement_on_another_tensor_or_a_copy_does_not_rescale_the_draw() -> None:
    for after in ("self.fc.bias.data *= 0.01", "self.fc.weight.mul(0.01)", "pass",
                  "self.fc.weight.data *= 1"):
        assert lines(STATEMENTS.format(after=after), "IA105") == [(8, "IA105")], after


def test_a_method_returning_a_new_tensor_ends_the_chain() -> None:
    code = STATEMENTS.format(after="pass").replace("uniform_(-1, 1)", "normal_().mul(0.01).add_(3)")
    assert lines(code, "IA105") == [(8, "IA105")]


def test_a_shifted_zero_fill_is_a_constant_and_a_scaled_one_stays_zero() -> None:
    code = STATEMENTS.replace("uniform_(-1, 1)", "zero_(){chain}")
    assert lines(code.format(chain=".add_(0.5)", after="pass"), "IA101", "IA102") == [(8, "IA102")]
    assert lines(code.format(chain=".mul_(0.5)", after="pass"), "IA101", "IA102") == [(8, "IA101")]


def test_a_norm_scale_drawn_around_one_through_its_chain_is_not_near_zero() -> None:
    code = """\
    import torch.nn as nn


    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(64, 64)
            self.norm = nn.LayerNorm(64)
            self.norm.weight.data.normal_(){chain}

        def forward(self, x):
            return self.norm(self.fc(x))
    """
    assert lines(code.format(chain=".mul_(0.02).add_(1.0)"), "IA114") == []
    assert lines(code.format(chain=".mul_(0.02)"), "IA114") == [(9, "IA114")]


def test_a_helper_in_another_file_carries_its_chain_to_the_call(tmp_path: Path) -> None:
    helper = TRUNCATED_HELPER.split("class Head")[0] + (
        "\n\ndef normal_init(m, mean, stddev):\n"
        "    m.weight.data.normal_().fmod_(2).mul_(stddev).add_(mean)\n")
    model = (
        "import torch.nn as nn\n"
        "from init_utils import normal_init\n\n\n"
        "class Net(nn.Module):\n"
        "    def __init__(self):\n"
        "        super().__init__()\n"
        "        self.fc = nn.Linear(784, 256)\n"
        "        normal_init(self.fc, 0, {std})\n\n"
        "    def forward(self, x):\n"
        "        return self.fc(x)\n"
    )
    quiet = findings(tmp_path / "a", {"init_utils.py": helper, "net.py": model.format(std="0.01")}, "IA105")
    assert quiet == []
    unit = findings(tmp_path / "b", {"init_utils.py": helper, "net.py": model.format(std="1")}, "IA105")
    assert unit == [("net.py", 9, "IA105")]


# ---------------------------------------------------------------- a draw on a fresh tensor in a Parameter

FRESH = """\
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.nn import Parameter


class TDNN(nn.Module):
    def __init__(self, sizes):
        super().__init__()
        self.kernel = Parameter(torch.Tensor(25, 15, 3).{draw})
        self.kernels = [Parameter(torch.Tensor(o, 15, k).{draw}) for k, o in sizes]
        for i, p in enumerate(self.kernels):
            self.register_parameter(f"k{{i}}", p)

    def forward(self, x):
        y = torch.tanh(F.conv1d(x, self.kernel))
        return [torch.tanh(F.conv1d(y, kernel)) for kernel in self.kernels]
"""


def test_a_unit_draw_on_a_fresh_tensor_in_a_parameter_is_that_parameters_init() -> None:
    expected = [(10, "IA105"), (11, "IA105")]
    assert lines(FRESH.format(draw="uniform_(-1, 1)"), "IA105") == expected
    assert lines(FRESH.format(draw="normal_()"), "IA105") == expected


def test_a_scaled_draw_on_a_fresh_tensor_in_a_parameter_is_quiet() -> None:
    for draw in ("uniform_(-0.05, 0.05)", "normal_(0, 0.02)", "normal_().mul_(0.02)", "uniform_(-1, 1).div_(28)"):
        assert lines(FRESH.format(draw=draw), "IA105") == [], draw


def test_a_parameter_list_not_used_as_a_weight_is_not_judged() -> None:
    code = FRESH.format(draw="normal_()").replace("F.conv1d(y, kernel)", "y + kernel")
    assert lines(code, "IA105") == [(10, "IA105")]


# ---------------------------------------------------------------- writes through getattr and views

GATES = """\
import torch
import torch.nn as nn


class Encoder(nn.Module):
    def __init__(self):
        super().__init__()
        self.rnn = nn.LSTM(32, 64, num_layers=2)
        self.reset_params()

    def reset_params(self):
        for i in range(self.rnn.num_layers):
            nn.init.constant_(getattr(self.rnn, f"bias_hh_l{{i}}"), val=0)
            {write}

    def forward(self, x):
        return self.rnn(x)[0]
"""


def test_an_inplace_write_into_a_view_of_a_parameter_raises() -> None:
    for statement in ('getattr(self.rnn, f"bias_hh_l{i}").chunk(4)[1].fill_(1)',
                  'getattr(self.rnn, "bias_hh_l0")[16:32].fill_(1)',
                  "self.rnn.bias_hh_l0.narrow(0, 16, 16).fill_(1)"):
        assert lines(GATES.format(write=statement), "IA107") == [(14, "IA107")], statement


def test_a_view_written_through_data_or_under_no_grad_is_quiet() -> None:
    for statement in ('getattr(self.rnn, f"bias_hh_l{i}").data.chunk(4)[1].fill_(1)',
                  'getattr(self.rnn, f"bias_hh_l{i}").detach()[16:32].fill_(1)',
                  "with torch.no_grad(): self.rnn.bias_hh_l0.chunk(4)[1].fill_(1)"):
        assert lines(GATES.format(write=statement), "IA107") == [], statement


def test_a_view_write_is_no_init_of_the_whole_parameter() -> None:
    statement = 'getattr(self.rnn, f"bias_hh_l{i}").data.chunk(4)[1].fill_(1)'
    assert lines(GATES.format(write=statement), "IA102", "IA111") == []


# ---------------------------------------------------------------- a size read from another layer

CRITIC = """\
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F


def hidden_init(layer):
    fan_in = layer.weight.data.size()[0]
    lim = 1. / np.sqrt(fan_in)
    return (-lim, lim)


class Critic(nn.Module):
    def __init__(self, state_size, action_size, hidden_size=32):
        super().__init__()
        in_dim = hidden_size + action_size + state_size
        self.fc1 = nn.Linear(state_size + action_size, hidden_size)
        self.fc2 = nn.Linear(in_dim, hidden_size)
        self.fc3 = nn.Linear(in_dim, hidden_size)
        self.fc4 = nn.Linear(hidden_size, 1)
        self.reset_parameters()

    def reset_parameters(self):
        self.fc3.weight.data.uniform_(*hidden_init(self.fc2))
        self.fc4.weight.data.uniform_(*hidden_init(self.fc2))

    def forward(self, state, action):
        xu = torch.cat((state, action), dim=1)
        x = F.relu(self.fc1(xu))
        x = F.relu(self.fc2(torch.cat([x, xu], dim=1)))
        x = F.relu(self.fc3(torch.cat([x, xu], dim=1)))
        return self.fc4(x)
"""


def test_dimension_0_of_a_layer_built_with_the_same_outputs_is_this_layers_fan_out() -> None:
    # fc2 and fc3 are both built with hidden_size outputs; fc4 takes hidden_size inputs.
    assert lines(CRITIC, "IA113") == [(24, "IA113")]


def test_dimension_0_of_a_layer_with_other_outputs_is_not_judged() -> None:
    code = CRITIC.replace("self.fc3 = nn.Linear(in_dim, hidden_size)", "self.fc3 = nn.Linear(in_dim, 2 * hidden_size)")
    assert lines(code, "IA113") == []


def test_getattr_with_a_written_name_reads_that_attribute() -> None:
    code = STATEMENTS.format(after="pass").replace(
        "self.fc.weight.data.uniform_(-1, 1)", "nn.init.normal_(getattr(self.fc, {name}))")
    assert lines(code.format(name='"weight"'), "IA105") == [(8, "IA105")]
    assert lines(code.format(name="self.name"), "IA105") == []
