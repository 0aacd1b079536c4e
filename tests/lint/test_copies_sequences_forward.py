"""A tensor written by ``copy_`` from a fresh draw is drawn (a hand-written truncated normal); an
init helper's call in a block that every holder writes again is voided at that call; a subclass of
``nn.Sequential`` runs what it registers in order; a Parameter ``forward`` makes is made anew."""

from __future__ import annotations

from tests.conftest import lint

TRUNCATED = """\
import numpy as np
import torch
import torch.nn as nn


def truncated_normal_(tensor, mean=0, std=1):
    tmp = tensor.new_empty(tensor.shape + (4,)).normal_()
    valid = (tmp < 2) & (tmp > -2)
    ind = valid.max(-1, keepdim=True)[1]
    tensor.data.copy_(tmp.gather(-1, ind).squeeze(-1))
    tensor.data.mul_(std).add_(mean)


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(8, 8)
        self.rnn = nn.LSTM(8, 8)
        truncated_normal_(self.fc.weight, 0, np.sqrt(2. / self.fc.in_features))
        for name, param in self.rnn.named_parameters():
            if "weight" in name:
                truncated_normal_(param, 0, np.sqrt(2. / param.size(1)))

    def forward(self, x):
        return self.rnn(torch.tanh(self.fc(x)))[0]
"""


def found(code: str) -> list[tuple[int, str]]:
    return [(d.line, d.code) for d in lint(code)]


def test_a_copy_of_a_draw_rearranged_is_that_draw_scaled_by_the_steps_after_it() -> None:
    assert found(TRUNCATED) == [(19, "IA103"), (22, "IA103")]
    message = next(d.message for d in lint(TRUNCATED) if d.line == 19)
    assert "written at line 10" in message and "ReLU gain" in message and "tanh" in message


def test_a_copy_of_a_draw_given_a_scale_for_its_activation_is_quiet() -> None:
    xavier = TRUNCATED.replace("np.sqrt(2. / self.fc.in_features)", "5 / 3 * np.sqrt(2. / (8 + 8))")
    assert (19, "IA103") not in found(xavier)


def test_a_copy_of_a_factory_draw_unscaled_is_unit_scale() -> None:
    code = """\
    import torch
    import torch.nn as nn

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(64, 64)
            self.out = nn.Linear(64, 1)
            with torch.no_grad():
                self.fc.weight.copy_(torch.randn(64, 64).t())

        def forward(self, x):
            return self.out(self.fc(x).relu())
    """
    assert found(code) == [(10, "IA105")]


def test_copies_of_values_not_drawn_here_are_not_inits() -> None:
    code = """\
    import numpy as np
    import torch
    import torch.nn as nn

    class Net(nn.Module):
        def __init__(self, pretrained):
            super().__init__()
            self.fc = nn.Linear(64, 64)
            self.emb = nn.Embedding(10, 64)
            with torch.no_grad():
                self.fc.weight.copy_(pretrained.t())
                self.emb.weight.copy_(torch.from_numpy(np.load("vectors.npy")))
                saved = pretrained.view(64, 64)
                self.fc.weight.copy_(saved.reshape(64, 64))

        def forward(self, x):
            return self.fc(self.emb(x))
    """
    assert found(code) == []


HELD = """\
import numpy as np
import torch.nn as nn


def normal_init(tensor, std=1.0):
    tensor.data.normal_(0, std)


class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(4, 4)
        for m in self.modules():
            if isinstance(m, nn.Linear):
                normal_init(m.weight, np.sqrt(2. / m.in_features))

    def forward(self, x):
        return self.fc(x).relu()


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.block = Block()
        for m in self.modules():
            if isinstance(m, nn.Linear):
                m.weight.data.normal_(0, np.sqrt(2. / m.in_features))

    def forward(self, x):
        return self.block(x)
"""


def test_a_helpers_call_in_a_block_that_every_holder_writes_again_has_no_effect() -> None:
    diagnostics = [d for d in lint(HELD) if d.code == "IA111"]
    assert [d.line for d in diagnostics] == [15]
    assert "normal_ (written at line 6) has no effect" in diagnostics[0].message
    assert "line 27" in diagnostics[0].message


def test_a_helpers_call_in_a_block_also_built_alone_is_voided_only_in_the_holder() -> None:
    alone = HELD + "\n\nstandalone = Block()\n"
    lines = [d.line for d in lint(alone) if d.code == "IA111"]
    assert 15 not in lines
    assert lines == [27]  # reported at the holder's write, which names the voided run


def test_a_helpers_call_under_a_test_of_something_else_than_the_element_is_not_voided() -> None:
    guarded = HELD.replace("            if isinstance(m, nn.Linear):\n                normal_init",
                           "            if isinstance(m, nn.Linear) and self.training:\n                normal_init")
    assert [d for d in lint(guarded) if d.code == "IA111"] == []


