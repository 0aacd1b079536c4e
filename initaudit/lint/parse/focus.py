"""The part of a checked file that its findings can come from, so that libcst parses only that.

The parts are the top-level statements and, in a class, its header (decorators, bases, class
attributes) and each method or nested class. A finding starts at a part that can initialise
(the screen's test, asked of each node), builds a layer in ``forward`` (IA108), carries a
suppression comment (IA100), or calls another file's initialiser: a *seed*. Judging it needs
what uses it, transitively (the class holding a block, the code applying a helper: where the
activation that follows is found; a seed method makes its class such a user), and everything
those use, transitively (the layers a holder builds, the helpers it calls; a class brings its
``__init__``, ``forward``, dunder, class and static methods). A part uses the module-level names
it reads, as the interpreter's symbol table resolves them (a function's local ``tensor`` is not
the module's function ``tensor``), and the methods of kept classes named like an attribute it
spells. The rest (most of a large file: data tables, tests, unrelated classes) becomes empty
lines (a left-out method the line ``pass``), so that every kept node keeps its line and column.

Imports and compound statements (``if``, ``try``, ``for``...) are always kept: they bind names
conditionally and cost little. The file is parsed whole when its slice would keep nearly all of
it, or when names are bound or read in ways words do not show (a star import, ``globals()``).
"""

from __future__ import annotations

import ast
import dataclasses
import re
import symtable
from bisect import bisect_right
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

from initaudit.lint.files.source import line_starts

_NOT_LINE_BREAK = re.compile(r"[^\r\n]+")
#: Statements that can be left out when nothing kept uses them; every other kind is kept.
_OPTIONAL = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Assign, ast.AnnAssign,
             ast.AugAssign, ast.Expr, ast.Assert, ast.Delete, ast.Pass)
#: The statements of a class body that are parts of their own: the rest go with its header.
_MEMBERS = _DEFINITIONS = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)
#: Calls that read names from strings.
_DYNAMIC_NAMES = frozenset({"globals", "locals", "vars", "eval", "exec"})
#: A slice that keeps more than this share of the text is not worth making.
_WORTH_SHARE = 0.85


@dataclass(frozen=True)
class _Part:
    """A top-level statement (those sharing lines, ``a = 1; b = 2``, form one), a class's header
    (decorators, bases and the body's other statements), or one method or nested class of it."""

    start: int
    end: int
    #: Module-level names it binds and reads; for a member, its own name.
    binds: frozenset[str]
    reads: frozenset[str]
    #: Every identifier it spells (attribute names included): which members it may call.
    mentions: frozenset[str] = frozenset()
    #: A member's class header (an index), and the indentation of its first line.
    owner: int | None = None
    indent: str = ""
    optional: bool = True
    #: A header's members that go wherever its class goes (``__init__``, ``forward``...).
    essentials: tuple[int, ...] = ()
    #: Whether one of its nodes can initialise (the screen's test).
    initialises: bool = False


def focused_text(text: str, tree: ast.Module, initialises: Callable[[ast.AST], bool],
                 text_seed: Callable[[str], bool], seed_names: frozenset[str] = frozenset()) -> str | None:
    """``text`` with the statements and class members no finding can need blanked; None when
    that would leave out too little to be worth it. A part is a seed where ``initialises`` holds
    for one of its nodes (asked of each node, parents first), ``text_seed`` for its text (a
    class's text seeds its header), or it spells one of ``seed_names`` (``blocks.init_layer``:
    both words)."""
    if _reads_names_dynamically(tree):
        return None
    parts = _Parts(text, tree, initialises)
    if len(parts.all) < 2:
        return None
    spelled = [frozenset(name.split(".")) for name in seed_names]
    seeds = [index for index, part in enumerate(parts.all)
             if part.initialises or any(words <= part.mentions for words in spelled)
             or text_seed(text[part.start:part.end])]
    if not seeds:
        return None
    kept = parts.needed(seeds)
    left_out = [part for index, part in enumerate(parts.all)
                if index not in kept and part.optional and (part.owner is None or part.owner in kept)]
    if sum(part.end - part.start for part in left_out) < (1 - _WORTH_SHARE) * len(text):
        return None
    pieces, position = [], 0
    for part in sorted(left_out, key=lambda part: part.start):
        blank = _NOT_LINE_BREAK.sub("", text[part.start:part.end])
        if part.owner is not None:  # a class body must keep a statement
            blank = part.indent + "pass" + blank
        pieces += [text[position:part.start], blank]
        position = part.end
    pieces.append(text[position:])
    return "".join(pieces)


