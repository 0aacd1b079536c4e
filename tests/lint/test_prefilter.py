"""The text prefilter decides which files need a full parse; it must never change results."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from initaudit.lint.files.prefilter import may_have_findings
from initaudit.lint.parse.screen import may_initialise


def test_prefilter_never_drops_a_finding() -> None:
    """Every source the suite knows gives the same diagnostics with and without the prefilter."""
    from initaudit.catalogue import entries
    from initaudit.config import Config
    from initaudit.lint.run.engine import lint_file

    root = Path(__file__).parents[2]
    sources = [p.read_bytes() for p in sorted((root / "tests" / "fixtures").rglob("*.py"))]
    sources += [p.read_bytes() for p in sorted((root / "examples").glob("*.py"))]
    sources += [code.encode() for e in entries().values() if e.scope == "check"
                for section in ("Example", "Use instead") for code in e.examples(section)]
    sources += [b"x = 1\n", b"def f(:\n", b"return 1\n", b"nonlocal x\n", b"class A:\n    def __init__(self):\n        self._init_weights()\n",
                b'"""Docs: nn.init.zeros_(w)."""\nimport torch\nimport torch.nn as nn\nfrom torch.nn import Parameter as P\n'
                b"class M(nn.Module):\n    def __init__(self):\n        super().__init__()\n"
                b"        self.w = P(torch.zeros(4, 4))\n    def forward(self, x):\n"
                b"        return torch.relu(x @ self.w)\n",
                b"import torch.nn as nn\nclass M(nn.Module):\n    def forward(self, x):\n"
                b"        return nn.BatchNorm1d(4)(x)\n", *_SCREENED]
    assert len(sources) > 15
    for data in sources:
        fast = lint_file("f.py", data, Config(), prefilter=True)
        full = lint_file("f.py", data, Config(), prefilter=False)
        assert fast.diagnostics == full.diagnostics
        assert fast.parsed == full.parsed


@pytest.mark.parametrize("code, expected", [
    ("import torch.nn as nn\nnn.init.zeros_(w)\n", True),
    ('def f():\n    """Example: nn.init.zeros_(w) and w.zero_()"""\n    return 1\n', False),
    ("x = 1  # init the Parameter later\n", False),
    ("s = 'it''s'  # w.fill_(0)\n", False),
    ("s = '#'; nn.init.zeros_(w)\n", True),
    ('s = """a \\""" b"""; t = "x"\nw.zero_()\n', True),
    ("msg = f'{nn.init.zeros_(w)}'\n", True),
    # The text around an f-string's fields is no code, though it spells some (generated source).
    ("src = f'self.w = nn.Parameter(torch.empty({n}))'\n", False),
    ("src = f'{{w.zero_()}} {init!r:>{width}}'\n", True),
    ("src = f'{{w.zero_()}} {names[\"}\"]}'\n", False),
    ('src = f"""{cfg["a{"] + init(w)}"""\n', True),
    ("msg = rb'init' + Rb\"init\"\n", False),
    ("from torch.nn import Parameter as P\nw = P(torch.zeros(3, 3))\n", True),
    ("spec = FuzzedParameter('dim')\n", False),
    ("class A:\n    def __init__(self):\n        self._init_weights()\n", False),
    # A backslash-continued line inside a literal: its closing quote is still found.
    ('def f():\n    """Run:\\\n    this."""\nw.zero_()\ndef g():\n    """Doc."""\n', True),
    ('s = "a\\\nb"\nw.zero_()\nt = "x"\n', True),
    # A comment below a line that ends in a name like a prefix is no f-string: it is blanked.
    ("x = tf\n# w.zero_()\n", False),
    ("msg = fr'{w.zero_()}' + tb'x'\n", True),
    # A layer built inside forward() needs no init anywhere (IA108); built elsewhere it does.
    ("class M(nn.Module):\n    def forward(self, x):\n        return nn.Linear(4, 4)(x)\n", True),
    ("from torch.nn import Conv2d as C\nclass M(nn.Module):\n    def forward(self, x):\n"
     "        return C(3, 3, 1)(x)\n", True),
    ("class M(nn.Module):\n    def forward(self, x):\n        '''Not nn.Linear(4, 4).'''\n"
     "        return self.fc(x)\n    def make(self):\n        return nn.Linear(4, 4)\n", False),
    ("class M(nn.Module):\n    def __init__(self):\n        self.fc = nn.Linear(4, 4)\n"
     "    def forward(self, x):\n        return self.fc(x)\n", False),
])
def test_trigger_text_outside_strings_and_comments(code: str, expected: bool) -> None:
    assert may_have_findings(code) is expected


