"""Python sources to fuzz the linter with, and the mutations applied to them.

Every mutation is a pure function of a ``random.Random`` and the input bytes, so a case is
reproducible from the campaign's seed and its index.
"""

from __future__ import annotations

import ast
import importlib.util
import random
import re
from pathlib import Path
from typing import Callable

from tests.fuzz.runner import REPOSITORY

#: The linter must never run the code it reads; injected statements create this file if it does.
SENTINEL = "initaudit-fuzz-executed"

Mutation = Callable[[random.Random, bytes], bytes]


def corpus(max_bytes: int) -> list[Path]:
    """examples/*.py, initaudit/**/*.py and, when installed, torch/nn/**/*.py, in a fixed order."""
    roots = [(REPOSITORY / "examples", "*.py"), (REPOSITORY / "initaudit", "**/*.py")]
    spec = importlib.util.find_spec("torch")  # finds torch without importing it
    if spec is not None and spec.submodule_search_locations:
        roots.append((Path(list(spec.submodule_search_locations)[0]) / "nn", "**/*.py"))
    files = [path for root, pattern in roots for path in sorted(root.glob(pattern))]
    return [path for path in files if 0 < path.stat().st_size <= max_bytes]


# ----------------------------------------------------------------------------- byte level

SPECIAL_BYTES = [b"\r", b"\r\n", b"\x0c", b"\x1c", "\u2028".encode(), b"\x00", b"\xef\xbb\xbf",
                 b"\x1a", "\x85".encode(), b"\xff\xfe", b"\xed\xa0\x80", b"\xc3", b"\t", b"\\"]
CODECS = ["rot13", "rot_13", "hex", "hex_codec", "zlib", "base64", "bz2", "uu", "quopri",
          "utf-16", "utf-32", "utf-7", "latin-1", "cp1252", "euc-jp", "idna", "punycode",
          "unicode_escape", "raw_unicode_escape", "utf-8-sig", "ascii", "undefined", "no-such-codec"]


def flip_bytes(rng: random.Random, data: bytes) -> bytes:
    buffer = bytearray(data or b"\0")
    for _ in range(rng.randint(1, 8)):
        buffer[rng.randrange(len(buffer))] ^= 1 << rng.randrange(8)
    return bytes(buffer)


def insert_bytes(rng: random.Random, data: bytes) -> bytes:
    at = rng.randint(0, len(data))
    return data[:at] + bytes(rng.randrange(256) for _ in range(rng.randint(1, 16))) + data[at:]


def delete_bytes(rng: random.Random, data: bytes) -> bytes:
    at = rng.randint(0, len(data))
    return data[:at] + data[at + rng.randint(1, 64):]


def insert_special(rng: random.Random, data: bytes) -> bytes:
    special = rng.choice(SPECIAL_BYTES)
    if rng.random() < 0.2:
        return special + data
    at = _line_start(rng, data) if rng.random() < 0.5 else rng.randint(0, len(data))
    return data[:at] + special * rng.choice((1, 1, 2, 50)) + data[at:]


def line_endings(rng: random.Random, data: bytes) -> bytes:
    ending = rng.choice((b"\r\n", b"\r", b"\x0c\n", "\u2028".encode()))
    if rng.random() < 0.5:
        return data.replace(b"\n", ending)
    lines = data.split(b"\n")
    return b"".join(line + (ending if rng.random() < 0.3 else b"\n") for line in lines)[:-1]


def coding_cookie(rng: random.Random, data: bytes) -> bytes:
    codec = rng.choice(CODECS)
    cookie = f"# -*- coding: {codec} -*-\n".encode()
    if rng.random() < 0.3:
        cookie = b"#!/usr/bin/env python\n" + cookie
    body = data
    if rng.random() < 0.4:
        try:  # the body really in that codec, where the codec can write text
            body = data.decode("utf-8").encode(codec)
        except (LookupError, UnicodeError, TypeError, ValueError):
            pass
    if rng.random() < 0.2:
        body = "é = 'ü'\n".encode("latin-1") + body
    return cookie + body


# ----------------------------------------------------------------------------- token level


def _lines(data: bytes) -> list[bytes]:
    return data.splitlines(keepends=True) or [b""]


def _line_start(rng: random.Random, data: bytes) -> int:
    starts = [0] + [match.end() for match in re.finditer(rb"\n", data)]
    return rng.choice(starts)


