"""The environment `make` builds for a user audits a Hugging Face directory in full: torchvision,
which cannot load beside its CPU torch and takes transformers' model classes down with it, is
only on the tests' path (``PYTHONPATH``, set by ``make test``), never in the venv itself."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

SAVE_TINY_BERT = """
import sys, transformers
config = transformers.BertConfig(hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
                                 intermediate_size=64, vocab_size=100, max_position_embeddings=32)
transformers.BertModel(config).save_pretrained(sys.argv[1])
"""


def _as_a_user(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {key: value for key, value in os.environ.items() if key != "PYTHONPATH"}
    return subprocess.run([sys.executable, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=600)


def test_a_hugging_face_directory_is_built_and_probed(tmp_path: Path) -> None:
    pytest.importorskip("transformers")
    probe = _as_a_user("-c", "import importlib.util; print(importlib.util.find_spec('torchvision') is None)",
                       cwd=tmp_path)
    if probe.stdout.strip() != "True":
        pytest.skip("torchvision is installed in this interpreter's own site-packages (a venv from before)")
    saved = _as_a_user("-c", SAVE_TINY_BERT, str(tmp_path / "tiny-bert"), cwd=tmp_path)
    assert saved.returncode == 0, saved.stderr
    audited = _as_a_user("-m", "initaudit", "model", str(tmp_path / "tiny-bert"), "--format", "json", cwd=tmp_path)
    assert audited.returncode in (0, 1), audited.stderr
    report = json.loads(audited.stdout)
    assert report["summary"]["probed"], report["notes"]
    assert not [note for note in report["notes"] if "config.json" in note], report["notes"]
