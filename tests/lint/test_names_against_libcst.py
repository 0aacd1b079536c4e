"""The linter's name resolution (``names.py``, driven by the file model's one traversal) against
libcst's own: every ``Name`` and ``Attribute`` read whose leftmost name an import of the file
binds must resolve to the names libcst's ``QualifiedNameProvider`` gives with source IMPORT.

Where Python's binding rules and libcst's disagree, the resolver follows Python, in three ways only:
- libcst takes, for a read, only the bindings of its scope written before it (or, with none, the
  enclosing scope's), where Python binds a name for its whole scope, whatever the order (a loop
  or a function defined earlier can see a later binding); the resolver's answer must then be
  libcst's own for the scope as a whole (``Scope.get_qualified_names_for`` given the name);
- the constructs listed in ``PYTHON_NOT_LIBCST``, each with the answer Python gives;
- a name that a star import binds (``from torch.nn.init import *``), for which libcst records no
  binding.
Set ``INITAUDIT_NAMES_TREE`` to a folder (an installed ``torch/nn``) to compare every ``.py`` file
under it as well.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import textwrap
from pathlib import Path
from typing import NamedTuple

import libcst as cst
import pytest
from libcst.helpers import get_full_name_for_node
from libcst.metadata import (
    ExpressionContext,
    ExpressionContextProvider,
    MetadataWrapper,
    PositionProvider,
    QualifiedNameProvider,
    QualifiedNameSource,
    ScopeProvider,
)

from initaudit.lint.model.file_model import FileModel

ROOT = Path(__file__).parents[2]


class Answer(NamedTuple):
    ours: frozenset[str]
    #: libcst's, for this read.
    libcst: frozenset[str]
    #: libcst's for the name in the read's scope, whatever the order of its bindings.
    libcst_scope: frozenset[str]

    def agrees(self) -> bool:
        return self.ours == self.libcst or self.ours == self.libcst_scope


#: Line, column and code of a read -> its answers.
Answers = dict[tuple[int, int, str], Answer]


def _leftmost(node: cst.BaseExpression) -> cst.BaseExpression:
    while isinstance(node, cst.Attribute):
        node = node.value
    return node


def _imported_locals(module: cst.Module) -> set[str]:
    """Every local name an import of the file binds, in any scope."""
    found: set[str] = set()

    class Imports(cst.CSTVisitor):
        def visit_Import(self, node: cst.Import) -> None:
            for alias in node.names:
                bound = alias.asname.name if alias.asname is not None else alias.name
                found.add((get_full_name_for_node(bound) or "").partition(".")[0])

        def visit_ImportFrom(self, node: cst.ImportFrom) -> None:
            if not isinstance(node.names, cst.ImportStar):
                for alias in node.names:
                    found.add(get_full_name_for_node(alias.asname.name if alias.asname else alias.name) or "")

    module.visit(Imports())
    return found


def _imported(names: object) -> frozenset[str]:
    assert isinstance(names, (set, frozenset))
    return frozenset(q.name for q in names if q.source is QualifiedNameSource.IMPORT)


class _LibcstReads(cst.CSTVisitor):
    """libcst's IMPORT qualified names of each dotted read (a Name, or Attributes down to one)."""

    METADATA_DEPENDENCIES = (QualifiedNameProvider, ScopeProvider, ExpressionContextProvider, PositionProvider)

    def __init__(self, heads: set[str]) -> None:
        super().__init__()
        self.heads = heads
        self.found: dict[cst.CSTNode, tuple[int, int, frozenset[str], frozenset[str]]] = {}

    def on_visit(self, node: cst.CSTNode) -> bool:
        if isinstance(node, (cst.Import, cst.ImportFrom, cst.Global, cst.Nonlocal)):
            return False  # the names these statements write are not reads
        if isinstance(node, cst.Arg):
            node.value.visit(self)  # a keyword names a parameter
            return False
        if isinstance(node, (cst.MatchAs, cst.MatchStar, cst.MatchMapping)):
            # A capture is a binding (libcst's contexts leave it out); what it holds may read.
            capture = node.rest if isinstance(node, cst.MatchMapping) else node.name
            for child in node.children:
                if child is not capture:
                    child.visit(self)
            return False
        if isinstance(node, (cst.Name, cst.Attribute)):
            head = _leftmost(node)
            if isinstance(head, cst.Name) and head.value in self.heads \
                    and self.get_metadata(ExpressionContextProvider, head, None) is ExpressionContext.LOAD:
                start = self.get_metadata(PositionProvider, node).start
                scope = self.get_metadata(ScopeProvider, head)
                # Given a string, the scope answers for every binding it sees, not the node's.
                whole = scope.get_qualified_names_for(get_full_name_for_node(node) or "") if scope else set()
                self.found[node] = (start.line, start.column,
                                    _imported(self.get_metadata(QualifiedNameProvider, node, set())), _imported(whole))
        return True


