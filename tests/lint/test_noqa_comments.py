"""``# noqa`` is read from comments, as Python's tokenizer finds them, never from strings."""

from __future__ import annotations

import pytest

from tests.conftest import lint

DEPRECATED = "import torch.nn as nn\nw = None\n"


@pytest.mark.parametrize("line", [
    'nn.init.normal(w); s = "see # noqa docs"',
    "nn.init.normal(w); s = '# noqa: IA104'",
    'nn.init.normal(w); s = """# initaudit: ignore[IA104]"""',
    'nn.init.normal(w, std=f"{1} # noqa")',
])
def test_a_noqa_inside_a_string_suppresses_nothing(line: str) -> None:
    assert [d.code for d in lint(DEPRECATED + line + "\n")] == ["IA104"]


@pytest.mark.parametrize("line", [
    "nn.init.normal(w)  # noqa",
    "nn.init.normal(w)  # noqa: IA104",
    'nn.init.normal(w)  # a "quoted" word, then # noqa: IA104',
    "nn.init.normal(w)  # initaudit: ignore[IA104]",
])
def test_a_noqa_comment_suppresses(line: str) -> None:
    assert lint(DEPRECATED + line + "\n") == []


def test_lines_are_counted_as_the_parser_counts_them() -> None:
    """Carriage returns alone end lines too: the comment's line is where the parser puts it."""
    source = DEPRECATED.replace("\n", "\r") + "nn.init.normal(w)  # noqa: IA104\rnn.init.normal(w)\r"
    assert [(d.code, d.line) for d in lint(source)] == [("IA104", 4)]


# ---------------------------------------------------------------- a whole file, unused codes

FINDINGS = "import torch.nn as nn\nw = None\nnn.init.normal(w)\nnn.init.xavier_uniform(w)\n"


def test_a_file_wide_noqa_on_its_own_line_suppresses_in_the_whole_file() -> None:
    assert lint("# initaudit: noqa\n" + FINDINGS) == []
    assert lint(FINDINGS + "# initaudit: noqa: IA104\n") == []
    assert [d.code for d in lint("# initaudit: noqa: IA103\n" + FINDINGS)] == ["IA100", "IA104", "IA104"]


def test_a_file_wide_noqa_after_code_only_covers_its_line() -> None:
    codes = [(d.line, d.code) for d in lint(FINDINGS.replace("normal(w)\n", "normal(w)  # initaudit: noqa\n"))]
    assert codes == [(4, "IA104")]


@pytest.mark.parametrize(("comment", "message"), [
    ("# noqa: IA104", "`# noqa` with unused code IA104 (nothing of that rule is suppressed here)"),
    ("# noqa: IA13", "`# noqa` with unknown code IA13"),
    ("# initaudit: ignore[IA101, IA999]", "`# noqa` with unknown code IA999 and unused code IA101 "
                                          "(nothing of that rule is suppressed here)"),
])
def test_unused_and_unknown_codes_are_reported(comment: str, message: str) -> None:
    [diagnostic] = lint(f"import torch.nn as nn\nlayer = nn.Linear(4, 4)  {comment}\n")
    assert (diagnostic.code, diagnostic.line, diagnostic.column, diagnostic.message) == ("IA100", 2, 26, message)


@pytest.mark.parametrize("line", [
    "nn.init.normal(w)  # noqa: IA104",  # used
    "x = 1  # noqa",  # a bare noqa is another tool's business too
    "x = 1  # noqa: E501, F401",  # other tools' codes
])
def test_used_bare_and_foreign_codes_are_not_reported(line: str) -> None:
    assert lint(DEPRECATED + line + "\n") == []


def test_codes_of_rules_the_run_does_not_select_are_not_judged() -> None:
    from initaudit import lint_source
    from initaudit.config import Config

    source = DEPRECATED + "x = 1  # noqa: IA103\n"
    assert lint_source(source, "m.py", Config(select=("IA100", "IA104"))) == []
    assert [d.code for d in lint_source(source, "m.py", Config(select=("IA100", "IA103")))] == ["IA100"]


@pytest.mark.parametrize(("before", "after"), [
    ("x = 1  # noqa: IA104\n", "x = 1\n"),
    ("x = 1  # noqa: E501, IA104\n", "x = 1  # noqa: E501\n"),
    ("x = 1  # initaudit: ignore[IA104, IA101]  # why\n", "x = 1  # why\n"),
    ("x = 1\r\n# initaudit: noqa: IA103\r\ny = 2\r\n", "x = 1\r\ny = 2\r\n"),
])
def test_the_fix_removes_only_what_is_reported(tmp_path, before: str, after: str) -> None:
    from click.testing import CliRunner

    from initaudit.cli import main

    path = tmp_path / "m.py"
    path.write_bytes(before.encode())
    result = CliRunner().invoke(main, ["check", "--no-cache", "--fix", str(path)])
    assert result.exit_code == 0, result.output
    assert path.read_bytes() == after.encode()
