"""``zero_module``-style helpers: a loop over the parameters of the module given reaches its weight."""

from __future__ import annotations

from tests.lint.selection import lint_selected

HELPER = '''
import torch.nn as nn


def zero_module(module):
    {body}
    return module

'''

UNCONDITIONAL = "for p in module.parameters():\n        p.detach().zero_()"


def ia101(code: str) -> list[tuple[int, str]]:
    return [(d.line, d.message) for d in lint_selected(code, "IA101")]


def test_zeroed_hidden_layer_built_in_the_call_is_reported() -> None:
    code = HELPER.format(body=UNCONDITIONAL) + '''
class Block(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.conv1 = nn.Conv2d(c, c, 3, padding=1)
        self.conv2 = zero_module(nn.Conv2d(c, c, 3, padding=1))
        self.hidden = zero_module(nn.Linear(c, c))

    def forward(self, x):
        h = self.hidden(x.mean((2, 3))).relu()
        return x + self.conv2(self.conv1(x).relu()) + h[..., None, None]
'''
    found = ia101(code)
    assert len(found) == 1
    assert found[0][0] == 7  # the zero_ in the helper
    assert found[0][1].startswith("hidden.weight (Linear) is initialised to zeros: it feeds a ReLU")


def test_zero_conv_closing_a_residual_branch_is_intentional() -> None:
    # The guided-diffusion / ControlNet pattern: the block starts as the identity.
    code = HELPER.format(body=UNCONDITIONAL) + '''
class ResBlock(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.in_conv = nn.Conv2d(c, c, 3, padding=1)
        self.out_conv = zero_module(nn.Conv2d(c, c, 3, padding=1))

    def forward(self, x):
        return x + self.out_conv(self.in_conv(x).relu())
'''
    assert ia101(code) == []


def test_module_attribute_passed_to_the_helper_is_followed() -> None:
    code = HELPER.format(body=UNCONDITIONAL) + '''
class Head(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(8, 8)
        self.proj = nn.Linear(8, 2)
        zero_module(self.fc1)
        zero_module(self.proj)

    def forward(self, x):
        return self.proj(self.fc1(x).tanh())
'''
    found = ia101(code)
    assert [line for line, _ in found] == [7]
    assert found[0][1].startswith("fc1.weight (Linear) is initialised to zeros")  # proj is the output


def test_a_helper_that_zeroes_only_under_a_test_is_not_followed() -> None:
    body = "if module.weight.dim() > 1:\n        for p in module.parameters():\n            p.detach().zero_()"
    code = HELPER.format(body=body) + '''
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = zero_module(nn.Linear(8, 8))
        self.fc2 = nn.Linear(8, 2)

    def forward(self, x):
        return self.fc2(self.fc1(x).relu())
'''
    assert ia101(code) == []


def test_a_block_handed_to_the_helper_stays_unknown() -> None:
    code = HELPER.format(body=UNCONDITIONAL) + '''
class Inner(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(8, 8)

    def forward(self, x):
        return self.fc(x)


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.inner = zero_module(Inner())
        self.fc2 = nn.Linear(8, 2)

    def forward(self, x):
        return self.fc2(self.inner(x).relu())
'''
    assert ia101(code) == []


def test_a_zero_factor_named_like_lora_b_still_counts_when_it_feeds_an_activation() -> None:
    code = HELPER.format(body=UNCONDITIONAL) + '''
class Gate(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.a = nn.Linear(c, c)
        self.b = zero_module(nn.Linear(c, c))

    def forward(self, x):
        return self.b(self.a(x)).tanh()
'''
    assert len(ia101(code)) == 1


def test_a_lora_pair_whose_update_is_added_stays_quiet() -> None:
    code = HELPER.format(body=UNCONDITIONAL) + '''
class LoRALinear(nn.Module):
    def __init__(self, base, r):
        super().__init__()
        self.base = base
        self.a = nn.Linear(base.in_features, r, bias=False)
        self.b = zero_module(nn.Linear(r, base.out_features, bias=False))

    def forward(self, x):
        return self.base(x) + self.b(self.a(x))
'''
    assert ia101(code) == []
