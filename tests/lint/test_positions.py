"""Node positions agree with libcst's PositionProvider, node for node."""

from __future__ import annotations

from pathlib import Path

import libcst as cst
import pytest
from libcst.metadata import MetadataWrapper, PositionProvider

from initaudit.lint.parse.positions import Positions

SOURCES = {
    "lone CR": "import torch.nn as nn\r# c\nx = (1 +\r 2)\r",
    "mixed endings": "x = 1\r\ny = [1,\n 2]\r\nif y:\n\tpass\x0c\n# c\u2028 d\nz = f(a)(b)[c]",
    "decorators and parentheses": "@d(1)\nclass A(B, metaclass=M):\n    def f(self, *a, k=(1), **kw):\n"
                                  "        return ((a) if k else [x for x in kw])\n",
    "empty": "",
    "only blank lines": "\n\n",
    "no final newline": "x = 1",
}
ROOT = Path(__file__).parents[2]
REAL_FILES = [*sorted((ROOT / "tests" / "fixtures").rglob("*.py")),
              *(ROOT / "initaudit" / "lint" / name for name in ("model/file_model.py", "files/notebook.py", "parse/walk.py"))]


def assert_same_positions(source: str) -> None:
    module = cst.parse_module(source)
    expected = MetadataWrapper(module, unsafe_skip_copy=True).resolve(PositionProvider)
    ours = Positions(module)
    mismatches = [(type(node).__name__, want, ours[node]) for node, want in expected.items()
                  if ours[node] != want]
    assert mismatches == []


@pytest.mark.parametrize("source", SOURCES.values(), ids=list(SOURCES))
def test_positions_match_libcst(source: str) -> None:
    assert_same_positions(source)


@pytest.mark.parametrize("path", REAL_FILES, ids=lambda p: p.name)
def test_positions_match_libcst_on_real_files(path: Path) -> None:
    assert_same_positions(path.read_text(encoding="utf-8"))
