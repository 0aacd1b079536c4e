"""Output layers read from the data flow, signal ratios that pooling does not bias, a target where
no forward runs, and conventions judged by what they do (the std, the ratio's direction, the
probe), never by a layer's place in the run order or a scheme's fitted name."""

from __future__ import annotations

import math

import torch
from torch import nn

import initaudit
from initaudit.auditor.results import AuditReport, SignalRow
from initaudit.auditor.trace.probe import signal_ratios
from initaudit.diagnostics import Severity


def verdicts(report: AuditReport, code: str) -> dict[str | None, Severity]:
    return {f.parameter: f.severity for f in report.findings if f.code == code}


def last_layers(report: AuditReport) -> set[str]:
    return {p.name for p in report.parameters if p.last_layer}


def he(model: nn.Module) -> nn.Module:
    for module in model.modules():
        if isinstance(module, (nn.Linear, nn.Conv2d)):
            nn.init.kaiming_normal_(module.weight, nonlinearity="relu")
            nn.init.zeros_(module.bias)
    return model


# --------------------------------------------------------------------------- output layers

class ZeroHeads(nn.Module):
    """ControlNet's zero convolutions: one per returned residual."""

    def __init__(self, zero_middle: bool = False) -> None:
        super().__init__()
        self.body, self.middle = nn.Conv2d(3, 8, 3, padding=1), nn.Conv2d(8, 8, 1)
        self.out_a, self.out_b = nn.Conv2d(8, 8, 1), nn.Conv2d(8, 8, 1)
        for layer in (self.out_a, self.out_b) + ((self.middle,) if zero_middle else ()):
            nn.init.zeros_(layer.weight)
            nn.init.zeros_(layer.bias)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        h = self.middle(torch.relu(self.body(x)))
        return self.out_a(h), self.out_b(h)


def test_every_returned_zero_head_is_an_output_layer() -> None:
    report = initaudit.audit(ZeroHeads(), (2, 3, 16, 16))
    assert last_layers(report) == {"out_a.weight", "out_a.bias", "out_b.weight", "out_b.bias"}
    assert verdicts(report, "IA201") == {"out_a.weight": Severity.INFO, "out_b.weight": Severity.INFO}


def test_a_zero_layer_feeding_the_heads_is_no_output_layer() -> None:
    report = initaudit.audit(ZeroHeads(zero_middle=True), (2, 3, 16, 16))
    assert "middle.weight" not in last_layers(report)
    assert verdicts(report, "IA201")["middle.weight"] is Severity.WARNING


class Agent(nn.Module):
    """CleanRL's PPO agent: policy logits (std 0.01) and value (std 1), both returned."""

    def __init__(self, policy_std: float = 0.01) -> None:
        super().__init__()
        self.body = nn.Sequential(nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, 64), nn.ReLU())
        self.policy, self.value = nn.Linear(64, 4), nn.Linear(64, 1)
        for layer, gain in ((self.body[0], math.sqrt(2)), (self.body[2], math.sqrt(2)),
                            (self.policy, policy_std), (self.value, 1.0)):
            nn.init.orthogonal_(layer.weight, gain)
            nn.init.zeros_(layer.bias)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        h = self.body(x)
        return self.policy(h), self.value(h)


def test_both_heads_of_an_actor_critic_are_output_layers() -> None:
    report = initaudit.audit(Agent(), (64, 64))
    assert {"policy.weight", "value.weight"} <= last_layers(report)
    assert not {"body.0.weight", "body.2.weight"} & last_layers(report)
    assert verdicts(report, "IA206") == {"policy.weight": Severity.INFO}
    assert not verdicts(report, "IA207") and not verdicts(report, "IA208")
    assert signal_ratios(report.signal, {"body.0", "body.2"})[1] is not None


def test_a_scaled_up_output_head_warns() -> None:
    report = initaudit.audit(Agent(policy_std=10.0), (64, 64))
    assert verdicts(report, "IA206")["policy.weight"] is Severity.WARNING


