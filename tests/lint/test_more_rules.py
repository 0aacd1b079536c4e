"""IA105-IA111: true positives and the real-world shapes that must stay quiet."""

from __future__ import annotations

import pytest

from initaudit.diagnostics import Diagnostic
from tests.lint.selection import lint_selected

HEADER = "import math\nimport torch\nimport torch.nn as nn\nimport torch.nn.functional as F\n"
#: The rules of this file, selected alone, so that another rule's finding cannot change a case.
RULES = ("IA105", "IA106", "IA107", "IA108", "IA109", "IA110", "IA111")


def lint(code: str) -> list[Diagnostic]:
    return lint_selected(code, *RULES)


def codes(body: str) -> list[str]:
    return [d.code for d in lint(HEADER + body)]


def in_init(*lines: str, extra: str = "") -> str:
    statements = "\n        ".join(lines)
    return f"""
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(16, 16)
        self.out = nn.Linear(16, 2)
        self.emb = nn.Embedding(100, 16)
        self.norm = nn.LayerNorm(16)
        self.conv = nn.Conv2d(3, 8, 3)
        {statements}
{extra or MATRIX_FORWARD}"""


MATRIX_FORWARD = """
    def project(self, x):
        return x @ self.W
"""


@pytest.mark.parametrize("line,code", [
    ("nn.init.normal_(self.fc.weight)", "IA105"),
    ("nn.init.normal_(self.fc.weight, 0.0, 1.0)", "IA105"),
    ("nn.init.uniform_(self.fc.weight)", "IA105"),
    ("nn.init.uniform_(self.fc.weight, -1, 1)", "IA105"),
    ("self.fc.weight.data.normal_()", "IA105"),
    ("self.W = nn.Parameter(torch.randn(16, 16))", "IA105"),
    ("nn.init.trunc_normal_(self.fc.weight, std=0.02, a=-2, b=2)", "IA106"),
    ("self.fc.weight.normal_(0, 0.02)", "IA107"),
    ("self.fc.bias.fill_(0.1)", "IA107"),
    ("nn.init.kaiming_normal_(self.fc.weight, nonlinearity='selu')", "IA109"),
    ("nn.init.kaiming_uniform_(self.fc.bias)", "IA110"),
    ("nn.init.orthogonal_(self.norm.weight)", "IA110"),
    ("nn.init.eye_(self.conv.weight)", "IA110"),
    ("nn.init.dirac_(self.fc.weight)", "IA110"),
    ("nn.init.sparse_(self.conv.weight, 0.1)", "IA110"),
    ("nn.init.orthogonal_(self.fc.weight)\n        nn.init.xavier_normal_(self.fc.weight)", "IA111"),
])
def test_reported(line: str, code: str) -> None:
    assert code in codes(in_init(line))


@pytest.mark.parametrize("line", [
    # scaled or conventional random inits
    "nn.init.normal_(self.fc.weight, std=0.02)",
    "nn.init.normal_(self.emb.weight)",
    "nn.init.uniform_(self.fc.weight, -0.1, 0.1)",
    "self.W = nn.Parameter(torch.randn(16, 16) / math.sqrt(16))",
    "self.pos_embed = nn.Parameter(torch.randn(1, 8, 16))",
    "self.cls_token = nn.Parameter(torch.randn(1, 1, 16))",
    "self.W = nn.Parameter(torch.randn(16, 16))\n        nn.init.kaiming_uniform_(self.W, a=math.sqrt(5))",
    "self.W = nn.Parameter(torch.randn(16, 16))\n        self.W.data = scaled_init(self.W.shape)",
    # trunc_normal_ with bounds scaled by std, or a std where ±2 does truncate
    "nn.init.trunc_normal_(self.fc.weight, std=0.02, a=-0.04, b=0.04)",
    "nn.init.trunc_normal_(self.fc.weight, std=1.0)",
    # in-place writes the legitimate ways
    "self.fc.weight.data.normal_(0, 0.02)",
    "self.fc.bias.detach().zero_()",
    "with torch.no_grad():\n            self.fc.weight.normal_(0, 0.02)\n            self.fc.bias.zero_()",
    # shapes the functions accept
    "nn.init.eye_(self.fc.weight)",
    "nn.init.dirac_(self.conv.weight)",
    "nn.init.kaiming_normal_(self.conv.weight, mode='fan_out', nonlinearity='relu')",
    # exclusive or conditional re-inits are not overwrites
    "if True:\n            nn.init.orthogonal_(self.fc.weight)\n        else:\n            nn.init.xavier_normal_(self.fc.weight)",
    "nn.init.orthogonal_(self.fc.weight)\n        if False:\n            nn.init.xavier_normal_(self.fc.weight)",
    # a general pass refined for some layers is not an overwrite of the general pass
    "for m in self.modules():\n            if isinstance(m, nn.Linear):\n                nn.init.xavier_uniform_(m.weight)\n        nn.init.kaiming_uniform_(self.out.weight)",
])
def test_not_reported(line: str) -> None:
    assert codes(in_init(line)) == []


