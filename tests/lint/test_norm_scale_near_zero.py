"""IA114: norm scales drawn around zero, and the norm inits real code writes on purpose."""

from __future__ import annotations

import pytest

from tests.lint.selection import lint_selected

BLOCK = '''
import math
import torch.nn as nn


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 16, 3)
        self.bn = nn.BatchNorm2d(16)
        self.fc = nn.Linear(16, 10)
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
            elif isinstance(m, nn.BatchNorm2d):
                {init}

    def forward(self, x):
        return self.fc(self.bn(self.conv(x)).relu().mean((2, 3)))
'''


def ia114(code: str) -> list[tuple[int, str]]:
    return [(d.line, d.message) for d in lint_selected(code, "IA114")]


@pytest.mark.parametrize("init, shown", [
    ("nn.init.normal_(m.weight, 0, 0.02)", "N(0, 0.02)"),
    ("nn.init.normal_(m.weight, std=0.01)", "N(0, 0.01)"),
    ("nn.init.normal_(m.weight)", "N(0, 1)"),
    ("m.weight.data.normal_(0.0, 0.02)", "N(0, 0.02)"),
    ("nn.init.trunc_normal_(m.weight, std=0.02)", "N(0, 0.02)"),
    ("nn.init.uniform_(m.weight, -0.1, 0.1)", "U(-0.1, 0.1)"),
    ("m.weight.data.uniform_(-1 / math.sqrt(m.num_features), 1 / math.sqrt(m.num_features))",
     "U(-1 / math.sqrt(m.num_features), 1 / math.sqrt(m.num_features))"),
])
def test_random_scale_around_zero_is_reported(init: str, shown: str) -> None:
    found = ia114(BLOCK.format(init=init))
    assert [line for line, _ in found] == [16]
    assert f"bn.weight (BatchNorm2d) is drawn from {shown}" in found[0][1]


@pytest.mark.parametrize("init", [
    "nn.init.normal_(m.weight, 1.0, 0.02)",  # DCGAN: jittered around 1
    "nn.init.ones_(m.weight)",
    "nn.init.constant_(m.weight, 1)",  # torchvision
    "m.weight.data.fill_(1.0)",  # transformers
    "nn.init.uniform_(m.weight)",  # U(0, 1): mean 0.5, not near zero
    "nn.init.normal_(m.bias, 0, 0.02)",  # the shift, not the scale
    "nn.init.normal_(m.weight, 0, 0)",  # a constant, not random: IA101/IA102's business
])
def test_scales_started_near_one_or_not_random_are_quiet(init: str) -> None:
    assert ia114(BLOCK.format(init=init)) == []


def test_mean_from_an_unknown_argument_is_not_judged() -> None:
    code = '''
    import torch.nn as nn


    def init_weights(net, mean):
        def init_func(m):
            if isinstance(m, nn.BatchNorm2d):
                nn.init.normal_(m.weight, mean, 0.02)
        net.apply(init_func)
    '''
    assert ia114(code) == []


DCGAN_TYPO = '''
import torch.nn as nn


def weights_init(m):
    classname = m.__class__.__name__
    if classname.find("Conv") != -1:
        nn.init.normal_(m.weight.data, 0.0, 0.02)
    elif classname.find("BatchNorm") != -1:
        nn.init.normal_(m.weight.data, {mean}, 0.02)
        nn.init.constant_(m.bias.data, 0)


class Generator(nn.Module):
    def __init__(self):
        super().__init__()
        self.main = nn.Sequential(
            nn.ConvTranspose2d(100, 64, 4, 1, 0, bias=False),
            nn.BatchNorm2d(64),
            nn.ReLU(True),
            nn.ConvTranspose2d(64, 3, 4, 2, 1, bias=False),
            nn.Tanh(),
        )
        self.apply(weights_init)

    def forward(self, x):
        return self.main(x)
'''


def test_dcgan_weights_init_with_the_mean_of_the_conv_branch() -> None:
    found = ia114(DCGAN_TYPO.format(mean="0.0"))
    assert [line for line, _ in found] == [10]
    assert "main.1.weight (BatchNorm2d)" in found[0][1]


def test_dcgan_weights_init_as_published_is_quiet() -> None:
    assert ia114(DCGAN_TYPO.format(mean="1.0")) == []


TRANSFORMER = '''
import torch.nn as nn


class Block(nn.Module):
    def __init__(self, d):
        super().__init__()
        self.norm = nn.LayerNorm(d)
        self.fc = nn.Linear(d, d)
        self.head = nn.Linear(d, 10)
        for name, p in self.named_parameters():
            {guard}nn.init.normal_(p, 0.0, 0.02)

    def forward(self, x):
        return self.head(self.fc(self.norm(x)).relu())
'''