class _Parts:
    """The parts of a module and how they use one another."""

    def __init__(self, text: str, tree: ast.Module, initialises: Callable[[ast.AST], bool]) -> None:
        self._text = text
        self._initialises = initialises
        self._starts = line_starts(text)
        reads = _global_reads(text)
        self._scope_lines = [line for line, _ in reads]
        self._reads = reads
        self.all: list[_Part] = []
        for group in _line_groups(tree.body):
            if len(group) == 1 and _splits(group[0]):
                self._add_class(group[0])  # type: ignore[arg-type]
            else:
                bound = frozenset(_bound(group))
                # ``__all__`` and the like are read by name from outside (a fix aliases what ``__all__`` exports).
                optional = all(isinstance(node, _OPTIONAL) for node in group) and not any(map(_is_dunder, bound))
                self.all.append(self._part(group, binds=bound, optional=optional))
        self._binders: dict[str, list[int]] = {}
        self._member_binders: dict[str, list[int]] = {}
        for index, part in enumerate(self.all):
            binders = self._binders if part.owner is None else self._member_binders
            for name in part.binds:
                binders.setdefault(name, []).append(index)
        self._users: dict[int, list[int]] = {}
        for index in range(len(self.all)):
            for used in self._uses(index):
                if used != index:
                    self._users.setdefault(used, []).append(index)

    def needed(self, seeds: list[int]) -> set[int]:
        """What uses the seeds, transitively, and all that uses, transitively; a member counts
        only once its class does."""
        holders = _closure(seeds, self._holders)
        kept = set(holders)
        waiting: dict[int, list[int]] = {}
        pending = list(kept)
        while pending:
            for used in self._uses(pending.pop()):
                owner = self.all[used].owner
                if used in kept:
                    continue
                if owner is not None and owner not in kept:
                    waiting.setdefault(owner, []).append(used)
                    continue
                kept.add(used)
                pending += [used, *waiting.pop(used, ())]
        return kept

    def _uses(self, index: int) -> Iterator[int]:
        part = self.all[index]
        for name in part.reads:
            yield from self._binders.get(name, ())
        for name in part.mentions:
            yield from self._member_binders.get(name, ())
        yield from part.essentials

    def _holders(self, index: int) -> Iterator[int]:
        """What uses a part: a member is also used by its class (a seed method makes its class one)."""
        yield from self._users.get(index, ())
        owner = self.all[index].owner
        if owner is not None:
            yield owner

    def _add_class(self, node: ast.ClassDef, owner: int | None = None) -> None:
        """The class's header part (its span: the whole class) and, one by one, its members
        (a nested class split the same way)."""
        header = len(self.all)
        members = [group for group in _line_groups(node.body)
                   if all(isinstance(inner, _MEMBERS) for inner in group)]
        member_nodes = {id(inner) for group in members for inner in group}
        rest = [inner for inner in node.body if id(inner) not in member_nodes]
        first, last = _first_line(node), node.end_lineno or node.lineno
        parts = [*node.decorator_list, *node.bases, *node.keywords, *rest]
        spelled, initialises = self._scan(parts)
        reads = set(self._nested_reads(first, node.body[0].lineno - 1)) | spelled
        self.all.append(_Part(self._offset(first), self._offset(last + 1), frozenset({node.name}),
                              frozenset(reads), spelled, owner, self._indent(first), initialises=initialises))
        essentials = []
        for group in members:
            index = len(self.all)
            names = frozenset(inner.name for inner in group)  # type: ignore[attr-defined]
            if any(name == "forward" or _is_dunder(name) for name in names) or any(map(_builds_its_class, group)):
                essentials.append(index)
            if len(group) == 1 and _splits(group[0]):
                self._add_class(group[0], owner=header)  # type: ignore[arg-type]
                continue
            self.all.append(dataclasses.replace(self._part(group, binds=names, optional=True), owner=header,
                                                indent=self._indent(_first_line(group[0]))))
        self.all[header] = dataclasses.replace(self.all[header], essentials=tuple(essentials))

    def _indent(self, line: int) -> str:
        text = self._text[self._offset(line):self._offset(line + 1)]
        return text[:len(text) - len(text.lstrip())]

    def _part(self, group: list[ast.stmt], *, binds: frozenset[str], optional: bool) -> _Part:
        first, last = _first_line(group[0]), group[-1].end_lineno or group[-1].lineno
        mentions, initialises = self._scan(group)
        # A definition's body reads through its scope (the symbol table's reads); any other
        # statement is read as spelled (its lambdas' parameters taken for reads: errs on keeping).
        definitions = [node for node in group if isinstance(node, _DEFINITIONS)]
        reads = set(mentions) if len(definitions) < len(group) else set()
        reads.update(name for node in definitions for name in _definition_reads(node))
        reads.update(self._nested_reads(first, last))
        return _Part(self._offset(first), self._offset(last + 1), binds, frozenset(reads),
                     mentions, optional=optional, initialises=initialises)

    def _scan(self, nodes: list[ast.AST]) -> tuple[frozenset[str], bool]:
        """In one walk (parents first, as the screen needs): the identifiers ``nodes`` spell,
        and whether one of their nodes can initialise."""
        names: set[str] = set()
        initialises = False
        pending = list(reversed(nodes))
        while pending:
            node = pending.pop()
            if isinstance(node, ast.Name):
                names.add(node.id)
            elif isinstance(node, ast.Attribute):
                names.add(node.attr)
            initialises = initialises or self._initialises(node)
            pending.extend(ast.iter_child_nodes(node))
        return frozenset(names), initialises

    def _nested_reads(self, first: int, last: int) -> Iterator[str]:
        """The module-level names read by the scopes that start on lines ``first``..``last``."""
        for index in range(bisect_right(self._scope_lines, first - 1), bisect_right(self._scope_lines, last)):
            yield from self._reads[index][1]

    def _offset(self, line: int) -> int:
        return self._starts[line - 1] if line <= len(self._starts) else len(self._text)


