"""``initaudit check`` options shaped like ruff's: selectors, exclusion, standard input, output
options, colour, settings files and the exit status."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from click.testing import CliRunner, Result

from initaudit.cli import main
from tests.lint.test_cli import BAD, write

ZERO = "import torch.nn as nn\nlayer = nn.Linear(3, 3)\nnn.init.zeros_(layer.weight)\n"
ESCAPE = "\x1b["


def invoke(*args: str, input: str | bytes | None = None) -> Result:
    return CliRunner().invoke(main, list(args), input=input)


def _one_error_line(output: str) -> str:
    lines = output.strip().splitlines()
    assert len(lines) == 1, output
    assert lines[0].startswith("initaudit: error:")
    return lines[0]


# --- selectors -------------------------------------------------------------------------------

@pytest.mark.parametrize("option", ["--select", "--extend-select", "--ignore"])
@pytest.mark.parametrize("typo", ["IA999", "IA103 IA104", "zero-weight", "IA1O1"])
def test_an_unknown_selector_is_a_usage_error(tmp_path: Path, option: str, typo: str) -> None:
    write(tmp_path, {"bad.py": BAD})
    result = invoke("check", option, typo, str(tmp_path))
    assert result.exit_code == 2
    line = _one_error_line(result.output)
    assert f"{option}: unknown rule selector {typo!r}" in line
    if " " in typo:
        assert "separate several with commas" in line


@pytest.mark.parametrize("selector", ["IA104", "ia104", "IA1", "IA10", "IA", "ALL", "deprecated-init-function"])
def test_codes_prefixes_and_names_select_rules(tmp_path: Path, selector: str) -> None:
    write(tmp_path, {"bad.py": BAD})
    result = invoke("check", "--select", selector, "--output-format", "json", str(tmp_path))
    assert [d["code"] for d in json.loads(result.output)["diagnostics"]] == ["IA104"]


def test_a_rule_name_in_ignore_leaves_its_findings_out(tmp_path: Path) -> None:
    write(tmp_path, {"bad.py": BAD})
    result = invoke("check", "--ignore", "deprecated-init-function", str(tmp_path))
    assert result.exit_code == 0


@pytest.mark.parametrize("settings", [
    '[tool.initaudit]\nselect = ["IA999"]\n',
    '[tool.initaudit]\nignore = ["IA103 IA104"]\n',
    '[tool.initaudit]\nper-file-ignores = { "tests/*" = ["zero-weight"] }\n',
    '[tool.initaudit]\nextend-select = ["nonsense"]\n',
])
def test_an_unknown_selector_in_the_settings_is_a_usage_error(tmp_path: Path, settings: str) -> None:
    write(tmp_path, {"pyproject.toml": settings, "bad.py": BAD})
    result = invoke("check", str(tmp_path / "bad.py"))
    assert result.exit_code == 2
    assert "unknown rule selector" in _one_error_line(result.output)


def test_extend_select_adds_to_the_configured_selection(tmp_path: Path) -> None:
    write(tmp_path, {"pyproject.toml": '[tool.initaudit]\nselect = ["IA101"]\n', "a.py": ZERO, "b.py": BAD})
    only = invoke("check", "--output-format", "json", str(tmp_path))
    assert [d["code"] for d in json.loads(only.output)["diagnostics"]] == ["IA101"]
    more = invoke("check", "--output-format", "json", "--extend-select", "IA104", str(tmp_path))
    assert [d["code"] for d in json.loads(more.output)["diagnostics"]] == ["IA101", "IA104"]


# --- exclusion -------------------------------------------------------------------------------

def _checked(tmp_path: Path, *args: str) -> list[str]:
    result = invoke("check", "--output-format", "json", "--no-cache", *args)
    assert result.exit_code in (0, 1), result.output
    return sorted(Path(d["path"]).relative_to(tmp_path).as_posix() for d in json.loads(result.output)["diagnostics"])


def _git_repository(root: Path) -> None:
    subprocess.run(["git", "init", "-q", str(root)], check=True)


def test_gitignored_directories_and_files_are_not_walked(tmp_path: Path) -> None:
    _git_repository(tmp_path)
    write(tmp_path, {
        ".gitignore": "generated/\n*_scratch.py\n!keep_scratch.py\n",
        "src/a.py": BAD, "generated/b.py": BAD, "src/c_scratch.py": BAD, "src/keep_scratch.py": BAD,
        "src/sub/.gitignore": "local.py\n", "src/sub/local.py": BAD, "src/sub/other.py": BAD,
    })
    assert _checked(tmp_path, str(tmp_path)) == ["src/a.py", "src/keep_scratch.py", "src/sub/other.py"]
    assert len(_checked(tmp_path, "--no-respect-gitignore", str(tmp_path))) == 6


def test_git_info_exclude_and_a_deeper_negation_apply(tmp_path: Path) -> None:
    _git_repository(tmp_path)
    write(tmp_path, {".git/info/exclude": "private.py\n", ".gitignore": "*.gen.py\n",
                     "private.py": BAD, "x.gen.py": BAD, "pkg/.gitignore": "!*.gen.py\n", "pkg/y.gen.py": BAD})
    assert _checked(tmp_path, str(tmp_path)) == ["pkg/y.gen.py"]


def test_gitignore_outside_a_repository_applies_from_the_project_root(tmp_path: Path) -> None:
    write(tmp_path, {"pyproject.toml": "[tool.initaudit]\n", ".gitignore": "out/\n",
                     "out/a.py": BAD, "b.py": BAD})
    assert _checked(tmp_path, str(tmp_path)) == ["b.py"]


def test_respect_gitignore_can_be_turned_off_in_the_settings(tmp_path: Path) -> None:
    _git_repository(tmp_path)
    write(tmp_path, {"pyproject.toml": "[tool.initaudit]\nrespect-gitignore = false\n",
                     ".gitignore": "out/\n", "out/a.py": BAD})
    assert _checked(tmp_path, str(tmp_path)) == ["out/a.py"]


def test_force_exclude_applies_excludes_to_named_files(tmp_path: Path) -> None:
    _git_repository(tmp_path)
    write(tmp_path, {"pyproject.toml": '[tool.initaudit]\nexclude = ["migrations"]\n', ".gitignore": "tmp/\n",
                     "migrations/m.py": BAD, "tmp/t.py": BAD, ".venv/v.py": BAD, "src/a.py": BAD})
    named = [str(tmp_path / name) for name in ("migrations/m.py", "tmp/t.py", ".venv/v.py", "src/a.py")]
    assert len(_checked(tmp_path, *named)) == 4  # named files are checked, as before
    assert _checked(tmp_path, "--force-exclude", *named) == ["src/a.py"]
    assert _checked(tmp_path, "--force-exclude", str(tmp_path / "migrations")) == []


def test_force_exclude_alone_checks_nothing_and_passes(tmp_path: Path) -> None:
    write(tmp_path, {"pyproject.toml": '[tool.initaudit]\nexclude = ["gen"]\nforce-exclude = true\n',
                     "gen/a.py": BAD})
    result = invoke("check", str(tmp_path / "gen" / "a.py"))
    assert result.exit_code == 0
    assert "0 files" in result.output


# --- standard input --------------------------------------------------------------------------

def test_standard_input_is_checked_under_its_filename(tmp_path: Path) -> None:
    result = invoke("check", "-", "--stdin-filename", "models/net.py", "--output-format", "concise", input=BAD)
    assert result.exit_code == 1
    assert result.output.startswith("models/net.py:2:1: IA104")


def test_stdin_filename_alone_reads_standard_input() -> None:
    result = invoke("check", "--stdin-filename", "net.py", "--output-format", "json", input=BAD)
    assert json.loads(result.output)["diagnostics"][0]["path"] == "net.py"


def test_fix_on_standard_input_writes_the_fixed_source_to_standard_output() -> None:
    result = invoke("check", "--fix", "-", input=BAD)
    assert result.stdout == BAD.replace("xavier_uniform(", "xavier_uniform_(")
    assert result.exit_code == 0
    assert "Fixed 1 problem" in result.stderr


def test_fix_on_standard_input_keeps_the_source_when_it_cannot_be_checked() -> None:
    broken = b"def f(:\n    pass\n"
    result = invoke("check", "--fix", "-", input=broken)
    assert result.stdout_bytes == broken
    assert result.exit_code == 1  # IA000


def test_diff_on_standard_input() -> None:
    result = invoke("check", "--diff", "--stdin-filename", "net.py", input=BAD)
    assert result.exit_code == 1
    assert "+nn.init.xavier_uniform_(w)" in result.output


def test_stdin_filename_decides_per_file_ignores_and_force_exclude(tmp_path: Path) -> None:
    write(tmp_path, {"pyproject.toml": '[tool.initaudit]\nexclude = ["gen"]\n'
                                       'per-file-ignores = { "tests/*" = ["IA104"] }\n'})
    ignored = invoke("check", "--stdin-filename", str(tmp_path / "tests" / "t.py"), input=BAD)
    assert ignored.exit_code == 0
    excluded = invoke("check", "--force-exclude", "--fix", "--stdin-filename", str(tmp_path / "gen" / "g.py"),
                      input=BAD)
    assert excluded.exit_code == 0
    assert excluded.stdout == BAD  # passed through untouched


def test_dash_cannot_be_mixed_with_paths(tmp_path: Path) -> None:
    result = invoke("check", "-", str(tmp_path), input=BAD)
    assert result.exit_code == 2
    assert "standard input" in _one_error_line(result.output)


# --- output and exit options -----------------------------------------------------------------

def test_statistics_count_findings_per_rule(tmp_path: Path) -> None:
    write(tmp_path, {"a.py": BAD, "b.py": BAD, "c.py": ZERO})
    # The two rules these files are written for, so that another rule's finding cannot add a row.
    result = invoke("check", "--statistics", "--select", "IA101,IA104", str(tmp_path))
    assert result.exit_code == 1
    assert result.output.splitlines() == ["2\tIA104\t[*] deprecated-init-function", "1\tIA101\t    zero-weight-init"]
    rows = json.loads(invoke("check", "--statistics", "--select", "IA101,IA104", "--output-format", "json",
                             str(tmp_path)).output)
    assert rows[0] == {"code": "IA104", "name": "deprecated-init-function", "count": 2, "fixable": "safe"}


def test_exit_zero_and_exit_non_zero_on_fix(tmp_path: Path) -> None:
    write(tmp_path, {"a.py": BAD})
    assert invoke("check", "--exit-zero", str(tmp_path)).exit_code == 0
    assert invoke("check", "--exit-zero", str(tmp_path / "missing.py")).exit_code == 2
    result = invoke("check", "--fix", "--exit-non-zero-on-fix", str(tmp_path))
    assert result.exit_code == 1  # nothing is left, but a file changed
    assert invoke("check", "--fix", "--exit-non-zero-on-fix", str(tmp_path)).exit_code == 0


def test_quiet_prints_findings_without_the_summary_line(tmp_path: Path) -> None:
    write(tmp_path, {"a.py": BAD, "clean.py": "x = 1\n"})
    noisy = invoke("check", "--output-format", "concise", str(tmp_path)).output
    quiet = invoke("check", "-q", "--output-format", "concise", str(tmp_path)).output
    assert quiet.splitlines() == noisy.splitlines()[:-1]
    assert invoke("check", "-q", str(tmp_path / "clean.py")).output == ""


def test_show_fixes_lists_what_fix_changed(tmp_path: Path) -> None:
    write(tmp_path, {"a.py": BAD + "nn.init.normal(w)\n"})
    result = invoke("check", "--fix", "--show-fixes", str(tmp_path))
    assert "Fixed 2 problems:" in result.output
    assert "    2 × IA104 (deprecated-init-function)" in result.output


def test_output_file_receives_the_report_without_colour(tmp_path: Path) -> None:
    write(tmp_path, {"a.py": BAD})
    report = tmp_path / "report.txt"
    result = invoke("check", "--color", "always", "--output-file", str(report), str(tmp_path / "a.py"))
    assert result.exit_code == 1
    assert result.output == ""
    assert "IA104" in report.read_text() and ESCAPE not in report.read_text()
    invoke("check", "--output-format", "json", "-o", str(report), str(tmp_path / "a.py"))
    assert json.loads(report.read_text())["summary"]["warnings"] == 1


@pytest.mark.parametrize("option", ["-o", "--write-baseline"])
def test_an_output_that_is_a_checked_file_is_refused(tmp_path: Path, option: str) -> None:
    write(tmp_path, {"a.py": BAD, "pkg/b.py": BAD})
    before = (tmp_path / "pkg" / "b.py").read_text()
    (tmp_path / "link.txt").symlink_to(tmp_path / "pkg" / "b.py")
    for output in (tmp_path / "pkg" / "b.py", tmp_path / "link.txt"):
        result = invoke("check", "--no-cache", option, str(output), str(tmp_path))
        assert result.exit_code == 2
        assert _one_error_line(result.output).endswith("a file being checked; the report goes to another file")
    assert (tmp_path / "pkg" / "b.py").read_text() == before and (tmp_path / "link.txt").is_symlink()


def test_output_to_a_device_is_written_straight(tmp_path: Path) -> None:
    write(tmp_path, {"a.py": BAD})
    result = invoke("check", "--no-cache", "-o", "/dev/null", str(tmp_path / "a.py"))
    assert result.exit_code == 1 and result.output == ""
    assert Path("/dev/null").is_char_device()


@pytest.mark.parametrize(("args", "env", "coloured"), [
    ((), {}, False),
    (("--color", "always"), {}, True),
    (("--color", "always"), {"NO_COLOR": "1"}, True),
    ((), {"FORCE_COLOR": "1"}, True),
    ((), {"FORCE_COLOR": "1", "NO_COLOR": "1"}, False),
    (("--color", "never"), {"FORCE_COLOR": "1"}, False),
])
def test_colour_follows_the_flag_then_no_color_then_force_color(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, args: tuple[str, ...], env: dict[str, str],
        coloured: bool) -> None:
    for name in ("NO_COLOR", "FORCE_COLOR"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    write(tmp_path, {"a.py": BAD})
    assert (ESCAPE in invoke("check", *args, str(tmp_path)).output) is coloured


# --- settings --------------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["initaudit.toml", ".initaudit.toml"])
def test_initaudit_toml_is_found_like_ruff_toml(tmp_path: Path, name: str) -> None:
    write(tmp_path, {name: 'ignore = ["IA104"]\n', "src/a.py": BAD})
    assert invoke("check", str(tmp_path / "src")).exit_code == 0


def test_the_first_settings_file_in_a_directory_wins(tmp_path: Path) -> None:
    write(tmp_path, {".initaudit.toml": 'ignore = ["IA104"]\n', "initaudit.toml": "select = [\"IA101\"]\n",
                     "pyproject.toml": "[tool.initaudit]\n", "sub/pyproject.toml": '[tool.initaudit]\nselect = ["IA104"]\n',
                     "sub/a.py": BAD, "a.py": BAD})
    top = json.loads(invoke("check", "--show-settings", "--output-format", "json", str(tmp_path / "a.py")).output)
    assert Path(top["settings-file"]).name == ".initaudit.toml"
    sub = json.loads(invoke("check", "--show-settings", "--output-format", "json", str(tmp_path / "sub")).output)
    assert sub["settings-file"] == str((tmp_path / "sub" / "pyproject.toml").resolve())
    assert sub["select"] == ["IA104"]


def test_show_settings_prints_the_resolved_settings(tmp_path: Path) -> None:
    write(tmp_path, {"pyproject.toml": '[tool.initaudit]\nselect = ["zero-weight-init"]\nexclude = ["gen"]\n'})
    result = invoke("check", "--show-settings", "--ignore", "IA2", "--no-respect-gitignore", str(tmp_path))
    assert result.exit_code == 0
    lines = result.output.splitlines()
    assert 'select = ["IA101"]' in lines and 'ignore = ["IA2"]' in lines
    assert 'exclude = ["gen"]' in lines and "respect-gitignore = false" in lines
    assert f'settings-file = "{(tmp_path / "pyproject.toml").resolve()}"' in lines


def test_a_bad_flag_in_the_settings_is_a_usage_error(tmp_path: Path) -> None:
    write(tmp_path, {"initaudit.toml": 'force-exclude = "yes"\n', "a.py": BAD})
    result = invoke("check", str(tmp_path / "a.py"))
    assert result.exit_code == 2
    assert "'force-exclude' must be true or false" in _one_error_line(result.output)


# --- progress --------------------------------------------------------------------------------

def _run_with_terminal_stderr(args: list[str], env: dict[str, str]) -> tuple[bytes, bytes, int]:
    """Run the command with standard error on a pseudo-terminal, standard output on a pipe."""
    import os
    import pty
    import sys

    leader, follower = pty.openpty()
    process = subprocess.Popen([sys.executable, "-m", "initaudit", *args], stdout=subprocess.PIPE,
                               stderr=follower, env=env)
    os.close(follower)
    terminal = b""
    while True:
        try:
            chunk = os.read(leader, 4096)
        except OSError:  # the pseudo-terminal closed
            break
        if not chunk:
            break
        terminal += chunk
    stdout = process.stdout.read()
    os.close(leader)
    return stdout, terminal, process.wait(timeout=120)


@pytest.mark.parametrize("ci", [False, True])
def test_a_progress_bar_shows_on_a_terminal_only_and_never_in_the_report(tmp_path: Path, ci: bool) -> None:
    import os

    write(tmp_path, {f"m{index:02}.py": ZERO for index in range(40)})
    env = {key: value for key, value in os.environ.items() if key not in ("CI", "NO_COLOR", "FORCE_COLOR")}
    env.update({"TERM": "xterm", **({"CI": "true"} if ci else {})})
    stdout, terminal, status = _run_with_terminal_stderr(
        ["check", "--no-cache", "-j", "1", "--output-format", "json", str(tmp_path)], env)
    assert status == 1
    assert json.loads(stdout)["summary"]["files"] == 40
    assert (b"checking" in terminal) is not ci


# --- rule and help ---------------------------------------------------------------------------

def test_top_level_help_shows_whole_command_descriptions() -> None:
    output = invoke("--help").output
    for line in output.split("Commands:")[1].strip().splitlines():
        assert line.rstrip().endswith("."), line


def test_rule_output_is_plain_markdown_when_piped() -> None:
    output = invoke("rule", "IA104").output
    assert output.startswith("# IA104 deprecated-init-function")
    assert "## What it does" in output
    assert not any(line != line.rstrip() for line in output.splitlines())  # no padding to a width


def test_rule_accepts_a_name_and_all_rules_and_json() -> None:
    from initaudit.catalogue import entries

    assert invoke("rule", "zero-weight-init").output.startswith("# IA101 ")
    every = invoke("rule", "--all").output
    assert [line.split()[1] for line in every.splitlines() if line.startswith("# IA")] == list(entries())
    [page] = json.loads(invoke("rule", "IA101", "--output-format", "json").output)
    assert page["code"] == "IA101" and "## Why is this bad" in page["page"]
    assert invoke("rule").exit_code == 2
    assert invoke("rule", "IA999").exit_code == 2


def test_a_named_directory_is_walked_even_where_git_ignores_it(tmp_path: Path) -> None:
    _git_repository(tmp_path)
    write(tmp_path, {".gitignore": ".venv/\n*.gen.py\nbuild/\n",
                     ".venv/lib/pkg/a.py": BAD, ".venv/lib/pkg/b.gen.py": BAD, ".venv/lib/pkg/build/c.py": BAD})
    named = tmp_path / ".venv" / "lib" / "pkg"
    assert _checked(tmp_path, str(named)) == [".venv/lib/pkg/a.py"]  # its own patterns still apply
    assert _checked(tmp_path, "--force-exclude", str(named / "a.py")) == []


def test_findings_at_one_place_come_out_in_one_order_whatever_the_hash_seed(tmp_path: Path) -> None:
    import os
    import sys

    write(tmp_path, {"net.py": (
        "import torch.nn as nn\n\nclass Net(nn.Module):\n    def __init__(self):\n        super().__init__()\n"
        "        self.fc1 = nn.Linear(4, 4)\n        self.fc2 = nn.Linear(4, 2)\n"
        "        for m in self.modules():\n            if isinstance(m, nn.Linear):\n"
        "                nn.init.kaiming_uniform_(m.weight, nonlinearity='relu')\n\n"
        "    def forward(self, x):\n        return self.fc2(self.fc1(x).tanh())\n")})
    outputs = set()
    for seed in ("1", "3", "5"):
        done = subprocess.run([sys.executable, "-m", "initaudit", "check", "--no-cache", "--output-format", "concise",
                               str(tmp_path / "net.py")], capture_output=True, text=True,
                              env={**os.environ, "PYTHONHASHSEED": seed})
        assert done.stdout.count("IA103") == 2
        outputs.add(done.stdout)
    assert len(outputs) == 1


def test_a_select_naming_only_audit_rules_is_refused(tmp_path: Path) -> None:
    """``check --select IA201`` would run no lint rule at all: a usage error, as ``model`` says
    of lint codes."""
    write(tmp_path, {"a.py": BAD})
    result = invoke("check", "--select", "IA201", str(tmp_path / "a.py"))
    assert result.exit_code == 2
    assert "'IA201' names no rule of `initaudit check`" in _one_error_line(result.output)
