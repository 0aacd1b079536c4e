"""IA103 through forward() shapes that gate, split, loop over slices and fill values in place."""

from __future__ import annotations

from initaudit.diagnostics import Diagnostic
from tests.lint.selection import lint_selected

HEADER = "import torch\nimport torch.nn as nn\nimport torch.nn.functional as F\n"


def found(code: str) -> list[Diagnostic]:
    return lint_selected(HEADER + code, "IA103")


GATE = """
class Gate(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv1d(8, 16, 3)
        self.cond = nn.Conv1d(4, 16, 1)
        nn.init.{init}(self.conv.weight)
        nn.init.{init}(self.cond.weight)

    def forward(self, x, c):
        x = self.conv(x)
        x = x[:, :, :c.size(-1)]
        {split}
        ca, cb = torch.chunk(self.cond(c), 2, dim=1)
        a, b = a + ca, b + cb
        return torch.tanh(a) * torch.sigmoid(b)
"""
SPLITS = ("a, b = x.split(x.size(1) // 2, dim=1)", "a, b = x.chunk(2, 1)",
          "a, b = torch.chunk(x, 2, dim=1)", "a, b = x[:, :8], x[:, 8:]")


def test_he_before_a_tanh_sigmoid_gate_is_reported_without_a_fix() -> None:
    for split in SPLITS:
        findings = found(GATE.format(init="kaiming_normal_", split=split))
        assert [f.line for f in findings] == [10, 11], split
        assert all(f.fix is None for f in findings)  # tanh and sigmoid want different gains


def test_xavier_before_a_tanh_sigmoid_gate_is_fine() -> None:
    for split in SPLITS:
        assert found(GATE.format(init="xavier_normal_", split=split)) == [], split


SWISH = """
class Swish(nn.Module):
    def forward(self, x):
        return x * x.sigmoid()

class FeedForward(nn.Module):
    def __init__(self):
        super().__init__()
        self.seq = nn.Sequential(nn.Linear(8, 32), Swish(), nn.Linear(32, 8))
        self.fc = nn.Linear(8, 8)
        nn.init.{init}(self.seq[0].weight)
        nn.init.{init}(self.fc.weight)

    def forward(self, x):
        h = self.fc(x)
        h = {gate}
        return self.seq(h)
"""


def test_swish_written_out_is_silu() -> None:
    for gate in ("h * torch.sigmoid(h)", "torch.sigmoid(h) * h", "h * h.sigmoid()"):
        findings = found(SWISH.format(init="xavier_uniform_", gate=gate))
        assert [f.line for f in findings] == [14, 15], gate
        assert all("feeds silu" in f.message for f in findings)
        assert found(SWISH.format(init="kaiming_uniform_", gate=gate)) == [], gate


def test_a_product_of_two_signals_is_not_swish() -> None:
    code = SWISH.format(init="xavier_uniform_", gate="h * torch.sigmoid(x)")
    assert [f.line for f in found(code)] == [14]  # only the Sequential's Swish


LOOP = """
class MLP(nn.Module):
    def __init__(self):
        super().__init__()
        self.layers = nn.ModuleList([nn.Linear(8, 8), nn.Linear(8, 8), nn.Linear(8, 2)])
        for layer in self.layers:
            nn.init.{init}(layer.weight{gain})

    def forward(self, h):
        for {target} in {iterated}:
            h = torch.tanh(layer(h))
        return self.layers[-1](h)
"""


def test_loop_over_all_but_the_last_layer() -> None:
    for target, iterated in (("layer", "self.layers[:-1]"), ("i, layer", "enumerate(self.layers[:2])")):
        findings = found(LOOP.format(init="kaiming_normal_", gain="", target=target, iterated=iterated))
        messages = sorted(f.message for f in findings)
        assert len(messages) == 2, iterated
        assert "2 Linear layers that feed tanh: layers.0, layers.1" in messages[0]
        assert "layers.2 (Linear) feeds no activation" in messages[1]
        tanh = LOOP.format(init="xavier_normal_", gain=", gain=nn.init.calculate_gain('tanh')",
                           target=target, iterated=iterated)
        [finding] = found(tanh)  # the tanh gain suits all but the output layer
        assert "layers.2" in finding.message


def test_loop_with_a_stepped_slice_is_left_alone() -> None:
    code = LOOP.format(init="kaiming_normal_", gain="", target="layer", iterated="self.layers[::2]")
    assert all("tanh" not in f.message for f in found(code))


def test_loop_whose_last_layer_skips_the_activation() -> None:
    code = """
class AE(nn.Module):
    def __init__(self):
        super().__init__()
        self.enc = nn.ModuleList([nn.Linear(8, 8), nn.Linear(8, 4)])
        self.enc.apply(self.init)

    def init(self, m):
        if isinstance(m, nn.Linear):
            nn.init.kaiming_normal_(m.weight)

    def forward(self, x):
        for i, layer in enumerate(self.enc):
            x = layer(x)
            if i != len(self.enc) - 1:
                x = torch.tanh(x)
        return x
"""
    [finding] = found(code)
    assert "feed tanh" in finding.message and finding.fix is None


ATTENTION = """
class Attention(nn.Module):
    def __init__(self):
        super().__init__()
        self.q = nn.Linear(8, 8)
        self.v = nn.Linear(8, 1)
        self.value = nn.Linear(8, 8)
        nn.init.xavier_uniform_(self.q.weight, gain=nn.init.calculate_gain("tanh"))
        nn.init.xavier_uniform_(self.v.weight, gain=nn.init.calculate_gain({gain!r}))
        nn.init.xavier_uniform_(self.value.weight, gain=nn.init.calculate_gain({gain!r}))

    def forward(self, x, mask, cached):
        value = self.value(x) if cached is None else cached
        scores = self.v(torch.tanh(self.q(x)))
        {fill}
        attn = torch.softmax(scores, dim=1)
        return torch.bmm(attn, value)
"""
FILLS = ("scores.data.masked_fill_(mask, -float('inf'))", "scores = scores.masked_fill(mask, -1e9)")


def test_tanh_gain_before_attention_logits_and_values() -> None:
    """A gain naming another family than the real consumer's (softmax logits, a linear bmm)."""
    for fill in FILLS:
        findings = found(ATTENTION.format(gain="tanh", fill=fill))
        assert [f.line for f in findings] == [12, 13], fill
        assert "feeds softmax" in findings[0].message


def test_linear_gain_before_attention_logits_and_values_is_fine() -> None:
    for fill in FILLS:
        assert found(ATTENTION.format(gain="linear", fill=fill)) == [], fill