def _indent_at(rng: random.Random, lines: list[bytes]) -> tuple[int, bytes]:
    index = rng.randrange(len(lines) + 1)
    reference = lines[index] if index < len(lines) else lines[-1]
    return index, re.match(rb"[ \t]*", reference).group()


def duplicate_lines(rng: random.Random, data: bytes) -> bytes:
    lines = _lines(data)
    start = rng.randrange(len(lines))
    block = lines[start:start + rng.randint(1, 20)]
    return b"".join(lines[:start] + block * rng.randint(2, 50) + lines[start:])


def deep_nesting(rng: random.Random, data: bytes) -> bytes:
    depth = rng.choice((50, 99, 100, 200, 1000, 5000, 50_000))
    opener, closer = rng.choice(((b"(", b")"), (b"[", b"]"), (b"{", b"}"), (b"f(", b")"),
                                 (b"-(", b")"), (b"not (", b")"), (b"lambda: (", b")")))
    expression = opener * depth + b"1" + closer * depth
    if rng.random() < 0.3:
        expression = expression[:len(expression) - rng.randint(1, depth)]  # unbalanced
    return _insert_statement(rng, data, b"x = " + expression)


def nested_blocks(rng: random.Random, data: bytes) -> bytes:
    depth = rng.choice((20, 99, 101, 500))
    block = b"".join(b" " * level + b"if x:\n" for level in range(depth)) + b" " * depth + b"pass\n"
    return _insert_statement(rng, data, block.rstrip(b"\n"), indent=False)


def long_chain(rng: random.Random, data: bytes) -> bytes:
    length = rng.choice((100, 1000, 20_000))
    chain = rng.choice((b".weight", b".a", b"[0]", b"()", b".data.weight"))
    target = b"self.fc" + chain * length
    return _insert_statement(rng, data, b"nn.init.xavier_uniform(" + target + b")")


def huge_expression(rng: random.Random, data: bytes) -> bytes:
    terms = rng.choice((1000, 10_000, 100_000))
    operator = rng.choice((b" + ", b" * ", b" and ", b", ", b" if x else "))
    return _insert_statement(rng, data, b"y = " + operator.join([b"1"] * terms))


def long_line(rng: random.Random, data: bytes) -> bytes:
    text = b"s = '" + b"x" * rng.choice((10_000, 1_000_000)) + b"'"
    return _insert_statement(rng, data, text)


def swap_indentation(rng: random.Random, data: bytes) -> bytes:
    old, new = rng.choice(((b"    ", b"\t"), (b"\t", b"    "), (b"    ", b"  \t"), (b"    ", b" \x0c   ")))
    lines = _lines(data)
    share = rng.choice((0.1, 1.0))
    swapped = [line.replace(old, new) if line.startswith(old) and rng.random() < share else line
               for line in lines]
    return b"".join(swapped)


def truncate(rng: random.Random, data: bytes) -> bytes:
    if rng.random() < 0.5:
        return data[:rng.randint(0, len(data))]
    return data[:_line_start(rng, data)]


def delete_lines(rng: random.Random, data: bytes) -> bytes:
    lines = _lines(data)
    start = rng.randrange(len(lines))
    return b"".join(lines[:start] + lines[start + rng.randint(1, 10):])


# ----------------------------------------------------------------------------- structure aware

INIT_CALLS = [
    b"nn.init.xavier_uniform(self.fc.weight)",
    b"nn.init.xavier_normal(self.fc1.weight, gain=2)",
    b"torch.nn.init.kaiming_normal(m.weight)",
    b"init.normal(self.weight)",
    b"nn.init.constant(m.bias, 0)",
    b"nn.init.uniform(self.proj.weight, -0.1, 0.1)",
    b"nn.init.zeros_(self.fc.weight)",
    b"nn.init.constant_(self.head.weight, 0.5)",
    b"nn.init.xavier_uniform(\n    self.fc.weight,  # first\n    gain=nn.init.calculate_gain('relu'))",
    b"nn.init.xavier_uniform(self.fc.weight); nn.init.xavier_uniform(self.fc.weight)",
    b"(nn.init.xavier_uniform)(self.fc.weight)",
    b"nn.init.xavier_uniform(self.fc.weight) if x else nn.init.kaiming_uniform(self.fc.weight)",
]
COMMENTS = [b"  # noqa", b"  # noqa: IA104", b"  # noqa:IA1", b"  # initaudit: ignore[IA101,IA104]",
            b"  # noqa: IA999", b"  #noqa", b"  # NOQA: ia104", b"  # initaudit: ignore[", b""]
