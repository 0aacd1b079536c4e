"""Name resolution through imports and scopes, and the read-only tree walk under it."""

from __future__ import annotations

import textwrap
from pathlib import Path

import libcst as cst
import pytest

from initaudit.lint.model.file_model import FileModel
from initaudit.lint.parse.walk import walk
from tests.lint.selection import codes_selected


class _Calls:
    def __init__(self) -> None:
        self.found: list[cst.Call] = []

    def visit_Call(self, node: cst.Call) -> None:
        self.found.append(node)


def resolved(code: str) -> dict[str, frozenset[str]]:
    """What each call's function resolves to, asked of the file model once it is built."""
    text = textwrap.dedent(code)
    module = cst.parse_module(text)
    model = FileModel(module, text)
    calls = _Calls()
    walk(module, calls)
    return {module.code_for_node(call.func): model.names(call.func) for call in calls.found}


@pytest.mark.parametrize("imports, call, expected", [
    ("import torch", "torch.nn.init.zeros_", "torch.nn.init.zeros_"),
    ("import torch.nn as nn", "nn.init.zeros_", "torch.nn.init.zeros_"),
    ("import torch.nn.init", "torch.nn.init.zeros_", "torch.nn.init.zeros_"),
    ("import torch.nn", "torch.zeros", "torch.zeros"),
    ("from torch import nn", "nn.init.zeros_", "torch.nn.init.zeros_"),
    ("from torch.nn import init as I", "I.zeros_", "torch.nn.init.zeros_"),
    ("from torch.nn.init import zeros_ as z", "z", "torch.nn.init.zeros_"),
    ("from torch.nn.init import *", "zeros_", "torch.nn.init.zeros_"),
    ("from torch import *", "len", None),
    ("from . import init", "init.zeros_", ".init.zeros_"),
    ("from ..layers import init", "init.zeros_", "..layers.init.zeros_"),
])
def test_import_forms(imports: str, call: str, expected: str | None) -> None:
    names = resolved(f"{imports}\n{call}(w)\n")[call]
    assert names == (frozenset({expected}) if expected else frozenset())


def test_parameters_and_assignments_shadow_imports() -> None:
    calls = resolved("""
        from torch.nn import init

        def by_parameter(init):
            init.zeros_(w)

        def by_assignment():
            init = Helper()
            init.ones_(w)

        def untouched():
            init.kaiming_normal_(w)

        apply(lambda init: init.normal_(w))
    """)
    assert calls["init.zeros_"] == frozenset()
    assert calls["init.ones_"] == frozenset()
    assert calls["init.normal_"] == frozenset()
    assert calls["init.kaiming_normal_"] == {"torch.nn.init.kaiming_normal_"}


def test_class_body_is_invisible_from_methods_and_locals_imports_stay_local() -> None:
    calls = resolved("""
        from torch.nn.parallel import gather

        class Parallel:
            def gather(self, outputs):
                return gather(outputs)

        def build():
            import torch.nn as nn
            nn.Linear(2, 2)

        def elsewhere():
            nn.Conv2d(1, 1, 3)
    """)
    assert calls["gather"] == {"torch.nn.parallel.gather"}
    assert calls["nn.Linear"] == {"torch.nn.Linear"}
    assert calls["nn.Conv2d"] == frozenset()


def test_global_declaration_binds_in_the_module() -> None:
    calls = resolved("""
        def setup():
            global nn
            import torch.nn as nn

        def use():
            nn.Linear(2, 2)
    """)
    assert calls["nn.Linear"] == {"torch.nn.Linear"}


def test_bindings_in_nested_blocks_count() -> None:
    calls = resolved("""
        try:
            import torch.nn as nn
        except ImportError as nn:
            pass
        if True:
            with open("f") as init:
                init.read()
        nn.Linear(1, 1)
    """)
    assert calls["nn.Linear"] == {"torch.nn.Linear"}  # the other binding is not an import
    assert calls["init.read"] == frozenset()


def test_shadowed_init_module_is_not_linted() -> None:
    code = """
        import torch.nn as nn
        from torch.nn import init

        class Net(nn.Module):
            def __init__(self, init):
                super().__init__()
                self.fc = nn.Linear(4, 4)
                init.zeros_(self.fc.weight)

            def forward(self, x):
                return nn.functional.relu(self.fc(x))
    """
    assert codes_selected(code, "IA101") == []
    assert codes_selected(code.replace("def __init__(self, init)", "def __init__(self)"), "IA101") == ["IA101"]


class _Hooks:
    def __init__(self) -> None:
        self.events: list[str] = []

    def visit_FunctionDef(self, node: cst.FunctionDef) -> bool:
        self.events.append(f"def {node.name.value}")
        return node.name.value != "skipped"

    def leave_FunctionDef(self, node: cst.FunctionDef) -> None:
        self.events.append(f"end {node.name.value}")

    def visit_If_orelse(self, node: cst.If) -> None:
        self.events.append("else")

    def leave_If_orelse(self, node: cst.If) -> None:
        self.events.append("end else")

    def visit_Name(self, node: cst.Name) -> None:
        self.events.append(node.value)