def answers(text: str, heads: set[str] | None = None) -> Answers:
    """The answers for every read of an imported name (or of the names ``heads``). The resolver
    and libcst write a name in the same dotted form, a relative import's with its leading dots
    (``from ..a import b``: ``..a.b``), so they compare as they are."""
    module = cst.parse_module(text)
    # The same nodes for both: the resolver keys its scopes by node identity.
    wrapper = MetadataWrapper(module, unsafe_skip_copy=True)
    reads = _LibcstReads(_imported_locals(module) if heads is None else heads)
    wrapper.visit(reads)
    resolver = FileModel(module, text).resolver
    return {(line, column, module.code_for_node(node)): Answer(resolver.names(node), libcst, whole)
            for node, (line, column, libcst, whole) in reads.found.items()}


def test_a_star_import_binds_for_python_not_for_libcst() -> None:
    """libcst records no binding for ``from m import *``; Python binds the module's names, and
    the resolver takes a name bound nowhere else for one of them."""
    text = "from torch.nn.init import *\nzeros_(w)\n"
    assert answers(text, heads={"zeros_"}) == {
        (2, 0, "zeros_"): Answer(frozenset({"torch.nn.init.zeros_"}), frozenset(), frozenset())}


def test_libcst_orders_a_scope_s_bindings_python_does_not() -> None:
    text = textwrap.dedent("""
        import torch
        from torch import nn
        def read_before_assignment():
            before = torch.zeros
            torch = 1
        def read_before_import():
            nn = None
            for _ in range(2):
                layer = nn.Linear
                from torch import nn
    """)
    differing = {key[2]: answer for key, answer in answers(text).items() if answer.ours != answer.libcst}
    # Python: ``torch`` is the function's own, not the module's; ``nn`` may be either binding.
    # (libcst orders the bindings for the Name it records as the read, not for the attribute
    # around it, which it answers for the scope as a whole.)
    assert differing == {
        "torch": Answer(frozenset(), frozenset({"torch"}), frozenset()),
        "nn": Answer(frozenset({"torch.nn"}), frozenset(), frozenset({"torch.nn"})),
    }