IMPORTS = [b"import torch\nimport torch.nn as nn\n", b"from torch import nn\n",
           b"from torch.nn.init import xavier_uniform, kaiming_normal as kn\n",
           b"from torch.nn import init\n", b"import torch.nn.init as init\n"]
MODEL = b"""class FuzzNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(4, 4)
        self.fc1 = nn.Linear(4, 4)
        nn.init.xavier_uniform(self.fc.weight)
        nn.init.zeros_(self.fc1.weight)

    def forward(self, x):
        return self.fc1(F.relu(self.fc(x)))
"""
EXECUTION_PROBES = [f"open({SENTINEL!r}, 'w').close()".encode(),
                    f"__import__('os').system('touch {SENTINEL}')".encode()]


def _insert_statement(rng: random.Random, data: bytes, statement: bytes, *, indent: bool = True) -> bytes:
    lines = _lines(data)
    index, indentation = _indent_at(rng, lines)
    if not indent:
        indentation = b""
    block = b"".join(indentation + line + b"\n" for line in statement.split(b"\n"))
    if index and not lines[index - 1].endswith((b"\n", b"\r")):
        block = b"\n" + block
    return b"".join(lines[:index]) + block + b"".join(lines[index:])


def _statement_starts(data: bytes, module_level: bool) -> list[tuple[int, int]]:
    """(line index, column) where a statement starts, when the source parses; else []."""
    try:
        tree = ast.parse(data)
    except Exception:  # SyntaxError, ValueError, RecursionError, MemoryError...
        return []
    nodes = tree.body[1:] if module_level else [n for n in ast.walk(tree) if isinstance(n, ast.stmt)]
    return sorted({(node.lineno - 1, node.col_offset) for node in nodes})


def _insert_at_statement(rng: random.Random, data: bytes, statement: bytes, *, module_level: bool = False) -> bytes:
    """Insert before a statement, indented as it is, so the result still parses; anywhere if it
    does not parse to begin with."""
    starts = _statement_starts(data, module_level)
    if not starts:
        return _insert_statement(rng, data, statement)
    index, column = rng.choice(starts)
    lines = _lines(data)
    indentation = lines[index][:column]
    block = b"".join(indentation + line + b"\n" for line in statement.split(b"\n"))
    return b"".join(lines[:index]) + block + b"".join(lines[index:])


def insert_init_call(rng: random.Random, data: bytes) -> bytes:
    for _ in range(rng.randint(1, 4)):
        data = _insert_at_statement(rng, data, rng.choice(INIT_CALLS) + rng.choice(COMMENTS))
    return rng.choice(IMPORTS) + data if rng.random() < 0.8 else data


def insert_model(rng: random.Random, data: bytes) -> bytes:
    imports = rng.choice(IMPORTS) + b"import torch.nn.functional as F\n"
    model = MODEL.replace(b"        nn.init.zeros_", b"        nn.init.zeros_" if rng.random() < 0.5
                          else b"        nn.init.normal")
    lines = _lines(data)
    at = rng.randrange(len(lines) + 1)
    return imports + b"".join(lines[:at]) + b"\n" + model + b"".join(lines[at:])


def insert_execution_probe(rng: random.Random, data: bytes) -> bytes:
    return _insert_at_statement(rng, data, rng.choice(EXECUTION_PROBES), module_level=True)


BYTE_LEVEL: list[Mutation] = [flip_bytes, insert_bytes, delete_bytes, insert_special, line_endings,
                              coding_cookie]
TOKEN_LEVEL: list[Mutation] = [duplicate_lines, deep_nesting, nested_blocks, long_chain,
                               huge_expression, long_line, swap_indentation, truncate, delete_lines]
STRUCTURE: list[Mutation] = [insert_init_call, insert_model, insert_execution_probe]


def mutate_source(rng: random.Random, data: bytes) -> tuple[bytes, list[str]]:
    """Structure-aware insertions (most of the time), then, in most cases, one or two other
    mutations: a third of the files stay valid Python, so that --fix has work to do."""
    applied: list[str] = []
    mutations: list[Mutation] = []
    if rng.random() < 0.8:
        mutations.append(rng.choice(STRUCTURE))
    if rng.random() < 0.4:
        mutations.append(insert_init_call)
    for _ in range(rng.choice((0, 0, 1, 2))):
        mutations.append(rng.choice(rng.choice((BYTE_LEVEL, TOKEN_LEVEL))))
    for mutation in mutations:
        data = mutation(rng, data)
        applied.append(mutation.__name__)
    return data, applied