def squeezenet_head(final_std: float, *, final_in_middle: bool = False) -> nn.Module:
    """SqueezeNet's classifier: the final 1x1 conv N(0, 0.01) -> ReLU -> global pool."""
    layers = [nn.Conv2d(3, 32, 3, padding=1), nn.ReLU(), nn.Conv2d(32, 32, 3, padding=1), nn.ReLU(),
              nn.Conv2d(32, 32, 1), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten()]
    if final_in_middle:  # the same small conv, now followed by another layer: hidden
        layers += [nn.Linear(32, 10)]
    model = he(nn.Sequential(*layers))
    nn.init.normal_(model[4].weight, 0, final_std)
    return model


def test_an_output_head_followed_by_a_relu_is_still_an_output_layer() -> None:
    report = initaudit.audit(squeezenet_head(0.01), (8, 3, 16, 16))
    assert "4.weight" in last_layers(report)
    assert verdicts(report, "IA206") == {"4.weight": Severity.INFO}
    assert not verdicts(report, "IA207")


def test_the_same_small_conv_as_a_hidden_layer_warns() -> None:
    report = initaudit.audit(squeezenet_head(0.01, final_in_middle=True), (8, 3, 16, 16))
    assert "4.weight" not in last_layers(report)
    assert verdicts(report, "IA206")["4.weight"] is Severity.WARNING


