"""An imported file is parsed only as far as its importers need: the class or function asked
for, what it names, and every top-level statement that defines nothing."""

from __future__ import annotations

import textwrap

import libcst as cst
from libcst.metadata import MetadataWrapper, PositionProvider

from initaudit.lint.parse.slices import definitions, slice_text

SOURCE = textwrap.dedent('''\
    import torch.nn as nn

    WIDTH = 8


    def unrelated(
        a,
    ) -> None:
        """Closing brackets at column 0 end no statement."""
        return a


    def hidden_width():
        return WIDTH


    class Base(nn.Module):
        pass


    @decorate(
        "a column-0 argument of a decorator"
    )
    class Unrelated(nn.Module):
        def forward(self, x):
            return x


    class Block(Base):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(hidden_width(), WIDTH)
''')


def test_definitions_take_their_decorators_and_continued_lines() -> None:
    found = {d.name: SOURCE[d.start:d.end] for d in definitions(SOURCE)}
    assert list(found) == ["unrelated", "hidden_width", "Base", "Unrelated", "Block"]
    assert found["unrelated"].startswith("def unrelated(") and ") -> None:" in found["unrelated"]
    assert found["Unrelated"].startswith("@decorate(")


def test_a_slice_keeps_what_the_name_needs_where_it_was() -> None:
    found = slice_text(SOURCE, frozenset({"Block"}), definitions(SOURCE))
    assert found is not None
    sliced, names = found
    module = cst.parse_module(sliced)
    kept = {node.name.value for node in module.body if isinstance(node, (cst.FunctionDef, cst.ClassDef))}
    assert kept == {"hidden_width", "Base", "Block"} == names  # its base, and the helper it calls
    assert "WIDTH = 8" in sliced and "import torch.nn as nn" in sliced
    assert sliced.count("\n") == SOURCE.count("\n")
    positions = MetadataWrapper(module, unsafe_skip_copy=True).resolve(PositionProvider)
    block = next(n for n in module.body if isinstance(n, cst.ClassDef) and n.name.value == "Block")
    assert positions[block].start.line == SOURCE.splitlines().index("class Block(Base):") + 1


def test_a_slice_of_most_of_the_file_is_not_made() -> None:
    assert slice_text(SOURCE, frozenset({"Block", "Unrelated", "unrelated"}), definitions(SOURCE)) is None


def test_a_function_keeps_the_functions_it_calls_not_the_classes_it_names() -> None:
    source = SOURCE + textwrap.dedent('''\


        def init_block(block):
            if isinstance(block, Block):
                nn.init.zeros_(block.fc.weight)
            return hidden_width()
    ''')
    found = slice_text(source, frozenset({"init_block"}), definitions(source))
    assert found is not None
    assert found[1] == {"init_block", "hidden_width"}
    found = slice_text(source, frozenset({"Block"}), definitions(source))
    assert found is not None and found[1] == {"Block", "Base", "hidden_width"}