# Hand-written cases, one binding rule each. ``# python:`` marks a line where Python's answer
# differs from libcst's (PYTHON_NOT_LIBCST).
CASES: dict[str, str] = {
    "parameter": """
        import torch
        def by_parameter(torch, *args, nn, **kwargs):
            return torch.zeros, nn.Linear
        def untouched():
            return torch.ones
        from torch import nn
    """,
    "defaults_and_annotations_outside": """
        import torch
        from torch import device
        def f(torch=torch.float32, *, device: device = None, **kw: torch.Tensor) -> torch.Tensor:
            return torch.zeros, device.type
        g = lambda torch=torch.ones: torch.full
    """,
    "decorators_outside": """
        import functools
        @functools.lru_cache
        def f(functools):
            return functools.reduce
        class Holder:
            import functools as tools
            @tools.wraps(f)
            def method(self, make=tools.partial, tools=None):
                return make, tools.cache
    """,
    "class_header_outside": """
        from torch import nn
        @nn.utils.decorate
        class Net(nn.Module, metaclass=nn.Meta):
            nn = None
            layer = nn.Linear
    """,
    "assignment": """
        import torch
        def assigned():
            torch = load()
            return torch.zeros
        def augmented():
            torch += 1
            return torch.ones
        def annotated_only():
            torch: int
            return torch.full
        def read():
            return torch.empty
    """,
    "for_with_except": """
        import torch
        from torch import nn
        def loops(items):
            for torch in items:
                torch.zeros
            for index, (nn, *rest) in enumerate(items):
                nn.Linear
        def contexts():
            with open("a") as torch, opener() as (nn, other):
                return torch.read, nn.Conv2d
        def handlers():
            try:
                pass
            except Exception as torch:
                return torch.args
        async def asynchronous(items):
            async for nn in items:
                nn.ReLU
            async with opener() as torch:
                torch.full
        def groups():
            try:
                pass
            except* ValueError as nn:
                return nn.exceptions
        def untouched():
            return torch.ones, nn.Tanh
    """,
    "delete": """
        import math
        import torch
        def deleted():
            del torch
            return torch.zeros  # python: ``del`` makes the name local
        del math
        math.pi
    """,
    "global": """
        import torch
        def rebinds():
            global torch
            torch = 1
            return torch.zeros
        def imports():
            global nn
            from torch import nn
        def uses():
            return nn.Linear
        class Body:
            global init
            from torch.nn import init
        init.zeros_
    """,
    "nonlocal": """
        def outer():
            import torch
            def inner():
                nonlocal torch
                torch = 2
                return torch.zeros
            return torch.ones
        def imports_for_outer():
            nn = None
            def inner():
                nonlocal nn
                from torch import nn
            return nn.Linear
        def through_a_middle_function():
            import math
            def middle():
                def innermost():
                    nonlocal math
                    math = 0
                return math.pi  # python: ``middle`` binds nothing; ``math`` is the import
            return math.tau
    """,
    "walrus": """
        import torch
        from torch import nn
        import math
        def assigned(items):
            if (torch := items):
                return torch.zeros
        def in_comprehension(items):
            found = [nn for item in items if (nn := item)]
            return nn.Linear  # python: the walrus binds in the function
        def in_lambda():
            return lambda: (math := 1) and math.pi
        class Body:
            (torch := 1)
            x = torch.ones
        (math := 2)
        math.tau
        torch.empty, nn.ReLU
    """,
    "comprehensions": """
        import torch
        from torch import nn
        [torch.zeros for torch in range(3)]
        [item for item in torch.arange(3)]
        [nn for nn in nn.modules]
        {key: nn.Linear for key in "ab"}
        {torch.ones: 1 for torch in "ab"}
        {torch for torch in torch.rand(2)}
        (torch.full for _ in [torch.empty])
        [inner for outer in items for inner in torch.split(outer)]
        [inner for torch in items for inner in torch.split]
        [[torch.eye for _ in row] for torch in rows]
        class Body:
            import math as m
            xs = [m.pi for _ in range(3)]
            ys = [item for item in m.tau]
        def function(rows):
            return [torch.cat for torch in rows], torch.stack
    """,
    "class_body": """
        import torch
        class Model:
            torch = None
            x = torch.zeros
            def method(self):
                return torch.ones
        class Imports:
            from torch import nn
            layer = nn.Linear
            def method(self, default=nn.ReLU):
                return nn.Conv2d
            lam = lambda: nn.Tanh
            lam_default = lambda layer=nn.GELU: layer
            layers = [nn.SiLU for _ in range(2)]
            kinds = [kind for kind in nn.modules]
        def factory():
            import torch as t
            class Inner:
                x = t.full
                def method(self):
                    return t.empty
            return Inner
    """,
    "nested_functions_and_lambdas": """
        import torch
        def outer():
            torch = 1
            def inner():
                return torch.zeros
            return lambda: torch.ones
        def outer_untouched():
            def inner():
                return torch.full
            return lambda torch: torch.empty
        lam = lambda: torch.eye
    """,
    "conditional_and_try_imports": """
        try:
            import torch.nn as nn
        except ImportError:
            nn = None
        if FLAG:
            from torch.nn import init
        elif OTHER:
            from mylib import init
        else:
            import other.init as init
        nn.Linear
        init.zeros_
        while True:
            import math
            break
        math.pi
    """,
    "import_forms": """
        import torch.nn
        import torch.nn.init as I
        import os.path as osp, collections.abc
        from . import sibling
        from .package import module as m
        from .. import up
        from ..a.b import c
        torch.nn.Linear
        torch.zeros
        I.zeros_
        osp.join
        collections.abc.Mapping
        collections.OrderedDict
        sibling.x
        m.y
        up.z
        c.w
    """,
    "star_import": """
        from torch.nn.init import *
        from torch import nn
        zeros_(w)
        nn.init.ones_
    """,
    "match": """
        import torch
        from torch import nn
        import math
        def captures(value):
            match value:
                case [torch, *nn]:
                    print(torch.zeros)  # python: captures bind
                    return nn.Linear  # python: captures bind
        def mapping(value):
            match value:
                case {"key": math, **rest}:
                    return math.pi  # python: captures bind
        def alternatives(value):
            match value:
                case Point(x=nn) | [nn]:
                    return nn.ReLU  # python: captures bind
        def class_pattern(value):
            match value:
                case torch.Tensor(shape=(1, other)):
                    return torch.ones, nn.Tanh, math.tau
    """,
    "annotations": """
        import torch
        from typing import Optional
        x: torch.Tensor = torch.zeros(1)
        def f(a: Optional[torch.Tensor]) -> torch.Tensor:
            b: torch.Tensor = a
            return b
        class A:
            w: torch.Tensor
    """,
    "import_and_assignment": """
        import torch
        torch = patched(torch)
        torch.zeros
        def torch_wrapper():
            from torch import nn
            nn = wrap(nn)
            return nn.Linear
        def torch():
            pass
        torch.ones
    """,
    "local_imports": """
        import numpy as np
        def f():
            import torch as np
            return np.zeros
        def g():
            return np.ones
        def h(np):
            from torch import nn
            return np.full, nn.Linear
    """,
    "expressions": """
        import torch
        label = f"{torch.zeros(1)!r:>{torch.ones}}"
        call(torch=torch.full, **torch.kwargs)
        torch.nn.Linear(2, 2).weight.data
        torch.cat([x for x in xs])[torch.arange(2)]
        value = torch.empty if torch.cuda else torch.eye
    """,
}