#: Sources that pass the text prefilter; the syntax tree decides. Each is also checked above with
#: and without the prefilter.
_SCREENED = [
    b"import torch\nfrom torch.nn import *\nclass M(Module):\n    def __init__(self):\n        super().__init__()\n"
    b"        self.fc = Linear(4, 4)\n        init.zeros_(self.fc.weight)\n    def forward(self, x):\n"
    b"        return torch.relu(self.fc(x))\n",
    b"import torch\nclass M(torch.nn.Module):\n    def __init__(self):\n        super().__init__()\n"
    b"        self.w = torch.nn.Parameter(torch.empty(4, 4))\n"
    b"        self.w.copy_(src=torch.zeros(4, 4))\n",
    b"import torch.nn as nn\nclass M(nn.Module):\n    def __init__(self, init=None):\n        super().__init__()\n"
    b"        self.fc = nn.Linear(4, 4)\n        self.fc.weight.data.copy_(self.fc.weight.data.clone())\n",
    b"from torch.nn.init import zeros_ as z\nimport torch.nn as nn\nfc = nn.Linear(4, 4)\nz(fc.weight)\n",
    b"import torch\nimport torch.nn as nn\nclass M(nn.Module):\n    def __init__(self):\n        super().__init__()\n"
    b"        self.fc = nn.Linear(4, 4)\n        self.fc.weight.grad.zero_()\n        w = torch.randn(4, 4)\n"
    b"        w.requires_grad_()\n        self.w = w\n",
]


@pytest.mark.parametrize("code, expected", [
    ("import torch.nn as nn\nnn.init.zeros_(w)\n", True),
    ("from torch.nn import init as I\nI.zeros_(w)\n", True),
    ("from torch.nn.init import zeros_\n", True),
    ("import torch.nn.init\n", True),
    ("w.data.fill_(0.5)\n", True),
    ("w.copy_(torch.ones(3))\n", True),
    ("w.copy_(src=torch.ones(3))\n", True),
    ("from torch.nn import Parameter as P\nw = P(x)\n", True),
    ("w = nn.Parameter(x)\n", True),
    ("w = nn.Parameter()\n", True),
    ("from torch.nn import *\nw = Parameter(x)\n", True),
    ("from torch.nn import *\ninit.zeros_(w)\n", True),
    ("params = map(nn.Parameter, tensors)\n", True),
    ("w = torch.empty(3).uniform_(-1, 1)\n", True),
    ("w = torch.empty(3).requires_grad_()\n", True),
    ("from torch import zeros as z\nw.copy_(z(3))\n", True),
    ("w.copy_(torch.randn(4, 3).t())\n", True),
    ("from torch import rand\nw.copy_(rand(3) * 2 - 1)\n", True),
    # The class named, not made: a type test, an annotation, a comparison, an unused import.
    ("from torch.nn import Parameter\n", False),
    ("ok = isinstance(p, (torch.Tensor, nn.Parameter))\n", False),
    ("def f(p: nn.Parameter) -> Optional[nn.Parameter]:\n    q: nn.Parameter = p\n    return q\n", False),
    ("same = type(p) is nn.Parameter\n", False),
    # A tensor op's name, not a call of the method: ``aten.zero_.default``.
    ("@register(aten.zero_.default)\ndef meta_zero_(x):\n    return x\n", False),
    ("out.copy_(torch.angle(x))\n", False),
    ("out.copy_(x.view(3, 4).t())\n", False),
    # The words as something else: a variable, a keyword, a copy between tensors.
    ("def build(init=None, step=0):\n    return make(init=init)\n", False),
    ("out.copy_(src)\nbuf.copy_(other, non_blocking=True)\n", False),
    ("self.initialise()\ninit_weights = 1\n", False),
    # Writes into gradients, and a tensor made trainable where nothing keeps it.
    ("for p in params:\n    p.grad.zero_()\n    p.grad.data.fill_(0)\n    state['g'].grad.detach().zero_()\n", False),
    ("x.requires_grad_()\ny.requires_grad_(False)\nz = x.requires_grad_(True)\n", False),
    ("def make():\n    return torch.randn(3, 3).requires_grad_()\n", True),
    ("ws = [torch.randn(3, 3).requires_grad_()]\n", True),
    ("self.w: torch.Tensor = torch.zeros(3).requires_grad_()\n", True),
    ("p.gradient.zero_()\n", True),
])
def test_syntax_tree_screen(code: str, expected: bool) -> None:
    assert may_initialise(ast.parse(code)) is expected


def test_syntax_check_reports_grammar_errors_only_and_stays_quiet(recwarn: pytest.WarningsRecorder) -> None:
    from initaudit.lint.files.source import syntax_error

    error = syntax_error("def f(:\n    pass\n", "f.py")
    assert error is not None and (error.line, error.column) == (1, 7)
    assert syntax_error("return 1\nawait x\n", "f.py") is None  # rejected by the compiler, not the grammar
    assert syntax_error("pattern = '\\d+'\n", "f.py") is None
    assert len(recwarn) == 0