def test_walk_keeps_the_hook_protocol() -> None:
    module = cst.parse_module(textwrap.dedent("""
        def first():
            if a:
                b
            else:
                c
        def skipped():
            hidden
        last
    """))
    hooks = _Hooks()
    walk(module, hooks)
    assert hooks.events == ["def first", "first", "a", "b", "else", "c", "end else", "end first",
                            "def skipped", "end skipped", "last"]


def test_lazy_imports_bind_like_imports() -> None:
    calls = resolved("lazy import torch.nn as nn\nlazy from torch.nn import init\nnn.Linear(1, 1)\ninit.zeros_(w)\n")
    assert calls == {"nn.Linear": {"torch.nn.Linear"}, "init.zeros_": {"torch.nn.init.zeros_"}}
    # Code for a newer Python than the one running is still analysed when libcst reads it.
    assert codes_selected("lazy from torch.nn.init import xavier_uniform\nxavier_uniform(w)\n", "IA104") == ["IA104"]


_KINDS = ("Name", "Attribute", "Call", "Assign", "AugAssign", "BinaryOperation", "FunctionDef",
          "ClassDef", "Lambda", "If", "For", "With", "ImportFrom", "Param", "SimpleString")


class _Counter:
    """Hooks into the node kinds the linter's traversal uses (hooks are looked up on the class)."""

    def __init__(self) -> None:
        self.seen: list[int] = []

    def see(self, node: cst.CSTNode) -> None:
        self.seen.append(id(node))


for _kind in _KINDS:
    setattr(_Counter, f"visit_{_kind}", _Counter.see)


class _LibcstCounter(cst.CSTVisitor):
    def __init__(self) -> None:
        super().__init__()
        self.seen: list[int] = []

    def on_visit(self, node: cst.CSTNode) -> bool:
        if type(node).__name__ in _KINDS:
            self.seen.append(id(node))
        return True


def test_walk_reaches_every_node_libcst_visits_on_real_code() -> None:
    """Skipping token-only fields must not skip a node that carries code."""
    root = Path(__file__).parents[2]
    sources = sorted((root / "examples").glob("*.py")) + sorted((root / "initaudit" / "lint").rglob("*.py"))
    assert len(sources) > 10
    for source in sources:
        module = cst.parse_module(source.read_text(encoding="utf-8"))
        ours, theirs = _Counter(), _LibcstCounter()
        walk(module, ours)
        module.visit(theirs)
        assert sorted(ours.seen) == sorted(theirs.seen), source


_ZEROED_IN_INIT = """
    import torch
    import torch.nn as nn
    from torch.nn import init

    class Net(nn.Module):
        def __init__(self, options, schemes):
            super().__init__()
            self.fc = nn.Linear(4, 4)
{body}

        def forward(self, x):
            return torch.relu(self.fc(x))
"""


def _zeroed(body: str) -> list[str]:
    """IA101's codes for a module whose ``__init__`` ends with ``body`` (written at its indent)."""
    return codes_selected(_ZEROED_IN_INIT.format(body=textwrap.indent(textwrap.dedent(body), " " * 12)), "IA101")


@pytest.mark.parametrize("body, expected", [
    # A comprehension's variable is its own: ``nn`` there is no module.
    ("[nn.init.zeros_(self.fc.weight) for nn in schemes]", []),
    ("[nn.init.zeros_(self.fc.weight) for scheme in schemes]", ["IA101"]),
    # A walrus binds in the function, also from inside a comprehension.
    ("if (init := options.get('init')) is not None:\n    init.zeros_(self.fc.weight)", []),
    ("found = [s for s in schemes if (init := s)]\ninit.zeros_(self.fc.weight)", []),
    ("if (scheme := options.get('init')) is not None:\n    init.zeros_(self.fc.weight)", ["IA101"]),
    # A ``match`` capture binds its name.
    ("match options:\n    case {'init': init}:\n        init.zeros_(self.fc.weight)", []),
    ("match options:\n    case {'init': chosen}:\n        init.zeros_(self.fc.weight)", ["IA101"]),
])
def test_bindings_inside_expressions_and_patterns_shadow_imports(body: str, expected: list[str]) -> None:
    assert _zeroed(body) == expected


def test_nonlocal_import_binds_in_the_enclosing_function() -> None:
    body = """
        init = None

        def load():
            nonlocal init
            from torch.nn import init

        load()
        init.zeros_(self.fc.weight)
    """
    code = _ZEROED_IN_INIT.replace("from torch.nn import init\n", "")
    assert codes_selected(code.format(body=textwrap.indent(textwrap.dedent(body), " " * 12)), "IA101") == ["IA101"]
    # Without the declaration the import is ``load``'s own, and ``init`` here stays None.
    local = body.replace("nonlocal init\n", "")
    assert codes_selected(code.format(body=textwrap.indent(textwrap.dedent(local), " " * 12)), "IA101") == []
