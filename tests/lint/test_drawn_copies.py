"""A tensor written by ``copy_`` from a fresh draw is drawn (a hand-written truncated normal), and
an init helper's call in a block that every holder writes again is voided at that call."""

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