@pytest.mark.parametrize("name, reported", [("queries", False), ("latent_queries", False), ("w_queries", True)])
def test_learned_query_tokens_start_like_embeddings(name: str, reported: bool) -> None:
    """vit-pytorch's patch merger: ``queries`` are tokens attended with x, N(0, 1) like an
    nn.Embedding's rows; a projection spelled ``w_queries`` is a weight."""
    code = in_init(f"self.{name} = nn.Parameter(torch.randn(4, 16))",
                   extra=f"\n    def forward(self, x):\n        return self.{name} @ x.transpose(-1, -2)\n")
    assert ("IA105" in codes(code)) is reported


def test_inplace_in_method_with_unknown_callers_is_not_judged() -> None:
    body = in_init("pass", extra="""
    def reset_parameters(self):
        self.fc.weight.normal_(0, 0.02)
""")
    assert codes(body) == []


def test_kaiming_slope_mismatch_before_leaky_relu() -> None:
    body = """
class D(nn.Module):
    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(nn.Conv2d(3, 64, 4), nn.LeakyReLU(0.2, inplace=True), nn.Conv2d(64, 1, 4))
        nn.init.kaiming_normal_(self.net[0].weight, a=0.0, nonlinearity="leaky_relu")

    def forward(self, x):
        return self.net(x)
"""
    [diagnostic] = [d for d in lint(HEADER + body) if d.code == "IA109"]
    assert "slope 0.2" in diagnostic.message
    good = body.replace("a=0.0", "a=0.2")
    assert [d.code for d in lint(HEADER + good)] == []


def test_init_and_layers_in_forward() -> None:
    body = in_init("pass", extra="""
    def forward(self, x):
        nn.init.normal_(self.fc.weight, std=0.02)
        noise = torch.empty_like(x)
        nn.init.normal_(noise)
        if self.proj is None:
            self.proj = nn.Linear(16, 16)
        head = nn.Linear(16, 2)
        return head(self.fc(x) + noise)
""")
    found = [(d.code, d.line) for d in lint(HEADER + body) if d.code == "IA108"]
    assert found == [("IA108", 17), ("IA108", 22)]


DELTA_ORTHOGONAL = """
import torch.nn as nn


def weight_init(m):
    if isinstance(m, nn.Conv2d):
        m.weight.data.fill_(0.0)
        mid = m.weight.size(2) // 2
        {view_write}


class Encoder(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 32, 3)
        self.apply(weight_init)

    def forward(self, x):
        return self.conv(x).relu()
"""


def test_a_zero_fill_whose_view_is_written_after_is_not_a_zero_weight() -> None:
    """A delta-orthogonal kernel: zeros, then the centre tap of every kernel drawn orthogonal."""
    centre = 'nn.init.orthogonal_(m.weight.data[:, :, mid, mid], nn.init.calculate_gain("relu"))'
    assert lint_selected(DELTA_ORTHOGONAL.format(view_write=centre), "IA101") == []
    other = 'nn.init.orthogonal_(m.other[:, :, mid, mid])'  # a view of another tensor
    assert [d.code for d in lint_selected(DELTA_ORTHOGONAL.format(view_write=other), "IA101")] == ["IA101"]
