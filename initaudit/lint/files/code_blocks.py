"""The code blocks of a Markdown or reStructuredText document, found line by line.

Markdown: fenced blocks (```` ``` ```` or ``~~~``, at any indentation, so in list items too; an
unclosed fence runs to the end, as CommonMark has it). reST: the ``code-block``, ``code``,
``sourcecode``, ``testcode`` and ``doctest`` directives (after their option lines), and literal
blocks introduced by ``::``, which Sphinx highlights as Python by default.

A block is *tagged* Python (``python``, ``py``, ``python3``, ``py3``, ``ipython``, ``ipython3``,
Quarto's ``{python}``, MyST's ``{code-cell} ipython3``), a Python console session (``pycon``,
``doctest``, or any block whose first line starts with ``>>>``), *untagged*, or of another
language, which is not yielded. Each body line keeps, apart from its code, the prefix the code
does not include: the block's indentation, a console's ``>>> `` or ``... `` prompt, or a whole
output line of a console session (its code is then an empty line, so line numbers still match).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Iterator

_PYTHON = frozenset({"python", "py", "python3", "py3", "ipython", "ipython3"})
_CONSOLE = frozenset({"pycon", "python-console", "doctest"})
#: MyST directives whose argument names the language: ```{code-cell} ipython3
_MYST = frozenset({"code-cell", "code-block", "code", "sourcecode"})
_FENCE = re.compile(r"(?P<indent>[ \t]*)(?P<fence>`{3,}|~{3,})(?P<info>.*)")
_DIRECTIVE = re.compile(r"(?P<indent>[ \t]*)\.\.[ \t]+(?P<name>code-block|code|sourcecode|testcode|doctest)::"
                        r"(?P<argument>.*)")
_PROMPT = re.compile(r"(?:>>>|\.\.\.)(?: |$)")


@dataclass(frozen=True)
class Block:
    """Lines ``start`` (0-based) onwards of the document; ``tagged``: said to be Python, so a
    block that does not parse is worth a note rather than silence."""

    start: int
    lines: tuple[str, ...]  # as in the document, line breaks included
    prefixes: tuple[str, ...]  # of each line, what is not code
    indent: str  # the indentation every line of code gets back
    tagged: bool
    console: bool

    @property
    def code(self) -> str:
        return "".join(line[len(prefix):] for line, prefix in zip(self.lines, self.prefixes, strict=True))


def markdown_blocks(lines: list[str]) -> Iterator[Block]:
    index = 0
    while index < len(lines):
        opening = _FENCE.fullmatch(_content(lines[index]))
        index += 1
        if opening is None or opening["fence"][0] == "`" and "`" in opening["info"]:
            continue
        fence = opening["fence"]
        closing = re.compile(rf"[ \t]*{re.escape(fence[0])}{{{len(fence)},}}[ \t]*")
        end = next((i for i in range(index, len(lines)) if closing.fullmatch(_content(lines[i]))), len(lines))
        kind = _markdown_kind(opening["info"])
        if kind is not None and end > index:
            yield _block(lines, index, end, opening["indent"], kind)
        index = end + 1


def rst_blocks(lines: list[str]) -> Iterator[Block]:
    index = 0
    while index < len(lines):
        content = _content(lines[index])
        directive = _DIRECTIVE.fullmatch(content)
        index += 1
        if directive is not None:
            width = len(directive["indent"])
            while index < len(lines) and _width(lines[index]) > width and lines[index].strip().startswith(":"):
                index += 1  # an option, :linenos: or :caption: text
            kind = _rst_kind(directive["name"], directive["argument"].strip())
        elif content.rstrip().endswith("::") and not _explicit_markup(content):
            width, kind = _width(content), ""
        else:
            continue
        start, end = _indented_body(lines, index, width)
        if kind is not None and end > start:
            indent = min((_leading(lines[i]) for i in range(start, end) if lines[i].strip()), key=len)
            yield _block(lines, start, end, indent, kind)
        index = max(end, index)


def _markdown_kind(info: str) -> str | None:
    """"python", "console", "" (untagged) or None (another language) for a fence's info string."""
    words = info.strip()
    if words.startswith("{"):  # {python}, {python echo=FALSE}, {.python .cell-code}, {code-cell} ipython3
        inner, _, after = words[1:].partition("}")
        name = re.split(r"[\s,]", inner.strip(), maxsplit=1)[0].lstrip(".")
        if name.lower() in _MYST:
            name = after.split()[0] if after.split() else ""
    else:
        name = words.split()[0] if words else ""
    return _kind(name)


def _rst_kind(directive: str, argument: str) -> str | None:
    if directive == "testcode":
        return "python"
    if directive == "doctest":
        return "console"
    return _kind(argument.split()[0] if argument else "")


def _kind(name: str) -> str | None:
    name = name.lower()
    if not name:
        return ""
    return "python" if name in _PYTHON else "console" if name in _CONSOLE else None


def _block(lines: list[str], start: int, end: int, indent: str, kind: str) -> Block:
    body = lines[start:end]
    prefixes = [_leading(line)[:len(indent)] for line in body]
    code = [_content(line)[len(prefix):] for line, prefix in zip(body, prefixes, strict=True)]
    first = next((line for line in code if line.strip()), "")
    console = kind == "console" or first.startswith(">>>")
    if console:
        prefixes = [prefix + _console_prefix(line) for prefix, line in zip(prefixes, code, strict=True)]
    return Block(start, tuple(body), tuple(prefixes), indent, tagged=kind != "", console=console)


def _console_prefix(line: str) -> str:
    """The prompt of a console line, or the whole line when it is the session's output."""
    prompt = _PROMPT.match(line)
    return prompt.group() if prompt is not None else line


def _indented_body(lines: list[str], index: int, width: int) -> tuple[int, int]:
    """The lines from ``index`` indented more than ``width``, blank ones between them included,
    without the blank lines around them: (start, end)."""
    start = index
    while start < len(lines) and not lines[start].strip():
        start += 1
    end = start
    for i in range(start, len(lines)):
        if lines[i].strip() and _width(lines[i]) <= width:
            break
        if lines[i].strip():
            end = i + 1
    return start, end


def _explicit_markup(content: str) -> bool:
    """A directive or comment (``.. note::``), or a title adornment of colons."""
    stripped = content.strip()
    return stripped.startswith("..") or len(stripped) > 2 and set(stripped) == {":"}


def _content(line: str) -> str:
    return line.rstrip("\r\n")


def _leading(line: str) -> str:
    content = _content(line)
    return content[:len(content) - len(content.lstrip(" \t"))]


def _width(line: str) -> int:
    return len(_leading(line))
