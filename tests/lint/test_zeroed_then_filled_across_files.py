"""A helper of another file that zeroes a weight and then fills every slice of it (an upsampling
conv's sub-pixel init) leaves no zero start: judged as in the file that writes it."""

from __future__ import annotations

from pathlib import Path

from initaudit.config import Config
from initaudit.lint.run.runner import run_lint

HELPER = """\
import torch.nn.init as init


def upsample_init(weight, scale=2):
    out_channels = weight.shape[0]
    sub = out_channels // (scale ** 2)
    weight.data.zero_()
    for i in range(scale ** 2):
        {fill}
"""

MODEL = """\
import torch.nn as nn
from inits import upsample_init


class Generator(nn.Module):
    def __init__(self):
        super().__init__()
        self.decoder = nn.Sequential(nn.Upsample(scale_factor=2), nn.Conv2d(8, 16, 3, padding=1), nn.ReLU())
        upsample_init(self.decoder[1].weight)

    def forward(self, x):
        return self.decoder(x)
"""


def findings(root: Path, fill: str) -> list[tuple[str, int, str]]:
    (root / "inits.py").write_text(HELPER.format(fill=fill), encoding="utf-8")
    (root / "model.py").write_text(MODEL, encoding="utf-8")
    return [(Path(d.path).name, d.line, d.code) for r in run_lint([root], Config(), jobs=1) for d in r.diagnostics]


def test_a_zeroed_weight_whose_slices_are_drawn_after_is_no_zero_start(tmp_path: Path) -> None:
    fill = "init.kaiming_normal_(weight.data[i * sub:(i + 1) * sub], nonlinearity='relu')"
    assert findings(tmp_path, fill) == []


def test_a_zeroed_weight_left_zero_is_reported_at_the_call(tmp_path: Path) -> None:
    assert ("model.py", 9, "IA101") in findings(tmp_path, "pass")
