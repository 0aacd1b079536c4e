"""Hostile inputs that make a naive analysis grow exponentially or quadratically: the linter's
work and memory stay bounded, what is left out is said in one note, and the rest is reported.

Each run that could blow up runs in a child process under an address-space limit, with a
timeout that is only a safety net: the assertions are about what the run reports.
"""

from __future__ import annotations

import json
import re
import resource
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pathspec import GitIgnoreSpec

from benchmarks.lint_bombs import project_ring
from initaudit.lint.files import notebook
from initaudit.lint.files.notebook import StoredLines
from initaudit.lint.files.wildmatch import compile_line
from initaudit.lint.model.bounds import FILE_LAYERS
from tests.conftest import XAVIER_BEFORE_RELU

#: Far above what any of these inputs needs while the analysis is bounded.
MEMORY_CAP = 2 << 30


def _capped() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_CAP, MEMORY_CAP))


def check(*arguments: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "initaudit", "check", "--no-cache", *arguments],
                          capture_output=True, text=True, timeout=300, cwd=cwd, preexec_fn=_capped)


def notes(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith("initaudit: info:")]


def findings(stdout: str) -> list[tuple[str, str, int]]:
    return [(Path(d["path"]).name, d["code"], d["line"]) for d in json.loads(stdout)["diagnostics"]]


# ---------------------------------------------------------------------------- composed classes


def doubling_classes(depth: int) -> str:
    """``L<i>`` holds two ``L<i-1>``: ``L<depth>`` stands for 2**depth copies of ``L0``'s layer."""
    lines = ["import torch.nn as nn", "import torch.nn.functional as F", "", "",
             "class L0(nn.Module):", "    def __init__(self):", "        super().__init__()",
             "        self.fc = nn.Linear(4, 4)", "        nn.init.xavier_uniform_(self.fc.weight)", "",
             "    def forward(self, x):", "        return F.relu(self.fc(x))"]
    for index in range(1, depth + 1):
        lines += ["", "", f"class L{index}(nn.Module):", "    def __init__(self):", "        super().__init__()",
                  f"        self.a = L{index - 1}()", f"        self.b = L{index - 1}()", "",
                  "    def forward(self, x):", "        return self.b(self.a(x))"]
    return "\n".join(lines) + "\n\n\n"


def test_classes_doubling_per_level_are_composed_within_the_budget(tmp_path: Path) -> None:
    """Forty levels would be 2**40 layers: the file is reported on what was composed (the
    findings of the block every level copies, and of a model beside them), with one note."""
    source = tmp_path / "nested.py"
    source.write_text(doubling_classes(40) + XAVIER_BEFORE_RELU)
    done = check("--select", "IA103", "--jobs", "1", "--format", "json", str(source), cwd=tmp_path)
    assert done.returncode == 1, done.stderr  # findings; the note leaves the exit status alone
    net_line = len(doubling_classes(40).splitlines()) + 6
    assert findings(done.stdout) == [("nested.py", "IA103", 9), ("nested.py", "IA103", net_line)]
    [note] = notes(done.stderr)
    assert re.fullmatch(rf"initaudit: info: {re.escape(str(source))}:\d+: not analysed: layers inside L\d+\.[ab] "
                        rf"\(L\d+\) and \d+ more, as one file's classes compose at most {FILE_LAYERS:,} layers; "
                        r"the findings cover the rest", note), note


def test_a_file_within_the_budget_gets_no_note(tmp_path: Path) -> None:
    source = tmp_path / "nested.py"
    source.write_text(doubling_classes(8))  # 2**9 - 1 layers
    done = check("--select", "IA103", "--jobs", "1", "--format", "json", str(source), cwd=tmp_path)
    assert done.returncode == 1 and notes(done.stderr) == [], done.stderr
    assert findings(done.stdout) == [("nested.py", "IA103", 9)]


def test_a_class_that_holds_itself_through_another_is_composed_once(tmp_path: Path) -> None:
    source = tmp_path / "cycle.py"
    source.write_text("import torch.nn as nn\nimport torch.nn.functional as F\n\n\n"
                      "class A(nn.Module):\n    def __init__(self):\n        super().__init__()\n"
                      "        self.b = B()\n        self.fc = nn.Linear(4, 4)\n"
                      "        nn.init.xavier_uniform_(self.fc.weight)\n\n"
                      "    def forward(self, x):\n        return F.relu(self.fc(self.b(x)))\n\n\n"
                      "class B(nn.Module):\n    def __init__(self):\n        super().__init__()\n"
                      "        self.a = A()\n\n    def forward(self, x):\n        return self.a(x)\n")
    done = check("--select", "IA103", "--jobs", "1", "--format", "json", str(source), cwd=tmp_path)
    assert done.returncode == 1 and notes(done.stderr) == [], done.stderr
    assert findings(done.stdout) == [("cycle.py", "IA103", 10)]