SEQUENTIAL_SUBCLASSES = """\
import torch
import torch.nn as nn


class Classifier(nn.Sequential):
    def __init__(self, a, b, c):
        super(Classifier, self).__init__()
        self.add_module('lin1', nn.Linear(a, b))
        self.add_module('relu', nn.ReLU())
        self.add_module('lin2', nn.Linear(b, c))


class ConvAct(nn.Sequential):
    def __init__(self, cin, cout, norm_layer=nn.BatchNorm2d, act=nn.ReLU):
        layers = [nn.Conv2d(cin, cout, 3)]
        if norm_layer is not None:
            layers.append(norm_layer(cout))
        layers.append(act())
        super().__init__(*layers)
        self.out_channels = cout


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.stem = ConvAct(3, 8, norm_layer=None)
        self.body = ConvAct(8, 8)
        self.head = Classifier(8, 16, 2)
        for m in self.modules():
            if isinstance(m, (nn.Conv2d, nn.Linear)):
                nn.init.xavier_uniform_(m.weight)

    def forward(self, x):
        return self.head(self.body(self.stem(x)).mean((2, 3)))
"""


def test_a_sequential_subclass_runs_the_modules_it_registers_in_order() -> None:
    messages = [d.message for d in lint(SEQUENTIAL_SUBCLASSES) if d.code == "IA103"]
    assert len(messages) == 1
    assert "feed relu: stem.0, head.0" in messages[0] and "body.0" not in messages[0]


def test_a_sequential_subclass_with_its_own_forward_or_init_is_read_as_a_class() -> None:
    own_forward = SEQUENTIAL_SUBCLASSES.replace(
        "        self.out_channels = cout\n",
        "        self.out_channels = cout\n\n    def forward(self, x):\n        return x\n")
    assert not any("stem.0" in d.message for d in lint(own_forward))
    own_init = SEQUENTIAL_SUBCLASSES.replace(
        "        self.add_module('lin2', nn.Linear(b, c))\n",
        "        self.add_module('lin2', nn.Linear(b, c))\n"
        "        nn.init.kaiming_uniform_(self.lin1.weight, nonlinearity='relu')\n")
    assert not any("head.0" in d.message for d in lint(own_init))


def test_a_parameter_made_and_initialised_in_forward_is_made_again_on_every_call() -> None:
    code = """\
    import torch
    import torch.nn as nn
    import torch.nn.functional as F

    class Att(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(4, 4)

        def forward(self, x):
            params = {'w': nn.Parameter(torch.zeros([4, 4]))}
            nn.init.xavier_uniform_(params['w'])
            w2 = nn.Parameter(torch.zeros(4, 4))
            nn.init.xavier_uniform_(w2)
            noise = torch.empty(4, 4)
            nn.init.normal_(noise)
            return F.linear(F.linear(self.fc(x), params['w']), w2) + noise
    """
    diagnostics = [d for d in lint(code) if d.code == "IA108"]
    assert [d.line for d in diagnostics] == [12, 14]
    assert all("on a Parameter made there" in d.message for d in diagnostics)


ARMS = """\
import torch.nn as nn


class Net(nn.Module):
    def __init__(self, n, hidden_size):
        super().__init__()
        self.lstms = nn.ModuleList()
        for k in range(n):
            if k == 0:
                self.lstms.append(nn.LSTM(8, hidden_size[0], batch_first=True))
                continue
            self.lstms.append(nn.LSTM(hidden_size[k - 1], hidden_size[k], batch_first=True))
        self.fc = nn.Linear(8, 1)
        for k in range(len(self.lstms)):
            nn.init.kaiming_normal_(self.lstms[k]._parameters['weight_ih_l0'])

    def forward(self, x):
        for lstm in self.lstms:
            x, _ = lstm(x)
        return self.fc(x)
"""


def test_an_item_of_a_list_whose_branches_append_one_class_is_of_that_class() -> None:
    assert found(ARMS) == [(15, "IA103")]
    mixed = ARMS.replace("self.lstms.append(nn.LSTM(hidden_size[k - 1]", "self.lstms.append(nn.GRU(hidden_size[k - 1]")
    assert found(mixed) == []  # which class an index picks is not known


FACTORY = """\
import torch.nn as nn


def weights_init(init_type='gaussian'):
    def init_fun(m):
        classname = m.__class__.__name__
        if classname.find('Conv') == 0 and hasattr(m, 'weight'):
            if init_type == 'gaussian':
                nn.init.normal_(m.weight, 0.0, 0.02)
            elif init_type == 'kaiming':
                nn.init.kaiming_normal_(m.weight, a=0, mode='fan_in')
    return init_fun


class Net(nn.Module):
    def __init__(self, kind):
        super().__init__()
        self.kind = kind
        self.conv = nn.Conv2d(3, 8, 3)
        self.out = nn.Conv2d(8, 3, 1)
        self.apply(weights_init({argument}))

    def forward(self, x):
        return self.out(self.conv(x).relu())
"""


def test_apply_of_the_closure_a_factory_returns_runs_the_branch_its_arguments_pick() -> None:
    assert found(FACTORY.format(argument="'kaiming'")) == [(11, "IA103")]
    assert found(FACTORY.format(argument="init_type='kaiming'")) == [(11, "IA103")]


def test_a_closures_branch_its_factorys_call_does_not_take_is_not_judged() -> None:
    assert found(FACTORY.format(argument="")) == []  # the factory's default
    assert found(FACTORY.format(argument="'gaussian'")) == []
    assert found(FACTORY.format(argument="self.kind")) == []  # chosen where the model is built
