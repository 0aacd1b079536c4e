"""The fuzz harness itself: its verdicts, its damage checks and its payloads must be right, or a
clean campaign proves nothing."""

from __future__ import annotations

import importlib.util
import pickle
import random
import signal
from pathlib import Path

import pytest

from tests.fuzz.campaign import Generator, Settings
from tests.fuzz.checkpoints import PAYLOADS, malicious_pickle
from tests.fuzz.lint_case import _changes_outside, _notebook_damage
from tests.fuzz.runner import Outcome
from tests.fuzz.sources import SENTINEL
from tests.fuzz.verdicts import CRASH, HANG, MEMORY, judge_process, traceback_cause

pytestmark = pytest.mark.fuzz

JSON = '{"version": 1, "diagnostics": [], "summary": {}}'
TRACEBACK = """Traceback (most recent call last):
  File "/x/initaudit/lint/source.py", line 41, in decode
    return data.decode(encoding)
  File "/usr/lib/python3.11/encodings/zlib.py", line 9, in decode
    raise LookupError("x")
LookupError: 'zlib' is not a text encoding
"""


def outcome(status: int = 0, stdout: str = JSON, stderr: str = "", *, timed_out: bool = False,
            cpu_seconds: float = 0.1) -> Outcome:
    return Outcome(status, timed_out, 1.0, cpu_seconds, 0, stdout, stderr)


@pytest.mark.parametrize(("result", "category"), [
    (outcome(), None),
    (outcome(1), None),
    (outcome(2, "", "initaudit: error: x.py: cannot read"), None),
    (outcome(1, "", TRACEBACK), CRASH),
    (outcome(2, JSON, "initaudit: error: x.py: internal error: KeyError: 'a'"), CRASH),
    (outcome(-signal.SIGSEGV, ""), CRASH),
    (outcome(3), CRASH),
    (outcome(1, "not json"), CRASH),
    (outcome(1, "[1]"), CRASH),
    (outcome(-signal.SIGKILL, "", timed_out=True), HANG),
    (outcome(-signal.SIGXCPU, ""), HANG),
    (outcome(-signal.SIGKILL, "", cpu_seconds=9.0), HANG),
    (outcome(-signal.SIGKILL, "", cpu_seconds=0.5), MEMORY),
    (outcome(2, "", "initaudit: error: x.pt: out of memory while auditing"), MEMORY),
])
def test_process_verdicts(result, category):
    verdicts = judge_process(result, json_stdout=True, cpu=5.0)
    assert [v.category for v in verdicts] == ([category] if category else [])


def test_a_traceback_is_named_by_initaudit_s_innermost_frame():
    assert traceback_cause(TRACEBACK) == "LookupError: 'zlib' is not a text encoding (at source.py:41 in decode)"
    two_lines = TRACEBACK.replace("LookupError: 'zlib' is not a text encoding", "UnicodeError: bad '\n')")
    assert traceback_cause(two_lines) == "UnicodeError: bad ' (at source.py:41 in decode)"


OLD = [b"import torch.nn as nn\n", b"from torch.nn.init import xavier_uniform\n", b"\n",
       b"xavier_uniform(w)\n", b"y = 1\r\n"]


def test_changes_inside_the_reported_fixes_and_alias_renames_are_allowed():
    new = [OLD[0], b"from torch.nn.init import xavier_uniform_\n", OLD[2], b"xavier_uniform_(w)\n", OLD[4]]
    assert _changes_outside(OLD, new, {4}) is None


@pytest.mark.parametrize("new", [
    [*OLD[:3], b"xavier_uniform_(w)\n", b"y = 2\r\n"],  # another line
    [*OLD[:3], b"xavier_uniform_(w)\r\n", OLD[4]],  # a line ending the file did not have there
    [*OLD[:3], b"xavier_uniform_(w)\n", b"y = 1\n"],  # a line ending changed
    [*OLD[:2], b"xavier_uniform_(w)\n", OLD[4]],  # a line removed
    [*OLD[:4], b"xavier_uniform_\n", OLD[4]],  # a line added after the fixed one
])
def test_changes_outside_the_reported_fixes_are_damage(new):
    assert _changes_outside(OLD, new, {4}) is not None


NOTEBOOK = (b'{"cells": [{"cell_type": "markdown", "metadata": {}, "source": ["# x"]}, '
            b'{"cell_type": "code", "metadata": {}, "source": ["a(1)"]}], "metadata": {}, '
            b'"nbformat": 4, "nbformat_minor": 5}\n')


def test_a_notebook_fix_may_change_only_the_sources_of_fixed_cells():
    fixed = NOTEBOOK.replace(b"a(1)", b"b(1)")
    assert _notebook_damage(NOTEBOOK, fixed, {2}) == []
    assert _notebook_damage(NOTEBOOK, fixed, {1}) != []
    assert _notebook_damage(NOTEBOOK, NOTEBOOK.replace(b'"metadata": {}, "nbformat"', b'"nbformat"'), {2})
    assert _notebook_damage(NOTEBOOK, fixed.rstrip(b"\n"), {2}) == ["the final newline changed"]
    reordered = fixed.replace(b'"nbformat": 4, "nbformat_minor": 5', b'"nbformat_minor": 5, "nbformat": 4')
    assert _notebook_damage(NOTEBOOK, reordered, {2}) != []


def test_cases_depend_only_on_the_seed_and_their_index():
    first = Generator(Settings(seed=7, checkpoints=False, max_source_bytes=8000))
    again = Generator(Settings(seed=7, checkpoints=False, max_source_bytes=8000))
    other = Generator(Settings(seed=8, checkpoints=False, max_source_bytes=8000))
    cases = [first.case(index) for index in range(30)]
    assert [again.case(index) for index in reversed(range(30))] == cases[::-1]
    assert [other.case(index) for index in range(30)] != cases


@pytest.mark.parametrize("protocol", range(6))
@pytest.mark.parametrize("in_dict", [False, True])
def test_every_malicious_pickle_runs_its_payload_when_unpickled(protocol, in_dict, tmp_path, monkeypatch):
    """So that a campaign without 'code executed' means the payloads were refused, not inert."""
    monkeypatch.chdir(tmp_path)
    for index in range(len(PAYLOADS)):
        rng = random.Random()
        rng.choice = lambda options, index=index: options[index]  # type: ignore[method-assign]
        data = malicious_pickle(rng, protocol, in_dict)
        loaded = pickle.loads(data)
        value = loaded["fc.weight"] if in_dict else loaded
        if hasattr(value, "wait"):  # subprocess.Popen
            value.wait()
        elif hasattr(value, "close"):  # open()
            value.close()
        sentinel = Path(SENTINEL)
        assert sentinel.exists(), PAYLOADS[index]
        sentinel.unlink()


@pytest.mark.skipif(importlib.util.find_spec("torch") is None, reason="needs torch")
@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # torch.jit is deprecated
def test_the_hostile_torchscript_archive_writes_its_sentinel_when_loaded(tmp_path, monkeypatch):
    import io

    import torch

    from tests.fuzz.checkpoints import _setstate_torchscript

    monkeypatch.chdir(tmp_path)
    data = _setstate_torchscript(torch)
    with pytest.raises(RuntimeError):  # it then fails, but the code has already run
        torch.jit.load(io.BytesIO(data))
    assert Path(SENTINEL).exists()