# ---------------------------------------------------------------------------- project files

BLOCK = """import torch.nn as nn


class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(4, 4)
        self.act = nn.ReLU()

    def forward(self, x):
        return self.act(self.fc1(x))
"""

USES_BLOCK = """import torch.nn as nn
from .blocks import Block


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.block = Block()
        nn.init.xavier_uniform_(self.block.fc1.weight)

    def forward(self, x):
        return self.block(x)
"""


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_fifty_files_holding_each_other_finish_with_every_finding(tmp_path: Path, jobs: str) -> None:
    """Every class holds itself through the others and every import chain is as long as the
    project: the run ends, reports the init each helper writes and the files outside the ring
    exactly, and says where classes were composed only in part."""
    root = project_ring(50, tmp_path)
    (root / "pkg" / "blocks.py").write_text(BLOCK)
    (root / "pkg" / "net.py").write_text(USES_BLOCK)
    done = check("--select", "IA101,IA103", "--jobs", jobs, "--format", "json", ".", cwd=root)
    assert done.returncode == 1, done.stderr
    reported = findings(done.stdout)
    assert sorted(reported) == sorted([(f"m{index}.py", "IA101", 8) for index in range(50)] + [("net.py", "IA103", 9)])
    [net] = [d for d in json.loads(done.stdout)["diagnostics"] if d["path"].endswith("net.py")]
    assert "block.fc1 (Linear, pkg/blocks.py:7) feeds relu" in net["message"]
    noted = notes(done.stderr)
    assert noted and all(re.search(r"pkg/m\d+\.py:\d+: not analysed: layers inside C\d+\.c\d+ \(C\d+ of pkg/m\d+\.py\)",
                                   line) for line in noted), noted
    assert any("project files are followed at most 16 imports deep" in line for line in noted)


def test_a_chain_of_imports_longer_than_the_depth_bound_ends(tmp_path: Path) -> None:
    """``m<i>`` builds ``m<i+1>``'s class, 120 files down, without the interpreter's stack."""
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'chain'\n")
    package = tmp_path / "pkg"
    package.mkdir()
    (package / "__init__.py").write_text("")
    for index in range(120):
        held = f"from .m{index + 1} import C{index + 1}\n" if index < 119 else ""
        hold = f"        self.next = C{index + 1}()\n" if index < 119 else ""
        (package / f"m{index}.py").write_text(
            f"import torch.nn as nn\n{held}\n\nclass C{index}(nn.Module):\n    def __init__(self):\n"
            f"        super().__init__()\n{hold}        self.fc = nn.Linear(4, 4)\n"
            f"        nn.init.normal(self.fc.weight)\n\n    def forward(self, x):\n        return self.fc(x)\n")
    done = check("--select", "IA104", "--jobs", "1", "--format", "json", ".", cwd=tmp_path)
    assert done.returncode == 1, done.stderr
    deprecated = [finding for finding in findings(done.stdout) if finding[1] == "IA104"]
    assert sorted(deprecated) == sorted((f"m{index}.py", "IA104", 10 if index < 119 else 8) for index in range(120))
    assert any("project files are followed at most 16 imports deep" in line for line in notes(done.stderr))


# ---------------------------------------------------------------------------- .gitignore


def test_gitignore_patterns_with_many_wildcards_match_without_backtracking(tmp_path: Path) -> None:
    """Twelve ``**`` over a 40-deep tree, and a name globbed by ten stars against a long name:
    each regular expression would try every way of sharing the path among its wildcards."""
    tree = tmp_path / "tree"
    bottom = tree.joinpath(*["a"] * 40)
    (bottom / "b").mkdir(parents=True)
    (tree / ".gitignore").write_text("/".join(["a", "**"] * 12) + "/b\n" + "*a" * 10 + "*c.py\n")
    deprecated = "import torch.nn as nn\nnn.init.normal(w)\n"
    (bottom / "kept.py").write_text(deprecated)
    (bottom / "b" / "ignored.py").write_text(deprecated)
    (bottom / ("a" * 200 + ".py")).write_text(deprecated)  # no "c" before ".py": kept
    (bottom / ("a" * 200 + "c.py")).write_text(deprecated)
    done = check("--select", "IA104", "--jobs", "1", "--format", "json", str(tree), cwd=tmp_path)
    assert done.returncode == 1, done.stderr
    assert sorted(name for name, _, _ in findings(done.stdout)) == ["a" * 200 + ".py", "kept.py"]


