"""Functions reached through a class (``Net.init_weights`` handed to ``apply``, ``Base.init(self,
m)`` called), and what the class of an instance runs when it is built (its ``apply`` in
``__init__``), in this file or another: each is bound as Python binds it, and a later write of
one instance voids that instance's own init only."""

from __future__ import annotations

from pathlib import Path

from tests.lint.selection import lint_selected, selecting
from tests.lint.test_project import findings, write

#: A Q network whose static init method puts He (ReLU gain) on every Linear: right for ``fc1``,
#: which feeds relu, wrong for the output layer unless {output} squashes it.
DQN = """\
import torch
import torch.nn as nn
import torch.nn.functional as F


class DQN(nn.Module):
    def __init__(self, n):
        super().__init__()
        self.fc1 = nn.Linear(8, 8)
        self.fc2 = nn.Linear(8, n)

    def forward(self, x):
        x = F.relu(self.fc1(x))
        return {output}

    @staticmethod
    def init_weights(module):
        if isinstance(module, nn.Linear):
            torch.nn.init.kaiming_normal_(module.weight, nonlinearity="relu")
"""

AGENT = """\
{import_line}


class Agent:
    def __init__(self, n):
        self.policy = {built}(n)
        self.policy.apply({applied}.init_weights)
"""


def agent(root: Path, output: str, import_line: str = "from model import DQN",
          built: str = "DQN", applied: str = "DQN") -> list[tuple[str, int, str, str]]:
    write(root, {"model.py": DQN.format(output=output),
                 "agent.py": AGENT.format(import_line=import_line, built=built, applied=applied)})
    return findings([root], config=selecting("IA103"))


def test_a_static_method_of_an_imported_class_applied_is_reported_at_the_apply(tmp_path: Path) -> None:
    found = agent(tmp_path, "self.fc2(x)")
    assert [(name, line, code) for name, line, code, _ in found] == [("agent.py", 7, "IA103")]
    assert "policy.fc2 (Linear, model.py:10) feeds no activation" in found[0][3]
    assert "written at model.py:19" in found[0][3]


def test_a_static_method_read_through_the_imported_module_is_the_same(tmp_path: Path) -> None:
    found = agent(tmp_path, "self.fc2(x)", import_line="import model", built="model.DQN", applied="model.DQN")
    assert [(name, line, code) for name, line, code, _ in found] == [("agent.py", 7, "IA103")]


def test_a_static_method_whose_scheme_suits_every_layer_is_quiet(tmp_path: Path) -> None:
    assert agent(tmp_path, "F.relu(self.fc2(x))") == []


def test_a_static_method_of_a_class_of_this_file_applied() -> None:
    code = DQN + AGENT.format(import_line="", built="DQN", applied="DQN")
    assert [d.line for d in lint_selected(code.format(output="self.fc2(x)"), "IA103")] == [19]
    assert lint_selected(code.format(output="torch.relu(self.fc2(x))"), "IA103") == []


#: A method called through its class with the instance passed explicitly: the call hands every
#: parameter its argument, ``self`` included.
THROUGH_BASE = """
import torch.nn as nn


class Base(nn.Module):
    def init_layer(self, layer):
        nn.init.kaiming_normal_(layer.weight)


class Net(Base):
    def __init__(self):
        super().__init__()
        self.hidden = nn.Linear(8, 8)
        self.out = nn.Linear(8, 2)
        Base.init_layer(self, self.{layer})

    def forward(self, x):
        return self.out(self.hidden(x).relu())
"""


def test_a_method_called_through_its_class_binds_the_instance_passed() -> None:
    found = lint_selected(THROUGH_BASE.format(layer="out"), "IA103")
    assert [d.line for d in found] == [7]
    assert "out (Linear) feeds no activation" in found[0].message
    assert lint_selected(THROUGH_BASE.format(layer="hidden"), "IA103") == []


# ---------------------------------------------------------------- what a class runs when built

#: A block that initialises its layers with an ``apply`` of its own method when built.
MLP = """\
import torch.nn as nn


class MLP(nn.Module):
    def __init__(self, n):
        super().__init__()
        self.network = nn.Sequential(nn.Linear(n, 8), nn.Tanh(), nn.Linear(8, 1))
        self.apply(self._init_weights)

    def _init_weights(self, module):
        if isinstance(module, nn.Linear):
            nn.init.orthogonal_(module.weight, gain=1.414)
            nn.init.constant_(module.bias, 0)

    def forward(self, x):
        return self.network(x)
"""

