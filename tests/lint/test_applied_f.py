"""Inits applied to a whole model assembled across files: layers returned by functions of other
files, the ``except`` clause of a ``try`` around an init that rejects vectors."""

from __future__ import annotations

from pathlib import Path

from tests.lint.test_project import findings, write

# ---------------------------------------------------------------- factories of another file

FACTORIES = """\
import torch.nn as nn


def conv(in_planes, out_planes):
    return nn.Sequential(nn.Conv2d(in_planes, out_planes, 3, padding=1), nn.LeakyReLU(0.1))


def predict(in_planes):
    return nn.Conv2d(in_planes, 2, kernel_size=3, padding=1, bias=False)


def hidden(in_planes):
    layer = nn.Conv2d(in_planes, in_planes, 3, padding=1)
    return layer
"""

NET = """\
import torch.nn as nn
from torch.nn.init import kaiming_normal_
from .layers import conv, predict, hidden


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = conv(6, 64)
        self.mid = hidden(64)
        self.out = {out}
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                kaiming_normal_(m.weight, 0.1)

    def forward(self, x):
        return self.out(nn.functional.leaky_relu(self.mid(self.conv1(x)), 0.1))
"""


def _factories(tmp_path: Path, out: str) -> list[tuple[str, int, str, str]]:
    root = write(tmp_path, {"pyproject.toml": "", "pkg/__init__.py": "", "pkg/layers.py": FACTORIES,
                            "pkg/net.py": NET.format(out=out)})
    return findings([root])


def test_a_layer_returned_by_a_function_of_another_file_is_judged(tmp_path: Path) -> None:
    # ``predict`` initialises nothing: what it returns is still a layer of the model.
    found = _factories(tmp_path, "predict(64)")
    assert [(name, line, code) for name, line, code, _ in found] == [("net.py", 14, "IA103")]
    message = found[0][3]
    assert "out (Conv2d)" in message and "no activation" in message


def test_a_returned_layer_feeding_its_activation_stays_quiet(tmp_path: Path) -> None:
    # The same model whose last layer feeds a LeakyReLU(0.1): a=0.1 suits every layer.
    root = write(tmp_path, {"pyproject.toml": "", "pkg/__init__.py": "", "pkg/layers.py": FACTORIES,
                            "pkg/net.py": NET.format(out="hidden(64)").replace(
                                "return self.out(", "return nn.functional.leaky_relu(self.out(").replace(
                                ", 0.1))\n", ", 0.1)), 0.1)\n")})
    assert findings([root]) == []


# ---------------------------------------------------------------- except clauses

TRY_LOOP = """\
import torch.nn as nn
import torch.nn.init as init


class Model(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3)
        self.bn = nn.BatchNorm2d(8)

    def forward(self, x):
        return self.bn(self.conv(x)).relu()


model = Model()
for name, param in model.named_parameters():
    try:
        if 'bias' in name:
            init.constant_(param, 0.0)
        elif 'weight' in name:
            init.{function}(param)
    except Exception:
        if 'weight' in name:
            param.data.fill_(1)
        continue
"""


def test_an_except_clause_after_a_fan_init_writes_only_vectors(tmp_path: Path) -> None:
    # kaiming_normal_ raises on the 1-D norm scale only: the clause fills that scale, no weight.
    path = write(tmp_path, {"train.py": TRY_LOOP.format(function="kaiming_normal_")}) / "train.py"
    assert [code for _, _, code, _ in findings([path])] == []


def test_an_except_clause_after_an_init_that_accepts_every_tensor_is_judged(tmp_path: Path) -> None:
    # normal_ raises on nothing of the kind: whatever fails, the clause may fill the conv weight.
    path = write(tmp_path, {"train.py": TRY_LOOP.format(function="normal_")}) / "train.py"
    found = [(line, code) for _, line, code, _ in findings([path])]
    assert (24, "IA102") in found


# ---------------------------------------------------------------- a container of held layers

BACKBONE_INIT = """\
import math
import torch.nn as nn


def xavier(m):
    if m.__class__.__name__ == "Linear":
        fan_in = m.weight.data.size(1)
        fan_out = m.weight.data.size(0)
        a = math.sqrt(3.0) * math.sqrt(2.0 / (fan_in + fan_out))
        m.weight.data.uniform_(-a, a)
"""

MLP = """\
import torch.nn as nn
from backbone import xavier


class MLP(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(4, 8)
        self.fc2 = nn.Linear(8, 8)
        self._features = nn.Sequential(self.fc1, nn.{act}(), self.fc2, nn.{act}())
        self.classifier = nn.Linear(8, 2)
        self.net = nn.Sequential(self._features, self.classifier)
        self.net.apply(xavier)

    def forward(self, x):
        return self.classifier(self._features(x))
"""


def _backbone(tmp_path: Path, act: str) -> list[tuple[str, int, str, str]]:
    root = write(tmp_path, {"pyproject.toml": "", "backbone/__init__.py": BACKBONE_INIT,
                            "backbone/mlp.py": MLP.format(act=act)})
    return findings([root])