def _reads_names_dynamically(tree: ast.Module) -> bool:
    """A star import binds names no statement spells; ``globals()``, ``eval`` and the like read
    names from strings: then which statement uses which cannot be read from the words."""
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and any(alias.name == "*" for alias in node.names):
            return True
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in _DYNAMIC_NAMES:
            return True
    return False


def _is_dunder(name: str) -> bool:
    return name.startswith("__") and name.endswith("__")


def _builds_its_class(node: ast.stmt) -> bool:
    """A class or static method: a factory building its class (``cls(...)``) goes with it."""
    decorators = getattr(node, "decorator_list", ())
    return any(isinstance(d, ast.Name) and d.id in ("classmethod", "staticmethod") for d in decorators)


def _splits(node: ast.stmt) -> bool:
    """A class whose body starts on a line of its own: split into its header and members."""
    return isinstance(node, ast.ClassDef) and node.body[0].lineno > node.lineno


def _line_groups(body: list[ast.stmt]) -> Iterator[list[ast.stmt]]:
    """The statements of ``body``, those sharing a line in one group."""
    group: list[ast.stmt] = []
    for node, following in zip(body, [*body[1:], None]):
        group.append(node)
        if following is None or _first_line(following) > (node.end_lineno or node.lineno):
            yield group
            group = []


def _identifiers(node: ast.AST) -> Iterator[str]:
    for inner in ast.walk(node):
        if isinstance(inner, ast.Name):
            yield inner.id
        elif isinstance(inner, ast.Attribute):
            yield inner.attr


def _closure(start: list[int], neighbours: Callable[[int], Iterable[int]]) -> set[int]:
    found = set(start)
    pending = list(found)
    while pending:
        for other in neighbours(pending.pop()):
            if other not in found:
                found.add(other)
                pending.append(other)
    return found


def _global_reads(text: str) -> list[tuple[int, frozenset[str]]]:
    """For each scope nested in the module (functions, classes, lambdas, comprehensions), by its
    first line: the module-level names it or its own nested scopes read."""
    found: list[tuple[int, frozenset[str]]] = []

    def gather(table: symtable.SymbolTable) -> set[str]:
        names = _reads_of(table)
        for child in table.get_children():
            names |= gather(child)
        return names

    for child in symtable.symtable(text, "<focus>", "exec").get_children():
        if child.get_type() == "class":  # its own reads, and its members' apart
            found.append((child.get_lineno(), frozenset(_reads_of(child))))
            found += [(member.get_lineno(), frozenset(gather(member))) for member in child.get_children()]
        else:
            found.append((child.get_lineno(), frozenset(gather(child))))
    return sorted(found, key=lambda item: item[0])


def _reads_of(table: symtable.SymbolTable) -> set[str]:
    return {symbol.get_name() for symbol in table.get_symbols()
            if symbol.is_global() and (symbol.is_referenced() or symbol.is_assigned())}


def _definition_reads(node: ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef) -> Iterator[str]:
    """What a definition reads where it is defined: its decorators, and a function's defaults
    and annotations or a class's bases."""
    if isinstance(node, ast.ClassDef):
        outer = [*node.decorator_list, *node.bases, *node.keywords]
    else:
        outer = [*node.decorator_list, *_argument_parts(node.args), *filter(None, [node.returns])]
    for inner in outer:
        yield from _identifiers(inner)


def _argument_parts(arguments: ast.arguments) -> list[ast.AST]:
    """Defaults and annotations: evaluated where the function is defined."""
    every = [*arguments.posonlyargs, *arguments.args, *arguments.kwonlyargs,
             *filter(None, (arguments.vararg, arguments.kwarg))]
    return [*arguments.defaults, *filter(None, arguments.kw_defaults),
            *(argument.annotation for argument in every if argument.annotation is not None)]


def _first_line(node: ast.stmt) -> int:
    decorators = getattr(node, "decorator_list", ())
    return min([node.lineno, *(decorator.lineno for decorator in decorators)])


def _bound(nodes: list[ast.stmt]) -> Iterator[str]:
    """The names the statements bind at module level (over-approximated: any stored name)."""
    for node in nodes:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            yield node.name
            continue
        for inner in ast.walk(node):
            if isinstance(inner, ast.Name) and not isinstance(inner.ctx, ast.Load):
                yield inner.id
            elif isinstance(inner, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                yield inner.name
            elif isinstance(inner, ast.alias):
                yield (inner.asname or inner.name).split(".")[0]
