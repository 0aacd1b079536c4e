"""Small fuzz campaigns in the normal suite (``-m fuzz`` selects them, ``-m 'not fuzz'`` skips them).

Each is a fixed list of inputs from a fixed seed; the budget only stops a run that hangs on
many of them. ``benchmarks/fuzz.py`` runs the same campaign for longer.
"""

from __future__ import annotations

import importlib.util
from dataclasses import replace

import pytest

from tests.fuzz.campaign import Settings, run_campaign

pytestmark = pytest.mark.fuzz

SMALL = Settings(seed=20261202, files=100, budget_seconds=12.0, jobs=2, max_source_bytes=12_000,
                 lint_cpu_seconds=5.0, model_cpu_seconds=10.0)


def test_linter_survives_mutated_sources_and_notebooks(tmp_path):
    results = run_campaign(replace(SMALL, checkpoints=False, keep=tmp_path))
    assert results.cases == SMALL.files, results.report()
    assert results.fixed_cases > 0, "no input exercised --fix"
    assert not results.failures, results.report()


@pytest.mark.skipif(importlib.util.find_spec("torch") is None, reason="checkpoint fuzzing needs torch")
def test_auditor_survives_hostile_checkpoints(tmp_path):
    results = run_campaign(replace(SMALL, files=40, sources=False, keep=tmp_path))
    assert results.cases == 40, results.report()
    assert not results.failures, results.report()
