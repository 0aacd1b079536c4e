"""Where each node of a libcst tree is written: the ranges libcst's PositionProvider gives, at a
fraction of its cost.

The provider regenerates the file's code and, for every token, splits it on line breaks to track
line and column, building two position objects per node. Here one code generation only notes,
per node, the index of the token where it starts and ends; offsets follow from the tokens'
cumulative lengths, and a line and column from a binary search in the table of line starts,
when (and only if) a node's position is asked for.
"""

from __future__ import annotations

from bisect import bisect_right
from itertools import accumulate

import libcst as cst
from libcst._nodes.internal import CodegenState
from libcst.metadata import CodePosition, CodeRange

from initaudit.lint.files.source import line_starts


class _TokenSpans(CodegenState):
    """Code generation that records each node's (first token, end token) indices; a node's
    syntactic range (without owned whitespace) wins over its whole range, as for libcst."""

    def __init__(self, module: cst.Module) -> None:
        super().__init__(default_indent=module.default_indent, default_newline=module.default_newline)
        self.spans: dict[int, tuple[int, int]] = {}
        self._starts: list[int] = []

    def before_codegen(self, node: cst.CSTNode) -> None:
        self._starts.append(len(self.tokens))

    def after_codegen(self, node: cst.CSTNode) -> None:
        start = self._starts.pop()
        self.spans.setdefault(id(node), (start, len(self.tokens)))

    def pop_trailing_newline(self) -> None:
        """Kept: positions are counted with it, as libcst counts them (and the offsets stay valid)."""

    def record_syntactic_position(self, node: cst.CSTNode, *, start_node: cst.CSTNode | None = None,
                                  end_node: cst.CSTNode | None = None) -> _Syntactic:
        return _Syntactic(self, node, start_node, end_node)


class _Syntactic:
    """The context manager ``record_syntactic_position`` returns (a class: it runs for most nodes)."""

    __slots__ = ("state", "node", "start_node", "end_node", "start")

    def __init__(self, state: _TokenSpans, node: cst.CSTNode, start_node: cst.CSTNode | None,
                 end_node: cst.CSTNode | None) -> None:
        self.state, self.node, self.start_node, self.end_node = state, node, start_node, end_node

    def __enter__(self) -> None:
        self.start = len(self.state.tokens)

    def __exit__(self, *exc_info: object) -> None:
        spans = self.state.spans
        start = spans[id(self.start_node)][0] if self.start_node is not None else self.start
        end = spans[id(self.end_node)][1] if self.end_node is not None else len(self.state.tokens)
        spans[id(self.node)] = (start, end)


class Positions:
    """Ranges of the nodes of ``module`` (which must stay alive: nodes are keyed by identity)."""

    def __init__(self, module: cst.Module) -> None:
        state = _TokenSpans(module)
        module._codegen(state)
        self._spans = state.spans
        self._offsets = [0, *accumulate(map(len, state.tokens))]
        # Counted in the generated code, as libcst counts: it matches the text line for line.
        self._line_starts = line_starts("".join(state.tokens))

    def __contains__(self, node: cst.CSTNode) -> bool:
        return id(node) in self._spans

    def __getitem__(self, node: cst.CSTNode) -> CodeRange:
        start, end = self._spans[id(node)]
        return CodeRange(self._position(self._offsets[start]), self._position(self._offsets[end]))

    def _position(self, offset: int) -> CodePosition:
        line = bisect_right(self._line_starts, offset)
        return CodePosition(line, offset - self._line_starts[line - 1])
