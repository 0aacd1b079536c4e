"""The part of a checked file that libcst parses (``lint/parse/focus.py``): what a finding can
need is kept, line for line and column for column; the rest is left out, and the findings are
those of the whole file."""

from __future__ import annotations

import ast
import textwrap

import pytest

from initaudit.config import Config
from initaudit.lint.files.prefilter import has_own_suppression
from initaudit.lint.parse.focus import focused_text
from initaudit.lint.parse.screen import initialising_test
from initaudit.lint.run import engine


def focus(text: str, seed_names: frozenset[str] = frozenset()) -> str | None:
    tree = ast.parse(text)
    return focused_text(text, tree, initialising_test(tree), has_own_suppression, seed_names)


def kept_lines(text: str, focused: str) -> list[str]:
    """The lines of ``text`` the focus keeps as written (it keeps every line break)."""
    assert focused.count("\n") == text.count("\n")
    return [line.strip() for line, same in zip(text.splitlines(), focused.splitlines()) if line == same and line.strip()]


UNRELATED = "".join(f"\n\ndef table_{i}():\n    return [{', '.join(map(str, range(40)))}]\n" for i in range(30))

HOLDER = """\
import torch.nn as nn


def make_head(n):
    return nn.Linear(n, 2)


class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(8, 8)
        nn.init.xavier_uniform_(self.fc.weight)

    def forward(self, x):
        return self.fc(x)


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.block = Block()
        self.head = make_head(8)

    def forward(self, x):
        return self.head(self.block(x).relu())

    def describe(self):
        return "a net of " + str(table_0())
""" + UNRELATED


def test_a_seed_keeps_its_holders_and_what_they_use() -> None:
    focused = focus(HOLDER)
    assert focused is not None
    kept = kept_lines(HOLDER, focused)
    assert "class Block(nn.Module):" in kept and "class Net(nn.Module):" in kept  # the holder
    assert "def make_head(n):" in kept  # used by the holder
    assert "self.block = Block()" in kept and "return self.head(self.block(x).relu())" in kept
    assert not any(line.startswith("def table_") for line in kept)  # used by nothing kept
    assert "def describe(self):" not in kept  # a method nothing kept calls


def test_a_left_out_method_leaves_a_statement_in_its_class() -> None:
    code = textwrap.dedent("""\
    import torch.nn as nn


    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(8, 8)
            nn.init.zeros_(self.fc.bias)

        def forward(self, x):
            return self.fc(x)


    class Other:
        def only(self):
            return 1
    """) + UNRELATED
    focused = focus(code)
    assert focused is not None
    compile(focused, "f.py", "exec")
    assert "class Other:" not in focused


def test_class_and_static_methods_go_with_their_class() -> None:
    code = textwrap.dedent("""\
    import torch.nn as nn


    class Wrapper(nn.Module):
        def __init__(self, inner):
            super().__init__()
            self.inner = inner
            for p in self.parameters():
                nn.init.normal_(p)

        @classmethod
        def build(cls, d):
            return cls(nn.Linear(d, d))

        def summary(self):
            return 0
    """) + UNRELATED
    kept = kept_lines(code, focus(code) or "")
    assert "def build(cls, d):" in kept and "def summary(self):" not in kept


def test_a_nested_class_is_split_as_its_holder_is() -> None:
    code = textwrap.dedent("""\
    import torch.nn as nn


    class Suite:
        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.fc = nn.Linear(8, 8)
                nn.init.ones_(self.fc.weight)

            def forward(self, x):
                return self.fc(x)

        def test_shapes(self):
            return [1, 2, 3]
    """) + UNRELATED
    kept = kept_lines(code, focus(code) or "")
    assert "nn.init.ones_(self.fc.weight)" in kept and "def test_shapes(self):" not in kept


def test_a_local_name_is_not_the_module_level_one() -> None:
    """The symbol table tells a function's own ``tensor`` from the module's function: only a
    reader of the module's is a holder."""
    code = textwrap.dedent("""\
    import torch


    def tensor(n):
        return torch.empty(n).zero_()


    def local_only():
        tensor = [1, 2]
        return tensor


    def reader():
        return tensor(3)
    """) + UNRELATED
    kept = kept_lines(code, focus(code) or "")
    assert "def reader():" in kept and "def local_only():" not in kept


def test_a_file_calling_an_imported_initialiser_keeps_the_call() -> None:
    code = textwrap.dedent("""\
    from blocks import reset


    def build(model):
        reset(model)
        return model
    """) + UNRELATED
    assert focus(code) is None  # nothing in it initialises
    kept = kept_lines(code, focus(code, frozenset({"reset"})) or "")
    assert "reset(model)" in kept and not any(line.startswith("def table_") for line in kept)


@pytest.mark.parametrize("dynamic", ["from helpers import *\n", "HANDLERS = globals()\n"])
def test_names_read_dynamically_keep_the_whole_file(dynamic: str) -> None:
    assert focus(dynamic + HOLDER) is None


def test_module_dunders_are_kept() -> None:
    code = "__all__ = ['xavier']\n" + HOLDER
    assert "__all__ = ['xavier']" in kept_lines(code, focus(code) or "")


def test_a_small_saving_parses_the_whole_file() -> None:
    assert focus(HOLDER.split("\n\ndef table_0")[0] + "\n") is None


SOURCES = [
    HOLDER,
    HOLDER.replace("nn.init.xavier_uniform_(self.fc.weight)", "nn.init.xavier_uniform(self.fc.weight)  # noqa: IA103"),
    HOLDER + "\n\nclass Spare(nn.Module):\n    def __init__(self):\n        super().__init__()\n"
             "        self.w = nn.Linear(3, 3)\n        self.w.weight.data.fill_(0.5)  # noqa: IA999\n",
    HOLDER.replace("xavier_uniform_", "kaiming_normal_").replace("self.block(x).relu()", "self.block(x).tanh()"),
]


@pytest.mark.parametrize("source", SOURCES)
def test_findings_are_those_of_the_whole_file(monkeypatch: pytest.MonkeyPatch, source: str) -> None:
    """Positions, messages, fixes (offsets into the file) and suppressions all agree."""
    monkeypatch.setattr(engine, "_FOCUS_FROM", 0)
    focused = engine.lint_file("f.py", source.encode(), Config())
    monkeypatch.setattr(engine, "_focused", lambda text, tree, links: None)
    whole = engine.lint_file("f.py", source.encode(), Config())
    assert focused.diagnostics == whole.diagnostics and focused.diagnostics