def test_a_loop_over_every_parameter_reaches_the_norm_scale() -> None:
    found = ia114(TRANSFORMER.format(guard=""))
    assert [line for line, _ in found] == [12]
    assert "norm.weight (LayerNorm)" in found[0][1]


@pytest.mark.parametrize("guard", ["if p.dim() > 1: ", 'if "norm" not in name: ', "if p.ndim >= 2: "])
def test_a_loop_that_skips_vectors_or_norms_is_quiet(guard: str) -> None:
    assert ia114(TRANSFORMER.format(guard=guard)) == []


def test_a_weight_named_loop_reaches_the_norm_scale() -> None:
    found = ia114(TRANSFORMER.format(guard='if "weight" in name: '))
    assert [line for line, _ in found] == [12]


BOTTLENECK = '''
import torch.nn as nn


class Bottleneck(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.conv1 = nn.Conv2d(c, c, 1)
        self.bn1 = nn.BatchNorm2d(c)
        self.conv2 = nn.Conv2d(c, c, 3, padding=1)
        self.bn2 = nn.BatchNorm2d(c)
        self.relu = nn.ReLU()
        {init}

    def forward(self, x):
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return self.relu(out + x)
'''


def test_zero_on_the_last_norm_of_a_residual_branch_is_quiet() -> None:
    # zero-init-residual (torchvision, timm): a constant, deliberate start, not a random one, and
    # not a zero weight matrix either.
    assert lint_selected(BOTTLENECK.format(init="nn.init.zeros_(self.bn2.weight)"), "IA101", "IA102", "IA114") == []


@pytest.mark.parametrize("norm", ["bn1", "bn2"])
def test_random_scale_near_zero_in_a_residual_block_is_reported(norm: str) -> None:
    found = ia114(BOTTLENECK.format(init=f"nn.init.normal_(self.{norm}.weight, 0, 1e-3)"))
    assert [line for line, _ in found] == [13]


def test_timm_and_transformers_norm_inits_are_quiet() -> None:
    code = '''
    import torch.nn as nn


    class Model(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(8, 8)
            self.norm = nn.LayerNorm(8)
            self.gn = nn.GroupNorm(2, 8)
            self.apply(self._init_weights)

        def _init_weights(self, module):
            if isinstance(module, nn.Linear):
                module.weight.data.normal_(mean=0.0, std=0.02)
                if module.bias is not None:
                    module.bias.data.zero_()
            elif isinstance(module, (nn.LayerNorm, nn.GroupNorm)):
                module.bias.data.zero_()
                module.weight.data.fill_(1.0)

        def forward(self, x):
            return self.gn(self.norm(self.fc(x)).unsqueeze(-1))
    '''
    assert ia114(code) == []


ALL_PARAMETERS = '''
import torch.nn as nn


class Block(nn.Module):
    def __init__(self, d):
        super().__init__()
        self.norm = nn.LayerNorm(d)
        self.fc = nn.Linear(d, d)
        for name, p in self.named_parameters():
            {init}

    def forward(self, x):
        return self.fc(self.norm(x)).relu()
'''


def test_a_loop_over_every_parameter_is_reported_without_a_fix_that_would_make_weights_constant() -> None:
    found = lint_selected(ALL_PARAMETERS.format(init="nn.init.normal_(p, 0.0, 0.02)"), "IA114")
    assert [d.code for d in found] == ["IA114"]
    assert found[0].fix is None  # ones_(p) would also set fc.weight to 1


def test_a_loop_narrowed_to_norm_layers_gets_the_ones_fix() -> None:
    found = lint_selected(BLOCK.format(init="nn.init.normal_(m.weight, 0, 0.02)"), "IA114")
    assert found[0].fix is not None and "nn.init.ones_(m.weight)" in found[0].fix.message


ARGUMENT_TESTS = """
import torch.nn as nn
from torch.nn.init import uniform_


def build_base_model():
    return nn.Sequential(nn.Linear(16, 16), nn.LayerNorm(16), nn.Linear(16, 4))


def build_model(opt, checkpoint):
    model = build_base_model()
    if checkpoint is None:
        if opt.param_init != 0.0:
            for param in model.parameters():
                {inner}uniform_(param, -opt.param_init, opt.param_init)
    return model
"""


def test_a_parameters_loop_under_tests_of_the_arguments_writes_every_parameter() -> None:
    """Tests around the loop say whether it runs, not which parameters it writes."""
    found = lint_selected(ARGUMENT_TESTS.format(inner=""), "IA114")
    assert [(d.line, d.code) for d in found] == [(15, "IA114")]
    inside = ARGUMENT_TESTS.format(inner="if param.dim() > 1:\n                    ")
    assert lint_selected(inside, "IA114") == []
