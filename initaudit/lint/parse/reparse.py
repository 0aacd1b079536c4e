"""Parsing an editor's buffer again after a small change, reusing what did not change.

libcst has no incremental parser, and a 300-line file costs it some 30 ms, with 12 ms more for
the positions of its nodes: most of what the language server spends on a keystroke, though a
keystroke changes one top-level statement. So the text is cut where each top-level statement
starts (the interpreter's syntax tree, built anyway to judge the grammar, says where), each piece
is parsed on its own, and a piece whose text has not changed since the last parse is taken from
then, with the positions of its nodes. The pieces join into one module whose code is the text,
character for character, and whose nodes have the positions a parse of the whole text gives.

libcst leaves a line break or an indentation unrecorded where it equals the module's default, so
pieces join exactly only when each reads the file's defaults as the whole file does: a text with
line breaks other than ``\\n``, or with blocks indented in more than one way, is parsed whole.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass

import libcst as cst
from libcst.metadata import CodePosition, CodeRange

from initaudit.lint.files.source import line_starts
from initaudit.lint.parse.positions import Positions
from initaudit.lint.parse.tree import parse_module

_DEFAULT_INDENT = "    "


@dataclass(frozen=True)
class _Piece:
    """A stretch of the text from the start of one top-level statement to the next, parsed alone."""

    module: cst.Module
    positions: Positions
    has_block: bool  # its statement opens an indented block: its module's indentation is the file's


class PiecedPositions:
    """The ranges of a joined module's nodes, from each piece's own ranges moved down by the
    lines before the piece."""

    def __init__(self, module: cst.Module, pieces: list[tuple[_Piece, int]],
                 replaced: dict[int, cst.CSTNode]) -> None:
        self._module = module
        self._pieces = pieces
        self._replaced = replaced  # joined statement -> the piece's own, which it copies
        self._whole: Positions | None = None

    def __contains__(self, node: cst.CSTNode) -> bool:
        node = self._replaced.get(id(node), node)
        return node is self._module or any(node in piece.positions for piece, _ in self._pieces)

    def __getitem__(self, node: cst.CSTNode) -> CodeRange:
        original = self._replaced.get(id(node), node)
        for piece, lines_before in self._pieces:
            if original in piece.positions:
                found = piece.positions[original]
                return CodeRange(CodePosition(found.start.line + lines_before, found.start.column),
                                 CodePosition(found.end.line + lines_before, found.end.column))
        if self._whole is None:  # the module itself: the one node that spans pieces
            self._whole = Positions(self._module)
        return self._whole[node]


class Reparser:
    """Parses successive versions of one text, keeping the pieces of the last version."""

    def __init__(self) -> None:
        self._pieces: dict[str, _Piece] = {}

    def parse(self, text: str, tree: ast.Module | None) -> tuple[cst.Module, PiecedPositions | None]:
        """The text's module and its nodes' positions; positions None where the text was parsed
        whole (they are then computed from the module when asked for). ``tree``: the
        interpreter's syntax tree of the text, None where it has none. Raises libcst's
        ParserSyntaxError as ``cst.parse_module`` does."""
        starts = _statement_starts(tree) if tree is not None and "\r" not in text else []
        if not starts:
            self._pieces = {}
            return parse_module(text), None
        offsets = line_starts(text)
        cuts = [0, *(offsets[line - 1] for line in starts[1:]), len(text)]
        texts = [text[start:end] for start, end in zip(cuts, cuts[1:])]
        try:
            pieces = self._pieces_of(texts)
        except cst.ParserSyntaxError:
            self._pieces = {}
            return parse_module(text), None
        indents = {piece.module.default_indent for piece in pieces if piece.has_block}
        if len(indents) > 1:
            self._pieces = {}
            return parse_module(text), None
        self._pieces = dict(zip(texts, pieces))
        return _join(pieces, [line - 1 for line in [1, *starts[1:]]], indents.pop() if indents else _DEFAULT_INDENT)

    def _pieces_of(self, texts: list[str]) -> list[_Piece]:
        """A piece per text, the last version's where it had that text; a text written twice is
        parsed again for its second place (a node stands at one place in a module)."""
        pieces, used = [], set()
        for text in texts:
            piece = self._pieces.get(text)
            if piece is None or text in used:
                piece = _parse_piece(text)
            used.add(text)
            pieces.append(piece)
        return pieces


def _statement_starts(tree: ast.Module) -> list[int]:
    """The line where each top-level statement starts (a decorator's, for a decorated one);
    statements sharing a line after ``;`` count once."""
    starts: list[int] = []
    end = 0
    for statement in tree.body:
        decorators = getattr(statement, "decorator_list", [])
        line = min([statement.lineno, *(decorator.lineno for decorator in decorators)])
        if line > end:
            starts.append(line)
        end = max(end, statement.end_lineno or statement.lineno)
    return starts


def _parse_piece(text: str) -> _Piece:
    module = parse_module(text)
    has_block = any(isinstance(getattr(statement, "body", None), cst.IndentedBlock) for statement in module.body)
    return _Piece(module, Positions(module), has_block)


def _join(pieces: list[_Piece], lines_before: list[int], indent: str) -> tuple[cst.Module, PiecedPositions]:
    """One module of the pieces' statements. What a piece has after its statement (blank lines,
    comments: its module's footer) leads the next piece's first statement, as in a whole parse."""
    body: list[cst.BaseStatement] = []
    replaced: dict[int, cst.CSTNode] = {}
    carried: tuple[cst.EmptyLine, ...] = ()
    for piece in pieces:
        statements = list(piece.module.body)
        if carried and statements:
            first = statements[0]
            statements[0] = first.with_changes(leading_lines=[*carried, *first.leading_lines])
            replaced[id(statements[0])] = first
            carried = ()
        body += statements
        carried = (*carried, *piece.module.footer)
    module = cst.Module(body=body, header=pieces[0].module.header, footer=carried, encoding="utf-8",
                        default_indent=indent, default_newline="\n",
                        has_trailing_newline=pieces[-1].module.has_trailing_newline)
    return module, PiecedPositions(module, list(zip(pieces, lines_before)), replaced)
