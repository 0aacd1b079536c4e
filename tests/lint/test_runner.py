"""The Python API and the command run the same linter: ``lint_paths(...).to_dict()`` is what
``initaudit check --output-format json`` prints."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from initaudit import lint_paths
from initaudit.cli import main

EXAMPLES = Path(__file__).parents[2] / "examples"


def _cli_json(*args: str) -> dict:
    result = CliRunner().invoke(main, ["check", "--output-format", "json", *args])
    assert result.exit_code in (0, 1, 2) and result.exception is None or isinstance(result.exception, SystemExit)
    return json.loads(result.stdout)


@pytest.mark.parametrize("jobs", [1, 2])
def test_lint_paths_equals_the_cli_json_on_the_examples(tmp_path: Path, jobs: int) -> None:
    # the examples directory holds a notebook too
    assert any(EXAMPLES.glob("*.ipynb"))
    expected = _cli_json("--no-cache", "-j", str(jobs), str(EXAMPLES))
    assert lint_paths([EXAMPLES], jobs=jobs).to_dict() == expected
    assert lint_paths([EXAMPLES], jobs=jobs, cache_dir=tmp_path / "cache").to_dict() == expected
    # a second, cached run gives the same answer
    assert lint_paths([EXAMPLES], jobs=jobs, cache_dir=tmp_path / "cache").to_dict() == expected


def test_lint_paths_equals_the_cli_json_on_a_directory_with_a_notebook_and_an_unreadable_file(
        tmp_path: Path) -> None:
    shutil.copy(EXAMPLES / "init_tutorial.ipynb", tmp_path)
    shutil.copy(EXAMPLES / "mnist_init.py", tmp_path)
    (tmp_path / "broken.py").write_bytes(b"def f(:\n")
    run = lint_paths([tmp_path, tmp_path / "missing.py"])
    assert run.to_dict() == _cli_json("--no-cache", str(tmp_path), str(tmp_path / "missing.py"))
    assert [Path(result.path).name for result in run.errors] == ["missing.py"]
    assert {Path(result.path).name for result in run} == {"missing.py", "init_tutorial.ipynb", "mnist_init.py",
                                                          "broken.py"}