def test_an_output_written_into_a_preallocated_tensor_is_an_output_layer() -> None:
    class Writes(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.body, self.head = nn.Linear(8, 8), nn.Linear(8, 4)
            nn.init.zeros_(self.head.weight)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            out = x.new_zeros(x.shape[0], 6)
            out[:, :4] = self.head(torch.relu(self.body(x)))
            return out

    report = initaudit.audit(Writes(), (4, 8))
    assert last_layers(report) >= {"head.weight"} and "body.weight" not in last_layers(report)
    assert verdicts(report, "IA201") == {"head.weight": Severity.INFO}


# --------------------------------------------------------------------------- signal ratios

def avg_pool_cnn() -> nn.Module:
    return he(nn.Sequential(
        nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(), nn.AvgPool2d(2),
        nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.AvgPool2d(2),
        nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(), nn.AvgPool2d(2),
        nn.Flatten(), nn.Linear(64 * 4 * 4, 64), nn.ReLU(), nn.Linear(64, 10)))


def test_pooling_does_not_make_a_he_initialised_cnn_collapse() -> None:
    report = initaudit.audit(avg_pool_cnn(), (8, 1, 32, 32))
    assert not verdicts(report, "IA207") and not verdicts(report, "IA208")
    assert report.exit_code == 0


class MnistNet(nn.Module):
    """pytorch/examples mnist/main.py, torch's default init."""

    def __init__(self) -> None:
        super().__init__()
        self.conv1, self.conv2 = nn.Conv2d(1, 32, 3, 1), nn.Conv2d(32, 64, 3, 1)
        self.dropout1, self.dropout2 = nn.Dropout(0.25), nn.Dropout(0.5)
        self.fc1, self.fc2 = nn.Linear(9216, 128), nn.Linear(128, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = nn.functional.relu(self.conv2(nn.functional.relu(self.conv1(x))))
        x = torch.flatten(self.dropout1(nn.functional.max_pool2d(x, 2)), 1)
        x = self.fc2(self.dropout2(nn.functional.relu(self.fc1(x))))
        return nn.functional.log_softmax(x, dim=1)


def test_the_mnist_example_with_torch_default_init_stays_quiet() -> None:
    report = initaudit.audit(MnistNet(), (4, 1, 28, 28))
    assert not [f for f in report.findings if f.severity is not Severity.INFO]
    assert not verdicts(report, "IA207")


def test_a_deep_xavier_relu_stack_still_collapses() -> None:
    layers: list[nn.Module] = []
    for _ in range(24):
        layers += [nn.Linear(64, 64), nn.ReLU()]
    model = nn.Sequential(*layers, nn.Linear(64, 4))
    for module in model:
        if isinstance(module, nn.Linear):
            nn.init.xavier_normal_(module.weight, gain=0.5)
    report = initaudit.audit(model, (64, 64))
    assert Severity.WARNING in verdicts(report, "IA207").values()


def test_backward_ratio_compares_gradient_norms_up_to_the_last_inner_layer() -> None:
    rows = [SignalRow("wide", 1.0, 1.0, grad_norm=1.0, grad_rms=0.01),
            SignalRow("narrow", 1.0, 1.0, grad_norm=1.0, grad_rms=0.1),
            SignalRow("head", 1.0, 1.0, grad_norm=5.0, grad_rms=1.0)]
    assert signal_ratios(rows, {"wide", "narrow"}) == (1.0, 1.0)
    assert signal_ratios(rows[:1] + [SignalRow("narrow", 1.0, 1.0, 100.0, 1.0)] + rows[2:],
                         {"wide", "narrow"})[1] == 0.01
    two_heads = [*rows, SignalRow("value", 1.0, 1.0, grad_norm=None)]
    assert signal_ratios(two_heads, {"wide", "narrow"}, {"head", "value"}) == (1.0, 1.0)


# --------------------------------------------------------------------------- no forward

class NeedsConfig(nn.Module):
    def __init__(self, std: float | None = None) -> None:
        super().__init__()
        self.body = nn.Sequential(nn.Conv2d(3, 64, 3), nn.ReLU(), nn.Conv2d(64, 64, 3))
        if std is not None:
            nn.init.normal_(self.body[2].weight, 0, std)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        raise RuntimeError("call model.configure() first")


def test_without_a_forward_a_std_far_above_every_scheme_warns() -> None:
    report = initaudit.audit(NeedsConfig(1.0), (2, 3, 16, 16))
    assert verdicts(report, "IA206") == {"body.2.weight": Severity.WARNING}


def test_without_a_forward_fan_based_inits_pass_and_a_small_std_is_info() -> None:
    assert not verdicts(initaudit.audit(NeedsConfig(), (2, 3, 16, 16)), "IA206")
    he_init = NeedsConfig(math.sqrt(2 / 576))
    assert not verdicts(initaudit.audit(he_init, (2, 3, 16, 16)), "IA206")
    assert verdicts(initaudit.audit(NeedsConfig(0.001), (2, 3, 16, 16)), "IA206") == {
        "body.2.weight": Severity.INFO}


# --------------------------------------------------------------------------- conventions

def conv_mlp(module_name: str) -> nn.Module:
    """A 1x1-conv MLP with Xavier before GELU (the ViT-jax recipe), under a given package."""
    class ConvMlp(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.norm, self.fc1, self.act, self.fc2 = nn.GroupNorm(1, 64), nn.Conv2d(64, 256, 1), nn.GELU(), \
                nn.Conv2d(256, 64, 1)
            for fc in (self.fc1, self.fc2):
                nn.init.xavier_uniform_(fc.weight)
                nn.init.zeros_(fc.bias)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return x + self.fc2(self.act(self.fc1(self.norm(x))))

    ConvMlp.__module__, ConvMlp.__qualname__ = module_name, "ConvMlp"
    return nn.Sequential(ConvMlp(), ConvMlp())


def test_timms_jax_recipe_is_explained_in_its_conv_mlp_too() -> None:
    library = initaudit.audit(conv_mlp("timm.layers.mlp"), (8, 64, 4, 4))
    assert verdicts(library, "IA206") == {"0.fc1.weight": Severity.INFO, "1.fc1.weight": Severity.INFO}
    user = initaudit.audit(conv_mlp("my_project.blocks"), (8, 64, 4, 4))
    assert verdicts(user, "IA206") == {"0.fc1.weight": Severity.WARNING, "1.fc1.weight": Severity.WARNING}


def test_equal_schemes_get_one_verdict_whatever_name_the_fit_chose() -> None:
    """sqrt(2 / fan_out) with fan_out 1024 equals the SELU gain 0.75 / sqrt(288) (a tie the fit
    may name either way): He with fan_out for ReLU, accepted before a hardswish in both cases."""
    def head(fan_out: int, std: float | None = None) -> nn.Module:
        model = nn.Sequential(nn.Conv2d(3, 288, 3), nn.ReLU(), nn.AdaptiveAvgPool2d(1),
                              nn.Conv2d(288, fan_out, 1), nn.Hardswish(), nn.Flatten(), nn.Linear(fan_out, 10))
        for module in model.modules():
            if isinstance(module, nn.Conv2d):
                nn.init.normal_(module.weight, 0, std or math.sqrt(2.0 / (module.kernel_size[0] ** 2 * module.out_channels)))
        return model

    for fan_out in (1024, 1000):  # the first ties with the SELU gain, the second does not
        assert "3.weight" not in verdicts(initaudit.audit(head(fan_out), (8, 3, 8, 8)), "IA206")
    off_every_scheme = initaudit.audit(head(1024, std=0.02), (8, 3, 8, 8))
    assert verdicts(off_every_scheme, "IA206")["3.weight"] is Severity.WARNING


class TalkingHeads(nn.Module):
    """CaiT's talking heads: a 2x2 mix of attention logits drawn N(0, 0.02) in a normed block."""

    def __init__(self, std: float) -> None:
        super().__init__()
        self.norm, self.qkv, self.proj_l, self.proj = nn.LayerNorm(32), nn.Linear(32, 96), nn.Linear(2, 2), \
            nn.Linear(32, 32)
        for layer in (self.qkv, self.proj):
            nn.init.trunc_normal_(layer.weight, std=0.02)
        nn.init.trunc_normal_(self.proj_l.weight, std=std, a=-2 * std, b=2 * std)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, n, _ = x.shape
        q, k, v = self.qkv(self.norm(x)).reshape(b, n, 3, 2, 16).permute(2, 0, 3, 1, 4)
        attn = self.proj_l((q @ k.transpose(-2, -1)).permute(0, 2, 3, 1)).permute(0, 3, 1, 2).softmax(-1)
        return x + self.proj((attn @ v).transpose(1, 2).reshape(b, n, 32))


def test_a_tiny_tensor_is_judged_by_its_std_not_its_fitted_name() -> None:
    small = initaudit.audit(nn.Sequential(TalkingHeads(0.02), TalkingHeads(0.02)), (4, 8, 32))
    assert verdicts(small, "IA206").get("0.proj_l.weight") is Severity.INFO
    large = initaudit.audit(nn.Sequential(TalkingHeads(5.0), TalkingHeads(5.0)), (4, 8, 32))
    assert verdicts(large, "IA206").get("0.proj_l.weight") is Severity.WARNING


# --------------------------------------------------------------------------- merges, fans, gains

class ConditionedStream(nn.Module):
    """ControlNet's conditioning embedding: a zero convolution over a second input (the hint)
    whose output is added to the stream of the first (``sample + cond``)."""

    def __init__(self, merged: bool = True) -> None:
        super().__init__()
        self.merged = merged
        self.conv_in, self.cond_in = nn.Conv2d(3, 8, 3, padding=1), nn.Conv2d(3, 8, 3, padding=1)
        self.cond_out, self.body = nn.Conv2d(8, 8, 1), nn.Conv2d(8, 8, 3, padding=1)
        he(self)
        nn.init.zeros_(self.cond_out.weight)

    def forward(self, x: torch.Tensor, hint: torch.Tensor) -> torch.Tensor:
        cond = self.cond_out(torch.relu(self.cond_in(hint)))
        stream = self.conv_in(x) + cond if self.merged else cond
        return self.body(torch.relu(stream))


STREAM_AND_HINT = (torch.randn(2, 3, 8, 8), torch.randn(2, 3, 8, 8))


def test_a_zero_branch_added_to_the_stream_is_deliberate() -> None:
    report = initaudit.audit(ConditionedStream(), example_inputs=STREAM_AND_HINT)
    assert verdicts(report, "IA201") == {"cond_out.weight": Severity.INFO}


def test_a_zero_layer_on_the_only_path_is_a_fault() -> None:
    report = initaudit.audit(ConditionedStream(merged=False), example_inputs=STREAM_AND_HINT)
    assert verdicts(report, "IA201") == {"cond_out.weight": Severity.WARNING}


def test_a_zero_layer_on_the_streams_own_path_is_a_fault() -> None:
    """The stream's own transformation zeroed, a hint added to it: the stream is lost."""
    model = ConditionedStream()
    nn.init.kaiming_normal_(model.cond_out.weight)
    nn.init.zeros_(model.conv_in.weight)
    report = initaudit.audit(model, example_inputs=STREAM_AND_HINT)
    assert verdicts(report, "IA201") == {"conv_in.weight": Severity.WARNING}


def classifier(head_std: float | None = None, classes: int = 10) -> nn.Module:
    """A ReLU network whose head is drawn as U(+-1/sqrt(fan_out)) (TF-style) or at ``head_std``."""
    model = he(nn.Sequential(nn.Linear(64, 1024), nn.ReLU(), nn.Linear(1024, 1024), nn.ReLU(),
                             nn.Linear(1024, classes)))
    bound = 1 / math.sqrt(classes)
    with torch.no_grad():
        model[4].weight.uniform_(-bound, bound) if head_std is None else model[4].weight.normal_(0, head_std)
    return model


def test_a_head_drawn_from_its_fan_out_is_the_recipe() -> None:
    torch.manual_seed(0)
    assert verdicts(initaudit.audit(classifier(), (32, 64)), "IA206") == {"4.weight": Severity.INFO}


def test_a_head_scaled_up_tenfold_is_a_fault() -> None:
    torch.manual_seed(0)
    # 8x a fan-in init, which no fan-based scheme gives (10x would be N(0, 1/fan_out) here).
    report = initaudit.audit(classifier(head_std=8 / math.sqrt(1024)), (32, 64))
    assert verdicts(report, "IA206") == {"4.weight": Severity.WARNING}


def test_he_fan_out_on_a_small_squeeze_convolution_fits_relu() -> None:
    """128 values measure a std to about 6 %: He with fan_out before ReLU (timm's MobileNet
    squeeze) is that scheme within what the tensor can tell, not 1.35x He fan_in."""
    torch.manual_seed(0)
    model = he(nn.Sequential(nn.Conv2d(3, 16, 3, padding=1), nn.ReLU(), nn.Conv2d(16, 8, 1), nn.ReLU(),
                             nn.Conv2d(8, 16, 1), nn.ReLU(), nn.Conv2d(16, 4, 1)))
    nn.init.kaiming_normal_(model[2].weight, mode="fan_out", nonlinearity="relu")
    assert "2.weight" not in verdicts(initaudit.audit(model, (2, 3, 8, 8)), "IA206")
    nn.init.xavier_normal_(model[4].weight, gain=0.5)
    assert verdicts(initaudit.audit(model, (2, 3, 8, 8)), "IA206").get("4.weight") is Severity.WARNING


def test_a_widening_orthogonal_layer_is_judged_by_its_gain() -> None:
    """Orthogonal 8 -> 64 keeps the signal's norm (CleanRL's actor-critic): its per-unit std is
    sqrt(8/64) of the fan-in target by design; a gain too small for tanh is still a fault."""
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(8, 64), nn.Tanh(), nn.Linear(64, 64), nn.Tanh(), nn.Linear(64, 4))
    for layer, gain in ((model[0], math.sqrt(2)), (model[2], math.sqrt(2)), (model[4], 0.01)):
        nn.init.orthogonal_(layer.weight, gain)
    assert verdicts(initaudit.audit(model, (32, 8)), "IA206") == {"4.weight": Severity.INFO}  # a small head
    nn.init.orthogonal_(model[0].weight, 0.3)
    assert verdicts(initaudit.audit(model, (32, 8)), "IA206").get("0.weight") is Severity.WARNING
