"""Small models for trying ``initaudit model`` (run from the repository root):

    initaudit model --factory examples.audit_models:good_mlp      # clean, exit 0
    initaudit model --factory examples.audit_models:bad_mlp       # findings, exit 1
    initaudit model --factory examples.audit_models:bad_mlp --fix --output fixed.safetensors
"""

from __future__ import annotations

import torch
from torch import nn

WIDTH = 256
DEPTH = 10


def _mlp(init) -> nn.Sequential:  # type: ignore[no-untyped-def]
    torch.manual_seed(0)
    layers: list[nn.Module] = []
    for index in range(DEPTH):
        linear = nn.Linear(784 if index == 0 else WIDTH, WIDTH)
        init(linear.weight)
        nn.init.zeros_(linear.bias)
        layers += [linear, nn.ReLU()]
    layers.append(nn.Linear(WIDTH, 10))
    return nn.Sequential(*layers)


def good_mlp() -> nn.Sequential:
    """He/Kaiming init before every ReLU: the signal keeps its scale through depth."""
    return _mlp(lambda w: nn.init.kaiming_normal_(w, nonlinearity="relu"))


def bad_mlp() -> nn.Sequential:
    """Xavier before ReLU halves the signal's power per layer, and one layer is all zeros."""
    model = _mlp(nn.init.xavier_normal_)
    nn.init.zeros_(model[6].weight)
    return model


class ResidualBlock(nn.Module):
    def __init__(self, width: int) -> None:
        super().__init__()
        self.norm = nn.LayerNorm(width)
        self.fc1 = nn.Linear(width, 4 * width)
        self.fc2 = nn.Linear(4 * width, width)
        nn.init.normal_(self.fc1.weight, std=0.02)
        nn.init.zeros_(self.fc2.weight)  # zero-init residual: the block starts as identity

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.fc2(nn.functional.gelu(self.fc1(self.norm(x))))


def residual_mlp() -> nn.Sequential:
    """Pre-norm residual blocks with Transformer conventions: reported as info only."""
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(64, 128), *[ResidualBlock(128) for _ in range(4)], nn.Linear(128, 10))
