"""The directories a file puts on ``sys.path`` before importing from them:
``sys.path.append('%s/lib' % os.path.dirname(os.path.realpath(__file__)))`` followed by ``from
util import init_weights`` imports ``lib/util.py``. Worked out from the file's text: each
``sys.path.append(...)`` or ``sys.path.insert(i, ...)`` statement whose directory is a string
built from ``__file__`` and literals through ``os.path`` and ``pathlib`` (``dirname``, ``join``,
``Path(...).parent / "lib"``, ``%``, ``+``, ``format`` and f-strings), also through a name the
module assigns such a value before (``ROOT = Path(__file__).parent``). A relative directory is
taken from the file's own: a script is usually run where it lies."""

from __future__ import annotations

import ast
import os
import re
from pathlib import Path
from typing import Callable

_ADDED = re.compile(r"^[ \t]*sys\.path\.(append|insert)[ \t]*\(", re.MULTILINE)
#: How many lines one statement that adds a directory (or assigns a name it reads) may span.
_MAX_LINES = 8
#: How many names assigned from one another a directory is followed through.
_MAX_NAMES = 4
#: Templates whose fields take the value as it is (``%s``, ``{}``, ``{0}``): no width, which
#: could ask for a string of any size.
_PERCENT_FIELDS = re.compile(r"(?:[^%]|%[s%])*")
_FORMAT_FIELDS = re.compile(r"(?:[^{}]|\{\d*\}|\{\{|\}\})*")
_PATH_FUNCTIONS = frozenset({"dirname", "abspath", "realpath", "normpath", "fspath", "str", "Path", "PurePath"})
_PATH_METHODS = frozenset({"resolve", "absolute", "as_posix"})


def added_directories(path: Path, text: str) -> tuple[tuple[Path, ...], tuple[Path, ...]]:
    """The directories ``path``'s code inserts at the front of ``sys.path`` and those it appends
    to it, in the order written; directories whose name cannot be worked out are left out."""
    inserted: list[Path] = []
    appended: list[Path] = []
    if "sys.path" not in text:  # most files: found faster than by the pattern
        return (), ()
    for match in _ADDED.finditer(text):
        call = _statement(text, match.start())
        if not isinstance(call, ast.Call) or call.keywords:
            continue
        arguments = call.args[1:] if match.group(1) == "insert" else call.args
        try:
            value = _value(arguments[0], path, text, match.start(), 0) if len(arguments) == 1 else None
        except RecursionError:  # ``a + a + ...`` thousands of times over
            value = None
        if value is not None and "\0" not in value:
            directory = Path(os.path.normpath(path.parent / value))
            (inserted if match.group(1) == "insert" else appended).append(directory)
    return tuple(inserted), tuple(appended)


def _statement(text: str, start: int) -> ast.expr | None:
    """The expression of the statement starting its line at ``start`` (one line or a few)."""
    lines = text[start:].split("\n", _MAX_LINES)[:_MAX_LINES]
    for count in range(1, len(lines) + 1):
        try:
            tree = ast.parse("\n".join(lines[:count]).strip())
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            continue
        statement = tree.body[0] if len(tree.body) == 1 else None
        if isinstance(statement, ast.Expr):
            return statement.value
        return statement.value if isinstance(statement, ast.Assign) else None
    return None


def _value(node: ast.expr, path: Path, text: str, before: int, names: int) -> str | None:
    """The string ``node`` evaluates to in ``path``'s module, or None where it cannot be known."""
    if isinstance(node, ast.Constant):
        return node.value if isinstance(node.value, str) else None
    if isinstance(node, ast.Name):
        return str(path) if node.id == "__file__" else _assigned(node.id, path, text, before, names)
    if isinstance(node, ast.JoinedStr):
        parts = [_formatted(value, path, text, before, names) for value in node.values]
        return None if None in parts else "".join(parts)  # type: ignore[arg-type]
    if isinstance(node, ast.BinOp):
        return _operation(node, path, text, before, names)
    if isinstance(node, ast.Attribute):
        return _attribute(node, path, text, before, names)
    if isinstance(node, ast.Subscript) and isinstance(node.value, ast.Attribute) and node.value.attr == "parents" \
            and isinstance(node.slice, ast.Constant) and isinstance(node.slice.value, int):
        inner = _value(node.value.value, path, text, before, names)  # ``Path(__file__).parents[1]``
        return None if inner is None else _parent(inner, node.slice.value + 1)
    if isinstance(node, ast.Call):
        return _call(node, path, text, before, names)
    return None


