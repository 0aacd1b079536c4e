"""IA111 across classes and files: a wrapper's init loop that writes again what the classes of
its blocks initialised when built, reported at the wrapper's loop with the voided init's place."""

from __future__ import annotations

from pathlib import Path

from tests.lint.selection import lint_selected, selecting
from tests.lint.test_project import findings, write

ATTENTION = """\
import torch.nn as nn


class Attention(nn.Module):
    def __init__(self, d):
        super().__init__()
        self.q = nn.Linear(d, d)
        self.out = nn.Linear(d, d)
        nn.init.normal_(self.q.weight, std=0.02)
        if d > 512:
            nn.init.xavier_normal_(self.out.weight)

    def forward(self, x):
        return self.out(self.q(x))
"""

ENCODER = """\
import torch.nn as nn
from attention import Attention


class Encoder(nn.Module):
    def __init__(self, d, n):
        super().__init__()
        self.layers = nn.ModuleList([Attention(d) for _ in range(n)])

    def forward(self, x):
        for layer in self.layers:
            x = layer(x)
        return x
"""

WRAPPER = """\
import torch.nn as nn
from encoder import Encoder


class Wrapper(nn.Module):
    def __init__(self, encoder, reinit=True):
        super().__init__()
        self.encoder = encoder
        for p in self.parameters():
            if {test}:
                nn.init.xavier_uniform_(p)

    def forward(self, x):
        return self.encoder(x)

    @classmethod
    def build(cls, d):
        encoder = Encoder(d, 2)
        return cls(encoder)
"""


def project(root: Path, test: str = "p.dim() > 1") -> list[tuple[str, int, str, str]]:
    write(root, {"pyproject.toml": "", "model/__init__.py": "", "model/attention.py": ATTENTION,
                 "model/encoder.py": ENCODER, "model/wrapper.py": WRAPPER.format(test=test)})
    return findings([root], config=selecting("IA111"))


def test_a_wrapper_loop_voids_what_its_blocks_initialised(tmp_path: Path) -> None:
    found = project(tmp_path)
    assert [(name, line, code) for name, line, code, _ in found] == [("wrapper.py", 11, "IA111")]
    assert "normal_ at model/attention.py:9" in found[0][3]
    assert "encoder.layers.0.q" in found[0][3]


def test_a_wrapper_loop_that_may_not_run_voids_nothing(tmp_path: Path) -> None:
    assert project(tmp_path, "reinit and p.dim() > 1") == []
    assert project(tmp_path / "flag", "reinit") == []


def test_a_later_loop_narrowed_by_class_overwrites_a_direct_init() -> None:
    code = """
    import torch.nn as nn

    class Net(nn.Module):
        def __init__(self, fresh=True):
            super().__init__()
            self.fc = nn.Linear(8, 8)
            nn.init.orthogonal_(self.fc.weight)
            for m in self.modules():
                if {test}:
                    nn.init.xavier_uniform_(m.weight)

        def forward(self, x):
            return self.fc(x)
    """
    assert [d.line for d in lint_selected(code.format(test="isinstance(m, nn.Linear)"), "IA111")] == [8]
    assert lint_selected(code.format(test="isinstance(m, nn.Linear) and fresh"), "IA111") == []
    assert lint_selected(code.format(test="isinstance(m, nn.Conv2d)"), "IA111") == []


def test_an_argument_given_another_module_elsewhere_is_not_typed(tmp_path: Path) -> None:
    write(tmp_path, {"pyproject.toml": "", "model/__init__.py": "", "model/attention.py": ATTENTION,
                     "model/encoder.py": ENCODER,
                     "model/wrapper.py": WRAPPER.format(test="p.dim() > 1") + "\n\nBARE = Wrapper(nn.Linear(4, 4))\n"})
    assert findings([tmp_path], config=selecting("IA111")) == []


SAME_FILE = """
import torch.nn as nn


def initialize_weight(m):
    if isinstance(m, nn.Linear):
        nn.init.xavier_uniform_(m.weight)


class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(4, 4)
        nn.init.orthogonal_(self.fc.weight)

    def forward(self, x):
        return self.fc(x).tanh()


class Model(nn.Module):
    def __init__(self):
        super().__init__()
        self.block = Block()
        {later}

    def forward(self, x):
        return self.block(x)
"""


def test_a_model_voids_what_a_block_of_its_own_file_initialised_when_built() -> None:
    found = lint_selected(SAME_FILE.format(later="self.apply(initialize_weight)"), "IA111")
    # Block is built by Model only: its init never has an effect, reported where it is written.
    assert [(d.line, d.code) for d in found] == [(14, "IA111")]
    assert "again afterwards (line 7)" in found[0].message
    # Built alone too, it keeps its init there: reported at the write that voids it in Model.
    found = lint_selected(SAME_FILE.format(later="self.apply(initialize_weight)") + "\nALONE = Block()\n", "IA111")
    assert [(d.line, d.code) for d in found] == [(7, "IA111")]
    assert "orthogonal_ at line 14" in found[0].message and "block.fc" in found[0].message
    assert lint_selected(SAME_FILE.format(later="pass"), "IA111") == []
    # A write under a test of something else than the module's class may not run.
    guarded = SAME_FILE.format(later="if reinit:\n            self.apply(initialize_weight)")
    assert lint_selected(guarded.replace("def __init__(self):\n        super().__init__()\n        self.block",
                                         "def __init__(self, reinit=False):\n        super().__init__()\n        self.block"),
                         "IA111") == []