#: (case, code of a read) -> what Python binds there, where libcst answers otherwise. Each entry is
#: one of libcst's simplifications of Python's binding rules:
#: - ``del`` makes a name local to the function; libcst sees it as a read.
#: - ``nonlocal`` reaches the nearest enclosing function that binds the name; libcst takes the
#:   function right above, whether it binds the name or not.
#: - a walrus in a comprehension binds in the enclosing function (PEP 572); libcst binds it in
#:   the comprehension.
#: - a ``match`` capture binds its name; libcst sees it as a read.
PYTHON_NOT_LIBCST: dict[tuple[str, str], frozenset[str]] = {
    ("delete", "torch.zeros"): frozenset(),
    ("nonlocal", "math.pi"): frozenset({"math.pi"}),
    ("walrus", "nn.Linear"): frozenset(),
    ("match", "torch.zeros"): frozenset(),
    ("match", "nn.Linear"): frozenset(),
    ("match", "math.pi"): frozenset(),
    ("match", "nn.ReLU"): frozenset(),
}


def _outermost(found: dict[tuple[int, int, str], frozenset[str]]) -> dict[str, frozenset[str]]:
    """The longest differing read of each line (the parts of a chain differ with it), by code."""
    longest: dict[int, tuple[int, int, str]] = {}
    for key in found:
        if len(key[2]) > len(longest.get(key[0], (0, 0, ""))[2]):
            longest[key[0]] = key
    assert all(longest[line][2].startswith(code) for line, _, code in found), "two reads differ on one line"
    return {key[2]: found[key] for key in longest.values()}


@pytest.mark.parametrize("case", sorted(CASES))
def test_resolver_agrees_with_libcst(case: str) -> None:
    found = answers(textwrap.dedent(CASES[case]))
    assert any(answer.libcst for answer in found.values()), "the case reads no imported name"
    different = {key: answer.ours for key, answer in found.items() if not answer.agrees()}
    # Python's answer wherever libcst's differs, and only where the list says.
    allowed = {code: names for (name, code), names in PYTHON_NOT_LIBCST.items() if name == case}
    assert _outermost(different) == allowed


def _repository_sources() -> list[Path]:
    try:
        listed = subprocess.run(["git", "ls-files", "tests/fixtures", "examples", "tests/lint"], cwd=ROOT,
                                capture_output=True, text=True, check=True).stdout.split()
    except (OSError, subprocess.CalledProcessError):
        pytest.skip("needs the repository's git checkout")
    return [ROOT / name for name in listed
            if name.endswith(".py") and not Path(name).name.startswith("test_")]


def _compare_files(paths: list[Path]) -> dict[str, dict[tuple[int, int, str], Answer]]:
    found = {}
    for path in paths:
        try:
            text = path.read_text(encoding="utf-8")
            cst.parse_module(text)
        except (UnicodeDecodeError, cst.ParserSyntaxError):
            continue  # fixtures of unreadable or invalid files
        different = {key: answer for key, answer in answers(text).items() if not answer.agrees()}
        if different:
            found[str(path)] = different
    return found


def test_repository_fixtures_and_examples_agree_with_libcst() -> None:
    paths = _repository_sources()
    assert len(paths) > 20
    assert _compare_files(paths) == {}


def test_a_tree_agrees_with_libcst() -> None:
    """``INITAUDIT_NAMES_TREE``: any folder (all of an installed ``torch/nn`` takes about 30 s);
    by default the installed torch's ``nn/modules/module.py``, where annotations name ``device``
    and ``dtype`` inside methods whose parameters share those names, and ``nn/init.py``."""
    folder = os.environ.get("INITAUDIT_NAMES_TREE")
    if folder:
        paths = sorted(Path(folder).rglob("*.py"))
    else:
        spec = importlib.util.find_spec("torch")  # found, not imported
        if spec is None or spec.origin is None:
            pytest.skip("torch is not installed")
        torch_dir = Path(spec.origin).parent
        paths = [torch_dir / "nn" / "modules" / "module.py", torch_dir / "nn" / "init.py"]
    assert paths
    assert _compare_files(paths) == {}