def _formatted(node: ast.expr, path: Path, text: str, before: int, names: int) -> str | None:
    if isinstance(node, ast.FormattedValue):
        plain = node.conversion == -1 and node.format_spec is None
        return _value(node.value, path, text, before, names) if plain else None
    return _value(node, path, text, before, names)


def _operation(node: ast.BinOp, path: Path, text: str, before: int, names: int) -> str | None:
    left = _value(node.left, path, text, before, names)
    if left is None:
        return None
    if isinstance(node.op, ast.Mod):  # ``'%s/lib' % root``, ``'%s/%s' % (root, 'lib')``
        items = node.right.elts if isinstance(node.right, ast.Tuple) else [node.right]
        values = [_value(item, path, text, before, names) for item in items]
        plain = _PERCENT_FIELDS.fullmatch(left) is not None
        return None if None in values or not plain else _applied(lambda: left % tuple(values))
    right = _value(node.right, path, text, before, names)
    if right is None:
        return None
    if isinstance(node.op, ast.Add):
        return left + right
    return os.path.join(left, right) if isinstance(node.op, ast.Div) else None


def _attribute(node: ast.Attribute, path: Path, text: str, before: int, names: int) -> str | None:
    """``Path(__file__).parent``."""
    if node.attr != "parent":
        return None
    inner = _value(node.value, path, text, before, names)
    return None if inner is None else _parent(inner, 1)


def _call(node: ast.Call, path: Path, text: str, before: int, names: int) -> str | None:
    function = node.func
    if node.keywords or any(isinstance(arg, ast.Starred) for arg in node.args):
        return None
    if isinstance(function, ast.Attribute) and function.attr == "format" and isinstance(function.value, ast.Constant):
        values = [_value(arg, path, text, before, names) for arg in node.args]
        template = function.value.value
        plain = isinstance(template, str) and _FORMAT_FIELDS.fullmatch(template) is not None
        return None if None in values or not plain else _applied(lambda: template.format(*values))
    if isinstance(function, ast.Attribute) and function.attr in _PATH_METHODS and not node.args:
        return _value(function.value, path, text, before, names)  # ``Path(...).resolve()``
    name = function.attr if isinstance(function, ast.Attribute) else getattr(function, "id", None)
    values = [_value(arg, path, text, before, names) for arg in node.args]
    if name is None or not values or None in values:
        return None
    if name == "join" and not isinstance(getattr(function, "value", None), ast.Constant):  # not ``"/".join``
        return os.path.join(*values)  # type: ignore[arg-type]
    if name not in _PATH_FUNCTIONS or len(values) != 1:
        return None
    return _parent(values[0], 1) if name == "dirname" else values[0]  # type: ignore[arg-type]


def _assigned(name: str, path: Path, text: str, before: int, names: int) -> str | None:
    """The value of the last module-level ``name = ...`` written before ``before``."""
    if names >= _MAX_NAMES:
        return None
    found = None
    for match in re.finditer(rf"^{re.escape(name)}[ \t]*=(?!=)", text[:before], re.MULTILINE):
        found = match
    statement = _statement(text, found.start()) if found is not None else None
    return None if statement is None else _value(statement, path, text, found.start(), names + 1)  # type: ignore[union-attr]


def _parent(value: str, levels: int) -> str:
    for _ in range(levels):
        parent = os.path.dirname(value.rstrip("/") or "/")
        if parent == value:  # the top: ``parents[n]`` for any larger n is past it
            break
        value = parent
    return value


def _applied(format_: Callable[[], object]) -> str | None:
    """The string a ``%`` or ``format`` template gives, or None where it raises."""
    try:
        result = format_()
    except (TypeError, ValueError, KeyError, IndexError):
        return None
    return result if isinstance(result, str) else None
