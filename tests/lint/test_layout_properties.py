"""Property: whatever the layout (line endings, form feeds, separators, tabs, BOM, coding cookie,
no final newline), findings point at their text, ``# noqa`` silences its own line only, and
``--fix`` changes exactly the intended spans, keeps every other byte, parses and settles."""

from __future__ import annotations

import ast
from dataclasses import dataclass

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from initaudit import knowledge
from initaudit.config import Config
from initaudit.lint.run.engine import lint_file

CONFIG = Config(select=("IA104",))
ALIASES = sorted(knowledge.DEPRECATED_ALIASES)
ENDINGS = ["\n", "\r\n", "\r"]
#: Not line breaks for Python, but for ``str.splitlines``; the latin-1 file gets the ones it can encode.
ODD = ["\x0c", "\x1c", "\x1d", "\x1e", "\x85", "\u2028", "\u2029", "\t", "é"]
LATIN_1_ODD = [c for c in ODD if ord(c) < 0x100]


@dataclass(frozen=True)
class Call:
    """``nn.init.<alias>(w)`` at an indentation, maybe under ``if True:``, maybe with ``# noqa``."""

    alias: str
    indent: str
    noqa: bool


@dataclass(frozen=True)
class Filler:
    text: str  # a line without findings: blank, comment, string assignment, trailing blanks


@dataclass(frozen=True)
class Layout:
    encoding: str  # utf-8, utf-8-sig (BOM) or latin-1 (with a cookie)
    lines: list[tuple[Call | Filler, str]]  # each line and its ending
    final_newline: bool

    def render(self, fixed: bool) -> str:
        header = "# -*- coding: latin-1 -*-\n" if self.encoding == "latin-1" else ""
        parts = [header, "import torch.nn as nn\n"]
        for index, (line, ending) in enumerate(self.lines):
            last = index == len(self.lines) - 1
            parts.append(self._text(line, fixed) + ("" if last and not self.final_newline else ending))
        return "".join(parts)

    def _text(self, line: Call | Filler, fixed: bool) -> str:
        if isinstance(line, Filler):
            return line.text
        name = knowledge.DEPRECATED_ALIASES[line.alias] if fixed and not line.noqa else line.alias
        call = f"nn.init.{name}(w)" + ("  # noqa: IA104" if line.noqa else "")
        return f"if True:\n{line.indent}{call}" if line.indent else call

    def expected(self, text: str) -> list[tuple[int, int, int, int]]:
        """Ranges of the calls' names that must be reported, as the interpreter's parser places
        them (``ast`` columns are UTF-8 bytes; what precedes a call on its line is ASCII)."""
        calls = [line for line, _ in self.lines if isinstance(line, Call)]
        names = [node.func for node in ast.walk(ast.parse(text)) if isinstance(node, ast.Call)
                 and isinstance(node.func, ast.Attribute) and node.func.attr in knowledge.DEPRECATED_ALIASES]
        names.sort(key=lambda node: (node.lineno, node.col_offset))
        assert len(names) == len(calls)
        return [(n.lineno, n.col_offset + 1, n.end_lineno or 0, (n.end_col_offset or 0) + 1)
                for n, call in zip(names, calls, strict=True) if not call.noqa]


@st.composite
def layouts(draw: st.DrawFn) -> Layout:
    encoding = draw(st.sampled_from(["utf-8", "utf-8-sig", "latin-1"]))
    odd = st.text(st.sampled_from(LATIN_1_ODD if encoding == "latin-1" else ODD), max_size=3)
    filler = st.one_of(
        st.just(Filler("")),
        odd.map(lambda s: Filler(f"# note {s} end")),
        odd.map(lambda s: Filler(f"x = '{s}'  # {s}")),
        st.sampled_from([" ", "\t", "  \t"]).map(lambda s: Filler(f"y = 1{s}")),
    )
    call = st.builds(Call, st.sampled_from(ALIASES), st.sampled_from(["", "    ", "\t"]), st.booleans())
    lines = draw(st.lists(st.tuples(st.one_of(call, filler), st.sampled_from(ENDINGS)), min_size=1, max_size=8))
    return Layout(encoding, lines, draw(st.booleans()))


def encode(layout: Layout, fixed: bool) -> bytes:
    return layout.render(fixed).encode(layout.encoding)


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(layouts())
def test_findings_noqa_and_fixes_follow_the_layout(layout: Layout) -> None:
    data = encode(layout, fixed=False)
    result = lint_file("layout.py", data, CONFIG)
    assert result.error is None and result.parsed
    reported = [(d.line, d.column, d.end_line, d.end_column) for d in result.diagnostics]
    assert reported == layout.expected(result.source.text)

    fixed = lint_file("layout.py", data, CONFIG, fix=True)
    expected = encode(layout, fixed=True)
    output = data if fixed.fixed_text is None else fixed.source.encode(fixed.fixed_text)
    assert output == expected  # only the intended spans changed: endings, encoding, BOM kept
    compile(output, "layout.py", "exec", dont_inherit=True)
    again = lint_file("layout.py", output, CONFIG, fix=True)
    assert again.fixed_text is None and [d.line for d in again.diagnostics] == []
