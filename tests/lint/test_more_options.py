"""``check --fix-only``, ``--show-files``, the short aliases, ``--version`` and paths that hold
nothing to check."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from initaudit import __version__
from tests.lint.test_check_options import _one_error_line, invoke
from tests.lint.test_cli import BAD, MISMATCH, write

FIXED = BAD.replace("xavier_uniform(", "xavier_uniform_(")
NO_FILES = "initaudit: warning: no Python files found in "


# --- --fix-only --------------------------------------------------------------------------------

def test_fix_only_fixes_and_reports_the_count_alone(tmp_path: Path) -> None:
    write(tmp_path, {"a.py": BAD, "b.py": MISMATCH})
    result = invoke("check", "--fix-only", "--no-cache", str(tmp_path))
    assert result.exit_code == 0  # b.py's finding is left, and does not fail the run
    assert result.stdout == "Fixed 1 problem.\n" and result.stderr == ""
    assert (tmp_path / "a.py").read_text() == FIXED and (tmp_path / "b.py").read_text() == MISMATCH
    again = invoke("check", "--fix-only", "-q", str(tmp_path))
    assert again.exit_code == 0 and again.output == ""


def test_fix_only_applies_unsafe_fixes_when_asked(tmp_path: Path) -> None:
    write(tmp_path, {"b.py": MISMATCH})
    result = invoke("check", "--fix-only", "--unsafe-fixes", str(tmp_path))
    assert result.stdout == "Fixed 1 problem.\n" and (tmp_path / "b.py").read_text() != MISMATCH


def test_fix_only_exits_non_zero_on_fix_when_asked_and_two_on_errors(tmp_path: Path) -> None:
    write(tmp_path, {"a.py": BAD})
    assert invoke("check", "--fix-only", "--exit-non-zero-on-fix", str(tmp_path)).exit_code == 1
    missing = invoke("check", "--fix-only", str(tmp_path / "missing.py"))
    assert missing.exit_code == 2


def test_fix_only_on_standard_input_writes_only_the_fixed_source() -> None:
    result = invoke("check", "--fix-only", "-", input=BAD + MISMATCH.split("\n", 1)[1])
    assert result.exit_code == 0
    assert result.stdout.startswith(FIXED) and result.stderr == ""


@pytest.mark.parametrize("other", [["--no-fix"], ["--add-noqa"], ["--watch"], ["--show-files"]])
def test_fix_only_conflicts(tmp_path: Path, other: list[str]) -> None:
    write(tmp_path, {"a.py": BAD})
    result = invoke("check", "--fix-only", *other, str(tmp_path))
    assert result.exit_code == 2
    assert "cannot be used together" in _one_error_line(result.output)
    assert (tmp_path / "a.py").read_text() == BAD


# --- --show-files ------------------------------------------------------------------------------

def test_show_files_lists_what_a_run_would_check(tmp_path: Path) -> None:
    write(tmp_path, {"pyproject.toml": '[tool.initaudit]\nexclude = ["gen"]\n', "b.py": BAD, "a/n.ipynb": "{}",
                     "gen/g.py": BAD, "notes.txt": "", ".venv/v.py": BAD})
    result = invoke("check", "--show-files", str(tmp_path))
    assert result.exit_code == 0
    assert result.stdout.splitlines() == [str(tmp_path / "a" / "n.ipynb"), str(tmp_path / "b.py")]
    assert not (tmp_path / ".initaudit_cache").exists()  # nothing was checked


def test_show_files_says_what_cannot_be_read(tmp_path: Path) -> None:
    write(tmp_path, {"b.py": BAD})
    result = invoke("check", "--show-files", str(tmp_path / "b.py"), str(tmp_path / "missing.py"))
    assert result.exit_code == 2
    assert result.stdout == f"{tmp_path / 'b.py'}\n"
    assert "missing.py: no such file or directory" in _one_error_line(result.stderr)


def test_show_files_escapes_names(tmp_path: Path) -> None:
    write(tmp_path, {"evil\x1b[2J.py": BAD})
    result = invoke("check", "--show-files", str(tmp_path))
    assert result.stdout == f"{tmp_path}/evil\\x1b[2J.py\n"


# --- nothing to check ------------------------------------------------------------------------

def test_an_empty_directory_says_so_and_passes(tmp_path: Path) -> None:
    write(tmp_path, {"docs/readme.txt": "", "src/a.py": BAD})
    for args in (["check", str(tmp_path / "docs")], ["check", "--show-files", str(tmp_path / "docs")]):
        result = invoke(*args)
        assert result.exit_code == 0
        assert result.stderr == f"{NO_FILES}{tmp_path / 'docs'}\n"
    both = invoke("check", "--output-format", "json", str(tmp_path / "docs"), str(tmp_path / "src"))
    assert NO_FILES not in both.stderr


def test_nothing_left_by_excludes_says_so_and_a_report_still_comes(tmp_path: Path) -> None:
    write(tmp_path, {"pyproject.toml": '[tool.initaudit]\nexclude = ["gen"]\n', "gen/a.py": BAD})
    result = invoke("check", "--output-format", "json", str(tmp_path))
    assert result.exit_code == 0
    assert json.loads(result.stdout)["summary"]["files"] == 0
    assert result.stderr == f"{NO_FILES}{tmp_path}\n"


def test_force_excluded_files_are_not_reported_as_missing(tmp_path: Path) -> None:
    write(tmp_path, {"pyproject.toml": '[tool.initaudit]\nexclude = ["gen"]\n', "gen/a.py": BAD})
    result = invoke("check", "--force-exclude", str(tmp_path / "gen" / "a.py"))
    assert result.exit_code == 0 and result.stderr == ""


# --- short options and the version ---------------------------------------------------------------

def test_e_is_exit_zero_and_n_is_no_cache(tmp_path: Path) -> None:
    write(tmp_path, {"pyproject.toml": "[tool.initaudit]\n", "a.py": BAD})
    result = invoke("check", "-e", "-n", str(tmp_path))
    assert result.exit_code == 0 and "IA104" in result.stdout
    assert not (tmp_path / ".initaudit_cache").exists()
    assert invoke("check", "-e", str(tmp_path)).exit_code == 0
    assert (tmp_path / ".initaudit_cache").is_dir()


@pytest.mark.parametrize("flag", ["-V", "--version"])
def test_version(flag: str) -> None:
    result = invoke(flag)
    assert result.exit_code == 0
    assert result.stdout == f"initaudit, version {__version__}\n"
