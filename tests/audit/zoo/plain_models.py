"""Plain-torch models written the way training scripts write them, each hard for a guessed input:
a root module that owns the class token, a resolution fixed by a position table or a flattened
head, a lazy layer sized by the first batch."""

from __future__ import annotations

import torch
from torch import nn


def _he(model: nn.Module) -> nn.Module:
    for module in model.modules():
        if isinstance(module, (nn.Conv2d, nn.Linear)) and not nn.parameter.is_lazy(module.weight):
            nn.init.kaiming_normal_(module.weight, nonlinearity="relu")
            nn.init.zeros_(module.bias)
    return model


class TokenRootViT(nn.Module):
    """A ViT whose root owns the class token and the position table, sized for 64-pixel images."""

    def __init__(self, image: int = 64, patch: int = 16, width: int = 32, depth: int = 2) -> None:
        super().__init__()
        self.cls_token = nn.Parameter(torch.empty(1, 1, width))
        self.pos_embed = nn.Parameter(torch.empty(1, (image // patch) ** 2 + 1, width))
        self.patch_embed = nn.Conv2d(3, width, patch, patch)
        self.blocks = nn.ModuleList(
            nn.Sequential(nn.LayerNorm(width), nn.Linear(width, 2 * width), nn.ReLU(), nn.Linear(2 * width, width))
            for _ in range(depth))
        self.norm = nn.LayerNorm(width)
        self.head = nn.Linear(width, 10)
        _he(self)
        nn.init.trunc_normal_(self.cls_token, std=0.02)
        nn.init.trunc_normal_(self.pos_embed, std=0.02)
        for block in self.blocks:
            nn.init.xavier_uniform_(block[3].weight)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        tokens = self.patch_embed(images).flatten(2).transpose(1, 2)
        tokens = torch.cat([self.cls_token.expand(len(tokens), -1, -1), tokens], dim=1) + self.pos_embed
        for block in self.blocks:
            tokens = tokens + block(tokens)
        return self.head(self.norm(tokens)[:, 0])


def flat_head_cnn() -> nn.Module:
    """An AlexNet-style network without adaptive pooling: its head takes 224-pixel images only."""
    return _he(nn.Sequential(nn.Conv2d(3, 8, 8, stride=8), nn.ReLU(), nn.Conv2d(8, 8, 3, padding=1), nn.ReLU(),
                             nn.MaxPool2d(4), nn.Flatten(), nn.Linear(8 * 7 * 7, 10)))


def lazy_head_cnn() -> nn.Module:
    """Convolutions, then a LazyLinear head that the first batch sizes."""
    return _he(nn.Sequential(nn.Conv2d(3, 16, 3, padding=1), nn.ReLU(), nn.Conv2d(16, 16, 3, padding=1, stride=2),
                             nn.ReLU(), nn.Flatten(), nn.LazyLinear(10)))
