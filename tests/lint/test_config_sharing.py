"""Settings shared as ruff users share them: ``extend`` chains of settings files, ``--config``
files and ``key = value`` overrides, ``--isolated``, command-line excludes and the ``fix`` and
``unsafe-fixes`` settings."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from initaudit.config import Config
from tests.lint.test_check_options import ZERO, _one_error_line, invoke
from tests.lint.test_cli import BAD, MISMATCH, write


def _codes(*args: str) -> list[str]:
    result = invoke("check", "--no-cache", "--output-format", "json", *args)
    assert result.exit_code in (0, 1), result.output
    return [d["code"] for d in json.loads(result.stdout)["diagnostics"]]


def _files(*args: str) -> list[str]:
    result = invoke("check", "--show-files", *args)
    assert result.exit_code == 0, result.output
    return result.stdout.splitlines()


def _settings(*args: str) -> dict:
    return json.loads(invoke("check", "--show-settings", "--output-format", "json", *args).stdout)


# --- extend ----------------------------------------------------------------------------------

def test_a_file_extends_another_and_its_keys_win(tmp_path: Path) -> None:
    write(tmp_path, {
        "shared/base.toml": 'select = ["IA101"]\nignore = ["IA103"]\n',
        "proj/pyproject.toml": '[tool.initaudit]\nextend = "../shared/base.toml"\nselect = ["IA104"]\n',
        "proj/a.py": ZERO, "proj/b.py": BAD,
    })
    assert _codes(str(tmp_path / "proj")) == ["IA104"]  # select replaced; the base's ignore kept
    settings = _settings(str(tmp_path / "proj"))
    assert settings["extends"] == [str((tmp_path / "shared" / "base.toml").resolve())]
    assert (settings["select"], settings["ignore"]) == (["IA104"], ["IA103"])


def test_extend_select_and_extend_exclude_add_up_along_the_chain(tmp_path: Path) -> None:
    write(tmp_path, {
        "root.toml": 'select = ["IA101"]\nextend-select = ["IA103"]\nextend-exclude = ["gen"]\n',
        "shared/middle.toml": 'extend = "../root.toml"\nextend-select = ["IA104"]\nextend-exclude = ["vendored"]\n',
        "proj/initaudit.toml": 'extend = "../shared/middle.toml"\n',
        "proj/a.py": ZERO, "proj/b.py": BAD, "proj/c.py": MISMATCH, "proj/gen/d.py": BAD, "proj/vendored/e.py": BAD,
    })
    assert sorted(_codes(str(tmp_path / "proj"))) == ["IA101", "IA103", "IA104"]
    settings = _settings(str(tmp_path / "proj"))
    assert settings["extend-select"] == ["IA103", "IA104"] and settings["extend-exclude"] == ["gen", "vendored"]
    assert settings["extends"] == [str((tmp_path / p).resolve()) for p in ("shared/middle.toml", "root.toml")]


def test_a_base_file_path_pattern_is_read_from_its_own_directory(tmp_path: Path) -> None:
    write(tmp_path, {
        "base.toml": 'exclude = ["proj/generated"]\nper-file-ignores = { "proj/tests/*" = ["IA104"] }\n',
        "proj/pyproject.toml": '[tool.initaudit]\nextend = "../base.toml"\n',
        "proj/generated/a.py": BAD, "proj/tests/t.py": BAD, "proj/src/generated/kept.py": BAD,
    })
    assert _files(str(tmp_path / "proj")) == [str(tmp_path / "proj" / name) for name in ("src/generated/kept.py",
                                                                                       "tests/t.py")]
    assert _codes(str(tmp_path / "proj" / "tests" / "t.py")) == []


def test_a_pyproject_base_lends_its_tool_table(tmp_path: Path) -> None:
    write(tmp_path, {"pyproject.toml": '[tool.initaudit]\nselect = ["IA104"]\n',
                     "proj/.initaudit.toml": 'extend = "../pyproject.toml"\n', "proj/a.py": ZERO, "proj/b.py": BAD})
    assert _codes(str(tmp_path / "proj")) == ["IA104"]


@pytest.mark.parametrize(("files", "message"), [
    ({"proj/initaudit.toml": 'extend = "../a.toml"\n', "a.toml": 'extend = "b.toml"\n',
      "b.toml": 'extend = "a.toml"\n'}, "'extend' makes a cycle"),
    ({"proj/initaudit.toml": 'extend = "initaudit.toml"\n'}, "'extend' makes a cycle"),
    ({"proj/initaudit.toml": 'extend = "../missing.toml"\n'}, "missing.toml: no such file"),
    ({"proj/initaudit.toml": "extend = 3\n"}, "'extend' must be the path of a settings file"),
    ({"proj/initaudit.toml": 'extend = "../base.toml"\n', "base.toml": 'selct = ["IA1"]\n'},
     "base.toml: unknown option 'selct'"),
])
def test_a_broken_chain_is_a_one_line_error(tmp_path: Path, files: dict[str, str], message: str) -> None:
    write(tmp_path, {**files, "proj/a.py": BAD})
    result = invoke("check", str(tmp_path / "proj"))
    assert result.exit_code == 2
    assert message in _one_error_line(result.output)


# --- one table for both commands ----------------------------------------------------------------

@pytest.mark.parametrize("select", ['["IA201"]', '["IA2"]', '["non-finite-values", "IA210"]'])
def test_an_audit_selection_in_the_settings_leaves_every_lint_rule_on(tmp_path: Path, select: str) -> None:
    write(tmp_path, {"a.py": ZERO, "b.py": BAD})
    everything = sorted(_codes("--isolated", str(tmp_path)))
    write(tmp_path, {"pyproject.toml": f"[tool.initaudit]\nselect = {select}\n"})
    assert sorted(_codes(str(tmp_path))) == everything and {"IA101", "IA104"} <= set(everything)


def test_a_selection_naming_both_commands_narrows_each_to_its_own(tmp_path: Path) -> None:
    write(tmp_path, {"pyproject.toml": '[tool.initaudit]\nselect = ["IA201", "IA104"]\n', "a.py": ZERO,
                     "b.py": BAD})
    assert _codes(str(tmp_path)) == ["IA104"]


@pytest.mark.parametrize(("select", "extend_select", "enabled"), [
    (("IA1",), (), {"IA101", "IA103", "IA201", "IA205"}),
    (("IA201",), (), {"IA000", "IA101", "IA103", "IA201"}),
    (("IA101", "IA205"), (), {"IA101", "IA205"}),
    (("IA",), (), {"IA000", "IA101", "IA103", "IA201", "IA205"}),
    ((), ("IA103",), {"IA103"}),  # an empty select stays empty, for both commands
    (("IA101",), ("IA205",), {"IA101", "IA201", "IA205"}),
])
def test_select_narrows_only_the_command_whose_rules_it_names(select: tuple[str, ...], extend_select: tuple[str, ...],
                                                              enabled: set[str]) -> None:
    config = Config(select=select, extend_select=extend_select)
    assert {code for code in ("IA000", "IA101", "IA103", "IA201", "IA205") if config.enabled(code)} == enabled


# --- --config --------------------------------------------------------------------------------

def test_config_key_value_overrides_the_settings_files(tmp_path: Path) -> None:
    write(tmp_path, {"pyproject.toml": '[tool.initaudit]\nselect = ["IA101"]\n', "a.py": ZERO, "b.py": BAD,
                     "c.py": MISMATCH})
    assert _codes(str(tmp_path)) == ["IA101"]
    assert _codes("--config", 'select = ["IA104"]', str(tmp_path)) == ["IA104"]
    both = _codes("--config", "select=['IA104']", "--config", "extend-select = ['IA103']", str(tmp_path))
    assert sorted(both) == ["IA103", "IA104"]


def test_config_takes_a_file_and_overrides_together(tmp_path: Path) -> None:
    write(tmp_path, {"team.toml": 'select = ["IA101", "IA104"]\n', "a.py": ZERO, "b.py": BAD})
    team = str(tmp_path / "team.toml")
    assert sorted(_codes("--config", team, str(tmp_path))) == ["IA101", "IA104"]
    assert _codes("--config", 'ignore = ["IA101"]', "--config", team, str(tmp_path)) == ["IA104"]


@pytest.mark.parametrize(("value", "message"), [
    ("missing.toml", "--config missing.toml: no such settings file"),
    ("select = [", "neither a settings file nor a TOML `key = value`"),
    ("select = 3", "'select' must be a list of strings"),
    ("selct = ['IA1']", "unknown option 'selct'"),
    ("select = ['IA999']", "unknown rule selector 'IA999'"),
    ("extend = 'base.toml'", "'extend' belongs in a settings file"),
])
def test_a_bad_config_argument_is_a_one_line_error(tmp_path: Path, value: str, message: str) -> None:
    write(tmp_path, {"a.py": BAD})
    result = invoke("check", "--config", value, str(tmp_path))
    assert result.exit_code == 2
    assert message in _one_error_line(result.output)


def test_only_one_settings_file_can_be_given(tmp_path: Path) -> None:
    write(tmp_path, {"a.toml": "", "b.toml": "", "a.py": BAD})
    result = invoke("check", "--config", str(tmp_path / "a.toml"), "--config", str(tmp_path / "b.toml"), str(tmp_path))
    assert result.exit_code == 2
    assert "one settings file at most" in _one_error_line(result.output)


# --- --isolated ------------------------------------------------------------------------------

def test_isolated_ignores_every_settings_file_but_keeps_overrides(tmp_path: Path) -> None:
    write(tmp_path, {"pyproject.toml": '[tool.initaudit]\nselect = ["IA101"]\nexclude = ["gen"]\n',
                     "a.py": ZERO, "gen/b.py": BAD})
    assert _codes(str(tmp_path)) == ["IA101"]
    assert {"IA101", "IA104"} <= set(_codes("--isolated", str(tmp_path)))  # every rule, gen/ included
    assert _codes("--isolated", "--config", "select = ['IA104']", str(tmp_path)) == ["IA104"]
    assert _settings("--isolated", str(tmp_path))["settings-file"] is None


def test_isolated_refuses_a_settings_file(tmp_path: Path) -> None:
    write(tmp_path, {"team.toml": "", "a.py": BAD})
    result = invoke("check", "--isolated", "--config", str(tmp_path / "team.toml"), str(tmp_path))
    assert result.exit_code == 2
    assert "cannot be used with --isolated" in _one_error_line(result.output)


# --- --exclude, --extend-exclude ---------------------------------------------------------------

def test_exclude_replaces_the_settings_exclude_and_extend_exclude_adds(tmp_path: Path) -> None:
    write(tmp_path, {"pyproject.toml": '[tool.initaudit]\nexclude = ["gen"]\nextend-exclude = ["vendored"]\n',
                     "gen/a.py": BAD, "vendored/b.py": BAD, "old/c.py": BAD, "src/d.py": BAD, "src/e_pb2.py": BAD})
    root = str(tmp_path)

    def names(*args: str) -> list[str]:
        return sorted(Path(path).relative_to(tmp_path).as_posix() for path in _files(*args, root))

    assert names() == ["old/c.py", "src/d.py", "src/e_pb2.py"]
    assert names("--exclude", "old") == ["gen/a.py", "src/d.py", "src/e_pb2.py"]
    assert names("--exclude", "old,*_pb2.py") == ["gen/a.py", "src/d.py"]  # the settings' extend-exclude stays
    assert names("--extend-exclude", "old", "--extend-exclude", "*_pb2.py") == ["src/d.py"]


def test_command_line_patterns_are_relative_to_the_working_directory(tmp_path: Path,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    write(tmp_path, {"proj/pyproject.toml": "[tool.initaudit]\n", "proj/src/gen/a.py": BAD, "proj/src/b.py": BAD,
                     "proj/gen/c.py": BAD})
    monkeypatch.chdir(tmp_path)
    assert _files("--extend-exclude", "proj/src/gen", "proj") == ["proj/gen/c.py", "proj/src/b.py"]
    monkeypatch.chdir(tmp_path / "proj" / "src")
    assert _files("--extend-exclude", "gen/", str(tmp_path / "proj")) == [str(tmp_path / "proj" / "src" / "b.py")]
    assert _files("--extend-exclude", "./gen", "..") == ["../gen/c.py", "../src/b.py"]


# --- fix and unsafe-fixes settings ---------------------------------------------------------------

def test_fix_setting_fixes_and_no_fix_overrides_it(tmp_path: Path) -> None:
    write(tmp_path, {"pyproject.toml": "[tool.initaudit]\nfix = true\n", "a.py": BAD})
    before = (tmp_path / "a.py").read_text()
    kept = invoke("check", "--no-fix", str(tmp_path))
    assert kept.exit_code == 1 and (tmp_path / "a.py").read_text() == before
    fixed = invoke("check", str(tmp_path))
    assert fixed.exit_code == 0 and "Fixed 1 problem" in fixed.stdout
    assert (tmp_path / "a.py").read_text() == before.replace("xavier_uniform(", "xavier_uniform_(")


def test_fix_setting_leaves_other_modes_alone(tmp_path: Path) -> None:
    write(tmp_path, {"pyproject.toml": "[tool.initaudit]\nfix = true\n", "a.py": BAD})
    result = invoke("check", "--add-noqa", str(tmp_path))
    assert result.exit_code == 0
    assert (tmp_path / "a.py").read_text() == BAD.replace("(w)\n", "(w)  # noqa: IA104\n")


def test_unsafe_fixes_setting_and_its_negation(tmp_path: Path) -> None:
    write(tmp_path, {"pyproject.toml": "[tool.initaudit]\nfix = true\nunsafe-fixes = true\n", "a.py": MISMATCH})
    invoke("check", "--no-unsafe-fixes", str(tmp_path))
    assert (tmp_path / "a.py").read_text() == MISMATCH
    invoke("check", str(tmp_path))
    assert "kaiming" in (tmp_path / "a.py").read_text() and (tmp_path / "a.py").read_text() != MISMATCH


def test_fix_settings_must_be_booleans(tmp_path: Path) -> None:
    write(tmp_path, {"initaudit.toml": 'fix = "yes"\n', "a.py": BAD})
    result = invoke("check", str(tmp_path))
    assert result.exit_code == 2
    assert "'fix' must be true or false" in _one_error_line(result.output)
