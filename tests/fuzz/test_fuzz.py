"""Small fuzz campaigns in the normal suite (``-m fuzz`` selects them, ``-m 'not fuzz'`` skips them).

Each is a fixed list of inputs from a fixed seed (about 10 s together on two idle cores); the
budget only stops a run that hangs on many of them, and then the test fails. A failure lists
each failing input's cause and where it was kept. ``benchmarks/fuzz.py`` runs longer campaigns.
"""

from __future__ import annotations

import importlib.util
from dataclasses import replace

import pytest

from tests.fuzz.campaign import Settings, run_campaign

pytestmark = pytest.mark.fuzz

SMALL = Settings(seed=20261202, files=80, budget_seconds=60.0, jobs=2, max_source_bytes=12_000,
                 lint_cpu_seconds=5.0, model_cpu_seconds=10.0)


def test_linter_survives_mutated_sources_and_notebooks(tmp_path):
    settings = replace(SMALL, checkpoints=False, keep=tmp_path)
    results = run_campaign(settings)
    assert results.cases == settings.files, f"budget spent\n{results.report()}"
    assert results.fixed_cases > 0, "no input exercised --fix"
    assert not results.failures, results.report()


@pytest.mark.skipif(importlib.util.find_spec("torch") is None, reason="checkpoint fuzzing needs torch")
def test_auditor_survives_hostile_checkpoints(tmp_path):
    settings = replace(SMALL, files=32, sources=False, keep=tmp_path)
    results = run_campaign(settings)
    assert results.cases == settings.files, f"budget spent\n{results.report()}"
    assert not results.failures, results.report()
