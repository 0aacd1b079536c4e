"""Which files can hold a finding at all: decided from the text, before any parse.

Every finding needs code that names an init module (``init`` as a whole word, so ``__init__`` and
``_init_weights`` do not count), calls an in-place initialising method, creates a Parameter (or
another trainable tensor), or
builds a torch layer inside a ``forward`` method (IA108), or a suppression comment naming an
initaudit code (IA100).
Most files have none. Many others only mention them in docstrings and comments (API examples,
"init" in prose), so a file that passes on its raw text is checked again with its string literals
and comments blanked out. Of an f-string only its replacement fields are kept: they hold code.
"""

from __future__ import annotations

import functools
import re

from initaudit import knowledge

#: The word ``init``, ``.zero_(`` and the like, a call to ``Parameter`` or an import of it under
#: another name, a tensor made trainable (``requires_grad=True``, ``.requires_grad_()``). Each
#: alternative starts with its literal (word boundaries are checked after it), which makes the
#: scan several times faster.
_TRIGGER = re.compile(r"init(?!\w)(?<!\winit)|\.(?:zero_|fill_|copy_|normal_|uniform_)\("
                      r"|Parameter(?<!\wParameter)(?:\s*\(|\s+as\s)"
                      r"|requires_grad(?:_\(|\s*=\s*True)")

#: Comments and string literals, read left to right as the tokenizer reads them, so that a quote
#: inside a comment and a ``#`` inside a string are taken for what they are. A backslash escapes
#: any character, a line break included (a continued line inside a literal).
STRINGS_AND_COMMENTS = re.compile(
    r"#[^\r\n]*"
    r'|"""[^"\\]*(?:(?:\\.|"(?!""))[^"\\]*)*"""'
    r"|'''[^'\\]*(?:(?:\\.|'(?!''))[^'\\]*)*'''"
    r'|"[^"\\\r\n]*(?:\\.[^"\\\r\n]*)*"'
    r"|'[^'\\\r\n]*(?:\\.[^'\\\r\n]*)*'",
    re.DOTALL,
)
#: The prefix letters a string literal starts with (``rb``, ``f``), read backwards from its quote.
_PREFIX = re.compile(r"(?<![\w])[A-Za-z]{1,2}\Z")
#: The letters that end the prefix of an f- or t-string (``f"``, ``rf"``, ``fr"``, ``tb"``...).
_PREFIX_LETTERS = frozenset("fFtTrRbB")
#: What an f-string's replacement fields start, end or quote.
_FIELD_MARK = re.compile(r"[{}\"']")


#: A ``forward`` method's first line, with its indentation (its body is what is indented more).
_FORWARD = re.compile(r"^([ \t]+)(?:async[ \t]+)?def[ \t]+forward\b", re.MULTILINE)
#: A method's first line, with its indentation and its name.
_METHOD = re.compile(r"^([ \t]+)(?:async[ \t]+)?def[ \t]+(\w+)", re.MULTILINE)
#: The torch layers that IA108 reports when ``forward`` builds them.
_LAYERS = knowledge.WEIGHT_LAYERS | knowledge.NORM_LAYERS
#: ``import Linear as Dense``: the names a layer class is imported as.
_LAYER_ALIAS = re.compile(rf"\b(?:{'|'.join(sorted(_LAYERS))})\s+as\s+(\w+)")

#: A suppression comment naming one of initaudit's codes: IA100 may judge it in any file.
_OWN_SUPPRESSION = re.compile(r"(?:noqa|ignore\[)[^\r\n]*\bIA[0-9]", re.IGNORECASE)


def may_have_findings(text: str) -> bool:
    return (initialising_code(text) or has_own_suppression(text)
            or ("forward" in text and builds_layer_in_forward(without_strings(text))))


def has_own_suppression(text: str) -> bool:
    return _OWN_SUPPRESSION.search(text) is not None


def builds_layer_in_forward(code: str) -> bool:
    """Whether a ``forward`` method in ``code`` (strings and comments blanked), or a method the
    code calls on ``self`` (which ``forward`` may), calls a torch layer class that has weights,
    by its own name or one it is imported as: IA108 without any init."""
    if _FORWARD.search(code) is None:
        return False
    aliases = _LAYER_ALIAS.findall(code)
    call = _layer_call(frozenset(aliases))
    for method in _METHOD.finditer(code):
        name = method.group(2)
        if name != "forward" and (name == "__init__" or f"self.{name}(" not in code):
            continue
        end = re.compile(rf"\n[ \t]{{0,{len(method.group(1))}}}(?=[^\s)\]}}])").search(code, method.end())
        if call.search(code, method.end(), len(code) if end is None else end.start()):
            return True
    return False


@functools.lru_cache(maxsize=16)
def _layer_call(aliases: frozenset[str]) -> re.Pattern[str]:
    names = "|".join(sorted(_LAYERS | aliases, key=len, reverse=True))
    return re.compile(rf"(?<!\w)(?:{names})\s*\(")


def initialising_code(text: str) -> bool:
    """Whether the code of ``text`` (not its strings and comments) can initialise a tensor."""
    return _TRIGGER.search(text) is not None and _TRIGGER.search(without_strings(text)) is not None


@functools.lru_cache(maxsize=2)  # the prefilter and the project's links read the same file's code
def without_strings(text: str) -> str:
    """The code of ``text`` with string literals (but the fields of f-strings) and comments blanked."""
    return STRINGS_AND_COMMENTS.sub(_blank, text)


def _blank(match: re.Match[str]) -> str:
    start = match.start()
    if start == 0 or match.string[start - 1] not in _PREFIX_LETTERS:
        return " "  # most literals: no prefix, or one without f or t (checked without a search)
    prefix = _PREFIX.search(match.string, max(start - 3, 0), start)
    if prefix is not None and any(c in "fFtT" for c in prefix.group()):
        return _replacement_fields(match.group())  # f- and t-strings contain expressions
    return " "


def _replacement_fields(literal: str) -> str:
    """An f- or t-string with only its replacement fields (``{...}``, nested ones included) kept:
    the text around them is no code, though it may spell some (generated source)."""
    quote = 3 if literal[:3] in ('"""', "'''") else 1
    body, kept, depth, start, index = literal[quote:-quote], [], 0, 0, 0
    while (mark := _FIELD_MARK.search(body, index)) is not None:
        index, char = mark.start(), mark.group()
        if depth == 0:
            if char == "{" and body[index + 1:index + 2] != "{":
                depth, start = 1, index
            index += 2 if char in "{}" and body[index + 1:index + 2] == char else 1  # ``{{``: a brace
        elif char in "{}":
            depth += 1 if char == "{" else -1
            index += 1
            if depth == 0:
                kept.append(body[start:index])
        else:  # a string inside a field, braces and all
            end = body.find(char, index + 1)
            index = len(body) if end < 0 else end + 1
    if depth:
        kept.append(body[start:])
    return f"{literal[:quote]} {' '.join(kept)} {literal[-quote:]}"
