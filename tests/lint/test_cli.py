"""``initaudit check``, ``rule`` and ``rules`` as a user and a CI system see them."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from click.testing import CliRunner

from initaudit.cli import main
from tests.conftest import XAVIER_BEFORE_RELU

BAD = "import torch.nn as nn\nnn.init.xavier_uniform(w)\n"
MISMATCH = "import torch.nn as nn\nimport torch.nn.functional as F\n\n" + XAVIER_BEFORE_RELU


def invoke(*args: str, cwd: Path | None = None):
    runner = CliRunner()
    if cwd is None:
        return runner.invoke(main, list(args))
    with runner.isolated_filesystem(temp_dir=cwd):
        return runner.invoke(main, list(args))


def write(root: Path, files: dict[str, str | bytes]) -> None:
    for name, content in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content if isinstance(content, bytes) else content.encode())


def test_exit_codes(tmp_path: Path) -> None:
    write(tmp_path, {"clean.py": "import torch\n", "bad.py": BAD})
    assert invoke("check", str(tmp_path / "clean.py")).exit_code == 0
    assert invoke("check", str(tmp_path)).exit_code == 1
    result = invoke("check", str(tmp_path / "missing.py"))
    assert result.exit_code == 2
    assert result.output.strip().splitlines()[0].startswith("initaudit: error:")
    assert "Traceback" not in result.output


def test_json_contract(tmp_path: Path) -> None:
    write(tmp_path, {"b.py": BAD, "a.py": MISMATCH, "c.py": "x = (\n"})
    result = invoke("check", str(tmp_path), "--format", "json")
    data = json.loads(result.output)
    assert set(data) == {"version", "diagnostics", "summary"} and data["version"] == 1
    assert data["summary"] == {"files": 3, "parsed": 2, "skipped": 0, "errors": 1, "warnings": 2, "info": 0,
                               "diagnostics": 3}
    keys = {"path", "line", "column", "end_line", "end_column", "code", "name", "severity", "message", "fix"}
    for item in data["diagnostics"]:
        assert set(item) == keys
        assert item["fix"] is None or set(item["fix"]) == {"applicability", "message", "edits"}
    assert [(Path(d["path"]).name, d["code"]) for d in data["diagnostics"]] == [
        ("a.py", "IA103"), ("b.py", "IA104"), ("c.py", "IA000")]
    ia104 = data["diagnostics"][1]
    assert (ia104["line"], ia104["column"], ia104["end_line"], ia104["end_column"]) == (2, 1, 2, 23)
    assert ia104["fix"]["applicability"] == "safe" and ia104["fix"]["message"] == "Rename to `xavier_uniform_`"


def test_text_format(tmp_path: Path) -> None:
    write(tmp_path, {"bad.py": BAD})
    output = invoke("check", str(tmp_path / "bad.py")).output
    lines = output.splitlines()
    assert lines[0].startswith(f"{tmp_path / 'bad.py'}:2:1: IA104 ")
    assert lines[1] == "2 | nn.init.xavier_uniform(w)"
    assert lines[2] == "    " + "^" * len("nn.init.xavier_uniform")
    assert "\x1b[" not in output  # no colour when not a terminal
    assert lines[-1].startswith("Found 1 problem (1 warning) in 1 file. 1 fixable with --fix.")
    clean = tmp_path / "clean.py"
    clean.write_text("x = 1\n")
    assert invoke("check", str(clean)).output.strip() == "All checks passed (1 file checked)."


@pytest.mark.parametrize("content,line", [
    (b"def f(:\n    pass\n", 1),
    (b"x = 1\n\xff\xfe = 2\n", 2),
    (b"x = 1\ny = 2\x00\n", 2),
    (b"# -*- coding: latin-1 -*-\nx = '\xe9'\nif True:\npass\n", 4),
])
def test_unparseable_files_are_reported_and_the_run_goes_on(tmp_path: Path, content: bytes, line: int) -> None:
    write(tmp_path, {"a_broken.py": content, "b_bad.py": BAD})
    result = invoke("check", str(tmp_path), "--format", "json")
    data = json.loads(result.output)
    codes = [(Path(d["path"]).name, d["code"], d["line"]) for d in data["diagnostics"]]
    assert codes == [("a_broken.py", "IA000", line), ("b_bad.py", "IA104", 2)]
    assert result.exit_code == 1


def test_discovery_excludes_and_explicit_files(tmp_path: Path) -> None:
    write(tmp_path, {"pkg/model.py": BAD, ".venv/lib/x.py": BAD, "build/y.py": BAD,
                     "node_modules/z.py": BAD, "pkg/notes.txt": BAD})
    data = json.loads(invoke("check", str(tmp_path), "--format", "json").output)
    assert [Path(d["path"]).relative_to(tmp_path).as_posix() for d in data["diagnostics"]] == ["pkg/model.py"]
    explicit = invoke("check", str(tmp_path / "build" / "y.py"), "--format", "json")
    assert len(json.loads(explicit.output)["diagnostics"]) == 1


def test_each_file_is_checked_once_whatever_path_names_it(tmp_path: Path) -> None:
    write(tmp_path, {"pkg/model.py": BAD})
    (tmp_path / "alias.py").symlink_to(tmp_path / "pkg" / "model.py")
    paths = (tmp_path / "pkg", tmp_path / "pkg" / "model.py", tmp_path / "pkg" / ".." / "pkg",
             tmp_path / "alias.py")
    data = json.loads(invoke("check", *map(str, paths), "--format", "json").output)
    assert data["summary"]["files"] == 1 and len(data["diagnostics"]) == 1


def test_pyproject_settings(tmp_path: Path) -> None:
    write(tmp_path, {
        "pyproject.toml": textwrap.dedent("""\
            [tool.initaudit]
            ignore = ["IA103"]
            exclude = ["generated", "src/vendored/", "src/*_pb2.py"]
            per-file-ignores = {"legacy/*" = ["IA104"]}
        """),
        "src/a.py": BAD + MISMATCH, "legacy/old.py": BAD, "generated/g.py": BAD,
        "src/vendored/v.py": BAD, "src/api_pb2.py": BAD, "src/sub/vendored/kept.py": BAD,
    })
    data = json.loads(invoke("check", str(tmp_path), "--format", "json").output)
    assert [(Path(d["path"]).name, d["code"]) for d in data["diagnostics"]] == [
        ("a.py", "IA104"), ("kept.py", "IA104")]
    from_inside = json.loads(invoke("check", str(tmp_path / "src" / "sub"), "--format", "json").output)
    assert [Path(d["path"]).name for d in from_inside["diagnostics"]] == ["kept.py"]
    selected = json.loads(invoke("check", str(tmp_path / "src"), "--select", "IA103", "--format", "json").output)
    assert [d["code"] for d in selected["diagnostics"]] == ["IA103"]
    ignored = json.loads(invoke("check", str(tmp_path / "src"), "--ignore", "IA1", "--format", "json").output)
    assert ignored["diagnostics"] == []


def test_config_file_option_and_errors(tmp_path: Path) -> None:
    write(tmp_path, {"a.py": BAD, "only103.toml": 'select = ["IA103"]\n', "bad.toml": "select = 3\n",
                     "typo.toml": 'selct = ["IA1"]\n', "broken.toml": "select = [\n"})
    assert invoke("check", str(tmp_path / "a.py"), "--config", str(tmp_path / "only103.toml")).exit_code == 0
    for name in ("bad.toml", "typo.toml", "broken.toml"):
        result = invoke("check", str(tmp_path / "a.py"), "--config", str(tmp_path / name))
        assert result.exit_code == 2
        assert result.output.startswith("initaudit: error:") and len(result.output.strip().splitlines()) == 1


@pytest.mark.parametrize("comment,reported", [
    ("  # noqa", False),
    ("  # noqa: IA104", False),
    ("  # NOQA:IA101,IA104", False),
    ("  # initaudit: ignore[IA104]", False),
    ("  # initaudit: ignore", False),
    ("  # noqa: IA103", True),
    ("  # initaudit: ignore[IA101,IA102]", True),
    ("", True),
])
def test_suppression_comments(tmp_path: Path, comment: str, reported: bool) -> None:
    write(tmp_path, {"a.py": f"import torch.nn as nn\nnn.init.xavier_uniform(w){comment}\n"})
    result = invoke("check", str(tmp_path / "a.py"), "--format", "json")
    codes = [d["code"] for d in json.loads(result.output)["diagnostics"]]
    assert ("IA104" in codes) is reported  # (an unused IA101 is IA100's: test_noqa_comments.py)


def test_sarif_and_github_formats(tmp_path: Path) -> None:
    write(tmp_path, {"a.py": BAD})
    sarif = json.loads(invoke("check", str(tmp_path), "--format", "sarif").output)
    assert sarif["version"] == "2.1.0"
    [result] = sarif["runs"][0]["results"]
    assert result["ruleId"] == "IA104" and result["locations"][0]["physicalLocation"]["region"]["startLine"] == 2
    github = invoke("check", str(tmp_path), "--format", "github").output.strip()
    assert github.startswith("::warning file=") and ",line=2,col=1," in github and "title=IA104" in github


def test_parallel_jobs_give_the_same_output(tmp_path: Path) -> None:
    write(tmp_path, {f"m{i:02}.py": (BAD if i % 3 else MISMATCH) for i in range(40)})
    one = invoke("check", str(tmp_path), "--format", "json", "--jobs", "1").output
    two = invoke("check", str(tmp_path), "--format", "json", "--jobs", "2").output
    assert one == two and len(json.loads(one)["diagnostics"]) == 40


def test_rule_and_rules_commands() -> None:
    listing = invoke("rules").output
    for code in ("IA000", "IA101", "IA102", "IA103", "IA104"):
        assert code in listing
    explained = invoke("rule", "ia103")
    assert explained.exit_code == 0
    assert "init-activation-mismatch" in explained.output and "Why is this bad" in explained.output
    unknown = invoke("rule", "IA999")
    assert unknown.exit_code == 2 and unknown.output.startswith("initaudit: error:")


def test_linter_never_imports_torch(tmp_path: Path) -> None:
    write(tmp_path, {"a.py": BAD + MISMATCH})
    script = textwrap.dedent(f"""
        import sys
        import initaudit
        initaudit.lint_paths([{str(tmp_path)!r}])
        from initaudit.cli import main
        try:
            main(["check", {str(tmp_path)!r}, "--format", "json"])
        except SystemExit:
            pass
        assert "torch" not in sys.modules, "torch was imported"
        print("ok")
    """)
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert result.stdout.strip().endswith("ok"), result.stderr


def test_python_api(tmp_path: Path) -> None:
    import initaudit

    [diagnostic] = initaudit.lint_source(BAD, path="x.py")
    assert diagnostic.code == "IA104" and diagnostic.path == "x.py"
    write(tmp_path, {"a.py": BAD, "b.py": "x = 1\n"})
    results = initaudit.lint_paths([tmp_path])
    assert [len(r.diagnostics) for r in results] == [1, 0]