def test_a_gitignore_line_git_cannot_read_is_left_out(tmp_path: Path) -> None:
    """A pattern ending in a lone backslash matches nothing (pathspec rejects it): the other
    lines still apply."""
    (tmp_path / ".gitignore").write_text("broken\\\nskipped.py\n")
    (tmp_path / "skipped.py").write_text("import torch.nn as nn\nnn.init.normal(w)\n")
    (tmp_path / "kept.py").write_text("import torch.nn as nn\nnn.init.normal(w)\n")
    done = check("--select", "IA104", "--jobs", "1", "--format", "json", ".", cwd=tmp_path)
    assert done.returncode == 1, done.stderr
    assert [name for name, _, _ in findings(done.stdout)] == ["kept.py"]


_ATOMS = ["a", "b", "*", "**", "?", "[ab]", "[!b/]", "\\*", "a*", "*b", "x?", "[]a]", "***"]
_NAMES = st.text(alphabet="ab*?x]", min_size=1, max_size=3)


@settings(max_examples=300, deadline=None)
@given(segments=st.lists(st.lists(st.sampled_from(_ATOMS), min_size=1, max_size=2).map("".join),
                         min_size=1, max_size=4),
       anchored=st.booleans(), directory=st.booleans(), negated=st.booleans(),
       paths=st.lists(st.tuples(st.lists(_NAMES, min_size=1, max_size=5), st.booleans()), min_size=1, max_size=8))
def test_the_wildcard_matcher_answers_as_pathspec(segments, anchored, directory, negated, paths) -> None:
    """Where pathspec's expression stays fast, the two agree on what a pattern matches."""
    line = ("!" if negated else "") + ("/" if anchored else "") + "/".join(segments) + ("/" if directory else "")
    try:
        patterns = GitIgnoreSpec.from_lines([line]).patterns
    except ValueError:
        return
    matcher = compile_line(line)
    if not patterns or patterns[0].include is None or matcher is None:
        return
    for components, is_dir in paths:
        path = "/".join(components) + ("/" if is_dir else "")
        assert bool(matcher(path)) == bool(patterns[0].match_file(path)), (line, path)


def test_a_bracket_never_matches_a_slash() -> None:
    """As in git; pathspec's expression lets ``[!a]`` take the slash between two components."""
    matcher = compile_line("x*/*y/[!a]z/**/b")
    assert matcher is not None
    assert matcher("x1/2y/cz/d/b") and not matcher("x1/2y/c/z/d/b")


# ---------------------------------------------------------------------------- notebooks


def many_cells(cells: int) -> str:
    document = {"cells": [{"cell_type": "code", "execution_count": None, "metadata": {}, "outputs": [],
                           "source": ["import torch.nn as nn\n"]}]
                + [{"cell_type": "code", "execution_count": None, "metadata": {}, "outputs": [],
                    "source": [f"layer{index} = nn.Linear(4, 4)\n", f"nn.init.zeros_(layer{index}.weight)\n"]}
                   for index in range(cells)],
                "metadata": {"language_info": {"name": "python"}}, "nbformat": 4, "nbformat_minor": 5}
    return json.dumps(document, indent=1)


def test_every_line_of_a_ten_thousand_cell_notebook_is_found_in_one_pass(monkeypatch) -> None:
    """Each JSON value of the file is decoded a bounded number of times, however many cells
    are asked for, not again for each cell after it."""
    text = many_cells(10_000)
    decoded = 0
    decode = notebook._DECODER.raw_decode

    def counted(document: str, position: int = 0):
        nonlocal decoded
        decoded += 1
        return decode(document, position)

    monkeypatch.setattr(notebook._DECODER, "raw_decode", counted)
    stored = StoredLines(text)
    lines = text.splitlines()
    for cell in range(2, 10_002):
        found = stored.line(cell, 2)
        assert found is not None and lines[found - 1].strip() == json.dumps(f"nn.init.zeros_(layer{cell - 2}.weight)\n")
    assert stored.line(1, 1) is not None and lines[stored.line(1, 1) - 1].strip() == '"import torch.nn as nn\\n"'
    # Per cell: its five keys and their values while its source is looked for, itself once more
    # to step past it, and its two strings (each to read it, then to step past it).
    assert decoded <= 15 * 10_001


def test_github_annotations_of_a_large_notebook_point_at_the_stored_lines(tmp_path: Path) -> None:
    path = tmp_path / "cells.ipynb"
    path.write_text(many_cells(1000))
    done = check("--select", "IA101", "--jobs", "1", "--format", "github", str(path), cwd=tmp_path)
    assert done.returncode == 1, done.stderr
    annotations = done.stdout.splitlines()
    assert len(annotations) == 1000
    lines = path.read_text().splitlines()
    for index, annotation in enumerate(annotations):
        line = int(re.search(r",line=(\d+),", annotation).group(1))
        assert lines[line - 1].strip() == json.dumps(f"nn.init.zeros_(layer{index}.weight)\n")
        assert f"::cell {index + 2}, line 2, column 1: layer{index}.weight (Linear)" in annotation