CRITIC = """\
import torch.nn as nn
from mlp import MLP


class Critic(nn.Module):
    def __init__(self, n, fresh=True):
        super().__init__()
        self.actor = MLP(n)
        self.q = MLP(n)
        for m in self.{rewritten}.modules():
            if {test}:
                nn.init.orthogonal_(m.weight)
                nn.init.zeros_(m.bias)

    def forward(self, x):
        return self.q(x) + self.actor(x)
"""


def critic(root: Path, rewritten: str = "q", test: str = "isinstance(m, nn.Linear)",
           ) -> list[tuple[str, int, str, str]]:
    write(root, {"mlp.py": MLP, "critic.py": CRITIC.format(rewritten=rewritten, test=test)})
    return findings([root], config=selecting("IA111"))


def test_a_later_loop_voids_what_an_imported_block_applied_when_built(tmp_path: Path) -> None:
    found = critic(tmp_path)
    assert [(name, line, code) for name, line, code, _ in found] == [
        ("critic.py", 12, "IA111"), ("critic.py", 13, "IA111")]
    assert "weight of q.network.0, q.network.2 again, so the orthogonal_ at mlp.py:12" in found[0][3]
    assert "bias of q.network.0, q.network.2 again, so the constant_ at mlp.py:13" in found[1][3]


def test_the_instance_not_rewritten_keeps_its_init(tmp_path: Path) -> None:
    """Each instance runs its own apply: the rewrite of ``q`` voids nothing of ``actor``'s."""
    messages = [message for *_, message in critic(tmp_path)]
    assert not any("actor." in message for message in messages)


def test_a_later_loop_that_may_not_run_or_misses_a_layer_voids_nothing(tmp_path: Path) -> None:
    assert critic(tmp_path / "flag", test="isinstance(m, nn.Linear) and fresh") == []
    assert critic(tmp_path / "conv", test="isinstance(m, nn.Conv2d)") == []


def test_a_block_of_this_file_is_voided_per_instance() -> None:
    code = MLP + CRITIC.replace("from mlp import MLP\n", "").format(rewritten="q", test="isinstance(m, nn.Linear)")
    found = lint_selected(code, "IA111")
    assert [d.line for d in found] == [27, 28]
    assert all("q.network.0, q.network.2 again" in d.message and "actor" not in d.message for d in found)


# ---------------------------------------------------------------- a method of a held module

#: A block whose init method its holder calls; ``fc`` feeds relu, so Xavier (gain 1) is wrong
#: there unless {hidden} says otherwise.
BLOCK = """\
import torch
from torch import nn


class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(8, 8)
        self.out = nn.Linear(8, 8)

    def forward(self, x):
        return self.out({hidden})

    def init_weight(self):
        nn.init.xavier_uniform_(self.fc.weight)
        for m in self.modules():
            if isinstance(m, nn.Linear) and m.bias is not None:
                nn.init.zeros_(m.bias)
"""

HOLDER = """\
import torch
from torch import nn
from block import Block


class Holder(nn.Module):
    def __init__(self):
        super().__init__()
        self.block = Block()
        self.head = nn.Linear(8, 1)
        self.init_weight()

    def init_weight(self):
        self.block.init_weight()
        for m in self.modules():
            if {test}:
                nn.init.zeros_(m.bias)

    def forward(self, x):
        return torch.sigmoid(self.head(self.block(x)))
"""


def holder(root: Path, hidden: str = "torch.relu(self.fc(x))", test: str = "isinstance(m, nn.Linear)",
           *rules: str) -> list[tuple[str, int, str, str]]:
    write(root, {"block.py": BLOCK.format(hidden=hidden), "holder.py": HOLDER.format(test=test)})
    return [found for found in findings([root], config=selecting(*(rules or ("IA103", "IA111"))))
            if found[0] == "holder.py"]


def test_a_method_of_a_held_module_runs_on_that_module(tmp_path: Path) -> None:
    found = holder(tmp_path)
    assert [(line, code) for _, line, code, _ in found] == [(14, "IA103"), (17, "IA111")]
    assert "block.fc (Linear, block.py:8) feeds relu" in found[0][3]
    assert "written at block.py:15" in found[0][3]


def test_its_init_voided_by_the_holder_is_reported_at_the_later_write(tmp_path: Path) -> None:
    [(_, line, _, message)] = holder(tmp_path, "torch.relu(self.fc(x))", "isinstance(m, nn.Linear)", "IA111")
    assert line == 17
    assert message.startswith("this zeros_ initialises the bias of block.fc, block.out again, "
                              "so the zeros_ at block.py:18, run by the call at line 14, has no effect")


def test_a_held_module_whose_init_suits_it_and_stays_in_force_is_quiet(tmp_path: Path) -> None:
    # fc feeds tanh: Xavier suits it; the holder's zeros only run on Conv layers.
    assert holder(tmp_path, "torch.tanh(self.fc(x))", "isinstance(m, nn.Conv2d)") == []


