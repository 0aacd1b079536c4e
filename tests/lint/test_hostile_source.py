"""Hostile but well-formed inputs: deep nesting, long chains, odd coding cookies, legal layouts
that the CST parser reads differently. The interpreter decides what is valid Python; what it
accepts but cannot be analysed is said once as an error for that file, never as IA000."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

from initaudit.config import Config
from initaudit.lint.parse.nesting import MAX_DEPTH
from initaudit.lint.run.engine import lint_file

HEADER = "import torch.nn.init as init\n"  # passes the prefilter: the file is fully analysed


def check(text: str, prefilter: bool = True):
    return lint_file("f.py", text.encode(), Config(), prefilter=prefilter)


def chain(kind: str, n: int) -> str:
    shapes = {
        "parens": "(" * n + "1" + ")" * n,
        "attributes": "a" + ".b" * n,
        "unary": "-" * n + "1",
        "sum": "+".join(["1"] * n),
        "calls": "a" + "()" * n,
        "subscripts": "a" + "[0]" * n,
        "or": " or ".join(["x"] * n),
    }
    return f"{HEADER}x = {shapes[kind]}\n"


KINDS = ("parens", "attributes", "unary", "sum", "calls", "subscripts", "or")


def test_deep_input_does_not_kill_the_process(tmp_path: Path) -> None:
    """libcst's native parser overflowed the stack on these (exit by SIGSEGV, no output)."""
    files = {"paren.py": chain("parens", 2_000), "attr.py": chain("attributes", 20_000),
             "unary.py": chain("unary", 50_000)}
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    for jobs in ("1", "2"):
        run = subprocess.run([sys.executable, "-m", "initaudit", "check", "--no-cache", "-j", jobs,
                              "--format", "json", str(tmp_path)], capture_output=True, text=True,
                             timeout=120)
        assert run.returncode == 1, run.stderr
        assert "Traceback" not in run.stderr
        assert run.stdout.count('"IA000"') == 3


@pytest.mark.parametrize("kind", KINDS)
def test_chains_beyond_the_interpreter_are_ia000_and_fast(kind: str) -> None:
    n = 50_000 if kind in ("unary", "sum", "or") else 20_000
    start = time.perf_counter()
    result = check(chain(kind, n))
    elapsed = time.perf_counter() - start
    assert elapsed < 5
    if result.error is None:
        assert [d.code for d in result.diagnostics] == ["IA000"]
    else:  # the interpreter accepts it (``or`` is flat in its tree): too deep for the CST parser
        assert result.error.startswith("not analysed: an expression nests more than")


@pytest.mark.parametrize("kind", KINDS)
def test_chains_the_interpreter_accepts_are_analysed(kind: str) -> None:
    depth = 190 if kind == "parens" else MAX_DEPTH - 5
    result = check(chain(kind, depth) + "init.xavier_uniform(w)\n")
    assert result.error is None and result.parsed
    assert [(d.code, d.line) for d in result.diagnostics] == [("IA104", 3)]


def test_what_the_interpreter_rejects_is_ia000_even_when_libcst_reads_it() -> None:
    result = check(chain("parens", 500))  # "too many nested parentheses" (limit 200)
    assert [d.code for d in result.diagnostics] == ["IA000"]
    assert "nested parentheses" in result.diagnostics[0].message


def test_adjacent_string_literals() -> None:
    """1,000 literals made the analysis hit the recursion limit; 10,000 gave a false IA000."""
    thousand = check(HEADER + "x = " + " ".join(['"a"'] * 1_000) + "\n")
    assert thousand.error is None and thousand.parsed and thousand.diagnostics == []
    ten_thousand = check(HEADER + "x = " + " ".join(['"a"'] * 10_000) + "\n")
    assert ten_thousand.diagnostics == []
    assert ten_thousand.error is not None and ten_thousand.error.startswith("not analysed: valid Python")


def test_legal_tab_and_form_feed_indentation_is_not_ia000() -> None:
    text = HEADER + "\x0cif x:\n if y:\n\t\tz = 1\n"
    compile(text, "f.py", "exec")  # valid for the interpreter
    result = check(text)
    assert all(d.code != "IA000" for d in result.diagnostics)
    assert result.parsed or result.error is not None


@pytest.mark.parametrize("codec", ["rot13", "hex", "base64", "zlib", "uu", "punycode", "undefined",
                                   "utf-16", "utf-32", "bz2", "nonexistent"])
def test_coding_cookies_the_interpreter_rejects(codec: str) -> None:
    data = f"# -*- coding: {codec} -*-\nx = 1\n".encode()
    with pytest.raises(SyntaxError):
        compile(data, "f.py", "exec")
    for prefilter in (True, False):
        result = lint_file("f.py", data, Config(), prefilter=prefilter)
        assert result.error is None
        assert [d.code for d in result.diagnostics] == ["IA000"]


@pytest.mark.parametrize("codec", ["latin-1", "cp1252", "utf-7", "raw_unicode_escape"])
def test_coding_cookies_the_interpreter_accepts(codec: str) -> None:
    data = f"# -*- coding: {codec} -*-\nx = 1\n".encode()
    compile(data, "f.py", "exec")
    result = lint_file("f.py", data, Config())
    assert result.error is None and result.diagnostics == [] and result.parsed


def test_depth_is_measured_not_guessed_from_length() -> None:
    deep = check(HEADER + "x = (a\n" + "()\n" * (MAX_DEPTH + 50) + ")\n")  # over many lines
    assert deep.error is not None and deep.error.startswith("not analysed: an expression nests")
    wide = check(HEADER + "x = [" + ", ".join(["-1"] * 5_000) + "]\ninit.xavier_uniform(w)\n")
    assert wide.error is None and [d.code for d in wide.diagnostics] == ["IA104"]


def test_code_for_a_newer_python_is_analysed_but_not_past_the_interpreters_limits() -> None:
    from initaudit import lint_source

    newer = "type Vec = list[float]\n\ndef first[T](items: list[T]) -> T:\n    return items[0]\n\n" \
            "import torch.nn as nn\nnn.init.xavier_uniform(w)\n"
    if sys.version_info < (3, 12):  # this interpreter rejects PEP 695 syntax
        assert [d.code for d in lint_source(newer)] == ["IA104"]
    # a limit of the interpreter stays IA000 even where libcst could read the code
    deep = "import torch.nn as nn\nx = " + "(" * 250 + "1" + ")" * 250 + "\nnn.init.zeros_(w)\n"
    assert [d.code for d in lint_source(deep)] == ["IA000"]