def test_a_container_of_layers_the_module_holds_holds_those_layers(tmp_path: Path) -> None:
    # ``nn.Sequential(self.fc1, nn.ReLU(), ...)`` holds fc1 itself: the ReLU after it is its consumer,
    # through a Sequential of that Sequential, with the helper imported from a package.
    found = _backbone(tmp_path, "ReLU")
    assert [(name, line, code) for name, line, code, _ in found] == [("mlp.py", 13, "IA103")]
    assert "net.0.0, net.0.2" in found[0][3]


def test_a_container_of_held_layers_feeding_tanh_stays_quiet(tmp_path: Path) -> None:
    assert _backbone(tmp_path, "Tanh") == []


# ---------------------------------------------------------------- a helper's loop calling a helper

NESTED = """\
import math
import torch.nn as nn
import torch.nn.functional as F


def glorot_uniform(t):
    fan_in, fan_out = t.size()
    limit = math.sqrt(6.0 / (fan_in + fan_out))
    t.uniform_(-limit, limit)


def weights_init(m):
    for p in m.modules():
        if isinstance(p, nn.Linear):
            glorot_uniform(p.weight.data)


class MLP(nn.Module):
    def __init__(self):
        super().__init__()
        self.h1 = nn.Linear(4, 8)
        self.h2 = nn.Linear(8, 1)
        weights_init(self)

    def forward(self, x):
        return self.h2(F.{act}(self.h1(x)))
"""


def test_a_helper_called_in_a_helpers_loop_writes_what_the_loop_visits(tmp_path: Path) -> None:
    path = write(tmp_path, {"mlp.py": NESTED.format(act="relu")}) / "mlp.py"
    found = findings([path])
    assert [(line, code) for _, line, code, _ in found] == [(9, "IA103")]
    assert "h1 (Linear) feeds relu" in found[0][3]


def test_a_helper_called_in_a_helpers_loop_before_tanh_stays_quiet(tmp_path: Path) -> None:
    path = write(tmp_path, {"mlp.py": NESTED.format(act="tanh")}) / "mlp.py"
    assert findings([path]) == []


# ---------------------------------------------------------------- a model built in a method

BUILT_IN_A_METHOD = """\
import torch.nn as nn
import torch.nn.functional as F


class FeedForward(nn.Module):
    def __init__(self, d, h):
        super().__init__()
        self.w_1 = nn.Linear(d, h)
        self.w_2 = nn.Linear(h, d)

    def forward(self, x):
        return self.w_2(F.{act}(self.w_1(x)))


class Captioner(nn.Module):
    def make_model(self, d, h):
        model = nn.Sequential(FeedForward(d, h), nn.LayerNorm(d))
        for p in model.parameters():
            if p.dim() > 1:
                nn.init.xavier_uniform_(p)
        return model

    def __init__(self):
        super().__init__()
        self.model = self.make_model(4, 8)

    def forward(self, x):
        return self.model(x)
"""


def test_a_model_a_method_builds_in_a_local_is_what_its_loop_visits(tmp_path: Path) -> None:
    path = write(tmp_path, {"captioner.py": BUILT_IN_A_METHOD.format(act="relu")}) / "captioner.py"
    found = findings([path])
    assert [(line, code) for _, line, code, _ in found] == [(20, "IA103")]
    assert "model.0.w_1 (Linear) feeds relu" in found[0][3]


def test_a_model_a_method_builds_feeding_tanh_stays_quiet(tmp_path: Path) -> None:
    path = write(tmp_path, {"captioner.py": BUILT_IN_A_METHOD.format(act="tanh")}) / "captioner.py"
    assert findings([path]) == []


COPIED_INTO_A_HOLDER = """\
import copy
import torch.nn as nn
import torch.nn.functional as F


class FeedForward(nn.Module):
    def __init__(self, d, h):
        super().__init__()
        self.w_1 = nn.Linear(d, h)
        self.w_2 = nn.Linear(h, d)

    def forward(self, x):
        return self.w_2(F.{act}(self.w_1(x)))


class Layer(nn.Module):
    def __init__(self, feed_forward):
        super().__init__()
        self.feed_forward = feed_forward

    def forward(self, x):
        return self.feed_forward(x)


class Builder(Configurable):
    def make_model(self, d, h):
        c = copy.deepcopy
        ff = FeedForward(d, h)
        model = Layer(c(ff))
        for p in model.parameters():
            if p.dim() > 1:
                nn.init.xavier_uniform_(p)
        return model

    def __init__(self):
        self.model = self.make_model(4, 8)
"""


def test_a_copy_handed_to_a_holder_in_a_method_of_any_class_is_reached(tmp_path: Path) -> None:
    # The local ``model`` is not the attribute ``self.model`` the class binds afterwards, and a
    # copy (``c = copy.deepcopy; c(ff)``) holds the class it copies.
    path = write(tmp_path, {"builder.py": COPIED_INTO_A_HOLDER.format(act="relu")}) / "builder.py"
    found = findings([path])
    assert [(line, code) for _, line, code, _ in found] == [(32, "IA103")]
    assert "model.feed_forward.w_1 (Linear) feeds relu" in found[0][3]


def test_a_copy_handed_to_a_holder_feeding_tanh_stays_quiet(tmp_path: Path) -> None:
    path = write(tmp_path, {"builder.py": COPIED_INTO_A_HOLDER.format(act="tanh")}) / "builder.py"
    assert findings([path]) == []