def test_a_held_module_of_this_file() -> None:
    code = BLOCK.format(hidden="torch.relu(self.fc(x))") + HOLDER.replace("from block import Block\n", "").format(
        test="isinstance(m, nn.Linear)")
    # Judged once, where it is written, on the block's own layers.
    assert [(d.line, d.code) for d in lint_selected(code, "IA103", "IA111")] == [(15, "IA103")]


# ---------------------------------------------------------------- what a loop's test picks


def test_a_test_that_the_written_tensor_exists_only_picks_elements() -> None:
    """``m.bias is not None`` before writing ``m.bias``: a layer without one has nothing to write,
    so the later loop rewrites every bias the earlier one wrote."""
    code = """
    import torch.nn as nn

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(8, 8)
            for m in self.modules():
                if isinstance(m, nn.Linear):
                    nn.init.zeros_(m.bias)
            for m in self.modules():
                if isinstance(m, nn.Linear) and m.{tested} is not None:
                    nn.init.{init}(m.bias)

        def forward(self, x):
            return self.fc(x)
    """
    assert [d.line for d in lint_selected(code.format(tested="bias", init="zeros_"), "IA111")] == [10]
    # Whether the layer has a weight says nothing of its bias... (every layer has one, but the
    # test is not about the tensor written) nor does a test of another tensor pick the same.
    assert lint_selected(code.format(tested="weight_g", init="zeros_"), "IA111") == []


# ---------------------------------------------------------------- a file parsed more than once

LAYERS = """\
import torch
import torch.nn as nn


class Dense(nn.Module):
    def __init__(self, n, m, w_init="linear"):
        super().__init__()
        self.linear_layer = nn.Linear(n, m)
        nn.init.xavier_uniform_(self.linear_layer.weight, gain=nn.init.calculate_gain(w_init))

    def forward(self, x):
        return self.linear_layer(x)


class Prenet(nn.Module):
    def __init__(self, n):
        super().__init__()
        self.fc = Dense(n, n, w_init="relu")

    def forward(self, x):
        return self.fc(x).relu()


class Postnet(nn.Module):
    def __init__(self, n):
        super().__init__()
        self.convs = nn.ModuleList([nn.Conv1d(n, n, 5, padding=2) for _ in range(5)])
        self.norms = nn.ModuleList([nn.BatchNorm1d(n) for _ in range(5)])
        self.dropout = nn.Dropout(0.1)

    def forward(self, x):
        for conv, norm in zip(self.convs, self.norms):
            x = self.dropout(torch.tanh(norm(conv(x))))
        return x


class Highway(nn.Module):
    def __init__(self, n, depth=4):
        super().__init__()
        self.gates = nn.ModuleList([nn.Linear(n, n) for _ in range(depth)])
        self.transforms = nn.ModuleList([nn.Linear(n, n) for _ in range(depth)])

    def forward(self, x):
        for gate, transform in zip(self.gates, self.transforms):
            g = torch.sigmoid(gate(x))
            x = g * torch.relu(transform(x)) + (1 - g) * x
        return x
"""

DECODER = """\
import torch
import torch.nn as nn
from layers import Dense
from layers import Prenet


class Decoder(nn.Module):
    def __init__(self, n):
        super().__init__()
        self.stop = Dense(n, 1, w_init="sigmoid")
        self.prenet = Prenet(n)
        {later}

    def forward(self, x):
        return torch.sigmoid(self.stop(self.prenet(x)))
"""


def test_a_construction_runs_its_own_init_not_a_later_write(tmp_path: Path) -> None:
    """``Dense(n, 1, w_init="sigmoid")`` runs the class's init with its own values: that is the
    init of the instance, not a second write voiding it, whichever parse of ``layers.py`` (one
    per name asked for: ``Dense``, then ``Prenet``) the composed layers came from."""
    write(tmp_path, {"layers.py": LAYERS, "decoder.py": DECODER.format(later="")})
    assert findings([tmp_path], config=selecting("IA111")) == []


def test_a_later_write_of_that_instance_voids_its_init(tmp_path: Path) -> None:
    write(tmp_path, {"layers.py": LAYERS,
                     "decoder.py": DECODER.format(later="nn.init.zeros_(self.stop.linear_layer.weight)")})
    found = findings([tmp_path], config=selecting("IA111"))
    assert [(name, line, code) for name, line, code, _ in found] == [("decoder.py", 12, "IA111")]
    assert "run by the call at line 10" in found[0][3]
    assert "weight of stop.linear_layer again, so the xavier_uniform_ at layers.py:9" in found[0][3]
