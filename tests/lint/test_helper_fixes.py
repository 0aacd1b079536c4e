"""An init helper written in one file and applied to models of others is reported at each call
that applies it; where every application the run saw wants the same rewrite of the helper's
init line, each of those findings carries an unsafe fix whose edit is in the helper's file.
Applications that disagree, or one that needs no rewrite, leave every finding without one."""

from __future__ import annotations

import dataclasses
import json
import os
from pathlib import Path

import pytest

from initaudit.config import Config
from initaudit.diagnostics import Applicability, Diagnostic
from initaudit.lint.run import engine
from initaudit.lint.run.cache import _use
from initaudit.lint.run.runner import run_lint
from tests.lint.test_related_locations import check

HELPER = """\
import torch.nn as nn


def weight_init(m):
    if isinstance(m, nn.Linear):
        nn.init.xavier_uniform_(m.weight)
"""

#: A model of another file applying the helper; every Linear layer feeds ``{activation}``.
APPLIER = """\
import torch.nn as nn
from utils.init import weight_init


class {name}(nn.Module):
    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(4, 8), {activation}, nn.Linear(8, 8), {activation})
        self.apply(weight_init)

    def forward(self, x):
        return self.net(x)
"""

#: The same, written in the helper's own file.
OWN_APPLIER = """\


class Local(nn.Module):
    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(4, 4), {activation})
        self.apply(weight_init)

    def forward(self, x):
        return self.net(x)
"""

RELU = "nn.ReLU()"
REWRITE = 'nn.init.kaiming_uniform_(m.weight, nonlinearity="relu")'
INIT_LINE = "        nn.init.xavier_uniform_(m.weight)\n"


def project(root: Path, helper: str = HELPER, **appliers: str) -> Path:
    """``utils/init.py`` holding ``helper``, and one file per applier (name -> activation)."""
    files = {"pyproject.toml": "", "utils/__init__.py": "", "utils/init.py": helper}
    for name, activation in appliers.items():
        files[f"{name}.py"] = APPLIER.format(name=name.capitalize(), activation=activation)
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_bytes(text.encode("utf-8"))
    return root


def found(root: Path, *paths: Path, config: Config | None = None, **options: object) -> list[Diagnostic]:
    run = run_lint(list(paths) or [root], config or Config(), jobs=1, **options)
    assert not run.errors, [r.error for r in run.errors]
    return sorted((d for r in run for d in r.diagnostics if d.code == "IA103"), key=lambda d: d.sort_key)


def helper_text(root: Path) -> str:
    return (root / "utils" / "init.py").read_bytes().decode("utf-8")


# ---------------------------------------------------------------- when a fix is offered


def test_applications_that_agree_get_the_fix_at_the_helpers_line(tmp_path: Path) -> None:
    root = project(tmp_path, first=RELU, second=RELU)
    diagnostics = found(root)
    assert [(Path(d.path).name, d.line) for d in diagnostics] == [("first.py", 9), ("second.py", 9)]
    helper = str(root / "utils" / "init.py")
    for diagnostic in diagnostics:
        assert diagnostic.fix is not None and diagnostic.fix.applicability is Applicability.UNSAFE
        [edit] = diagnostic.fix.edits
        assert edit.path == helper and edit.text == REWRITE
        assert helper_text(root)[edit.start:edit.end] == "nn.init.xavier_uniform_(m.weight)"
        assert diagnostic.fix.message == f"Replace with `{REWRITE}` at {helper}:6"


def test_applications_that_disagree_get_no_fix(tmp_path: Path) -> None:
    root = project(tmp_path, first=RELU, second="nn.LeakyReLU(0.2)")
    diagnostics = found(root)
    assert len(diagnostics) == 2 and all(d.fix is None for d in diagnostics)
    assert check(root, "--fix", "--unsafe-fixes")[0] == 1
    assert helper_text(root) == HELPER


def test_an_application_with_no_finding_blocks_the_fix(tmp_path: Path) -> None:
    """Xavier suits the tanh net: rewriting the helper for the ReLU net would break it."""
    root = project(tmp_path, first=RELU, second="nn.Tanh()")
    [diagnostic] = found(root)
    assert Path(diagnostic.path).name == "first.py" and diagnostic.fix is None
    check(root, "--fix", "--unsafe-fixes")
    assert helper_text(root) == HELPER


def test_an_application_in_the_helpers_own_file_counts(tmp_path: Path) -> None:
    root = project(tmp_path, HELPER + OWN_APPLIER.format(activation="nn.Tanh()"), first=RELU)
    [diagnostic] = found(root)
    assert Path(diagnostic.path).name == "first.py" and diagnostic.fix is None


def test_the_helpers_file_outside_the_checked_paths_is_not_fixed(tmp_path: Path) -> None:
    root = project(tmp_path, first=RELU)
    [diagnostic] = found(root, root / "first.py")
    assert diagnostic.fix is None
    run_lint([root / "first.py"], Config(), jobs=1, fix=True, unsafe_fixes=True)
    assert helper_text(root) == HELPER


def test_the_rule_ignored_in_a_file_that_reads_the_helper_blocks_the_fix(tmp_path: Path) -> None:
    """Its applications were not judged: nobody knows what they want."""
    root = project(tmp_path, first=RELU, second="nn.Tanh()")
    config = dataclasses.replace(Config(root=root), per_file_ignores=(("second.py", ("IA103",)),))
    [diagnostic] = found(root, config=config)
    assert diagnostic.fix is None


# ---------------------------------------------------------------- applying it


def test_fix_unsafe_rewrites_the_helper_once_and_the_project_checks_clean(tmp_path: Path) -> None:
    root = project(tmp_path, first=RELU, second=RELU)
    before = (root / "first.py").read_bytes()
    status, output = check(root, "--fix", "--unsafe-fixes", "--show-fixes", "--select", "IA103")
    assert status == 0, output
    assert helper_text(root) == HELPER.replace("nn.init.xavier_uniform_(m.weight)", REWRITE)
    assert (root / "first.py").read_bytes() == before
    assert "2 × IA103" not in output and "1 × IA103 (init-activation-mismatch)" in output
    assert check(root, "--select", "IA103") == (0, "All checks passed (4 files checked).\n")


def test_safe_fixes_alone_leave_the_helper_alone(tmp_path: Path) -> None:
    root = project(tmp_path, first=RELU)
    status, output = check(root, "--fix")
    assert status == 1 and helper_text(root) == HELPER
    assert "1 more with --fix --unsafe-fixes" in output


def test_safe_fixes_of_the_helpers_file_withdraw_the_fix_they_would_move(tmp_path: Path) -> None:
    """``--fix`` rewrites the helper's file for its own safe fix: the unsafe one, counted in its
    text as read, is not offered on a text it no longer matches."""
    root = project(tmp_path, "def draw(w):\n    nn.init.normal(w)\n\n\n" + HELPER, first=RELU)
    run = run_lint([root], Config(), jobs=1, fix=True)
    [diagnostic] = [d for r in run for d in r.diagnostics if d.code == "IA103"]
    assert diagnostic.fix is None and "nn.init.normal_(w)" in helper_text(root)


def test_applied_from_its_own_file_and_another_the_line_is_rewritten_once(tmp_path: Path) -> None:
    root = project(tmp_path, HELPER + OWN_APPLIER.format(activation=RELU), first=RELU)
    diagnostics = found(root)
    [own] = [d for d in diagnostics if Path(d.path).name == "init.py"]
    [other] = [d for d in diagnostics if Path(d.path).name == "first.py"]
    assert own.fix is not None and own.fix.edits[0].path is None  # its own fix, as before
    assert other.fix is not None and other.fix.edits[0].path == str(root / "utils" / "init.py")
    assert (own.fix.edits[0].start, own.fix.edits[0].end) == (other.fix.edits[0].start, other.fix.edits[0].end)
    check(root, "--fix", "--unsafe-fixes")
    text = helper_text(root)
    assert text.count(REWRITE) == 1 and "xavier" not in text
    assert check(root, "--select", "IA103")[0] == 0


def test_the_helpers_own_fixes_land_with_it_keeping_line_endings(tmp_path: Path) -> None:
    """A deprecated alias in the helper's file is fixed by the file's own (safe) fix, the
    helper's line by the shared one; CRLF line endings stay."""
    helper = (HELPER + "\n\ndef draw(w):\n    nn.init.normal(w)\n").replace("\n", "\r\n")
    root = project(tmp_path, helper, first=RELU)
    check(root, "--fix", "--unsafe-fixes")
    expected = helper.replace("nn.init.xavier_uniform_(m.weight)", REWRITE).replace("normal(w)", "normal_(w)")
    assert helper_text(root) == expected


# ---------------------------------------------------------------- how it is shown


def test_diff_shows_the_helpers_file(tmp_path: Path) -> None:
    root = project(tmp_path, first=RELU)
    status, output = check(root, "--diff", "--unsafe-fixes")
    assert status == 1
    path = os.path.join("utils", "init.py")
    assert f"--- a/{path}\n+++ b/{path}\n" in output
    assert f"-{INIT_LINE}+        {REWRITE}\n" in output
    assert "first.py" not in output and helper_text(root) == HELPER


def test_full_text_names_the_helpers_line_in_the_fix(tmp_path: Path) -> None:
    root = project(tmp_path, first=RELU)
    block = check(root)[1].split("\n\n")[0]
    assert block.splitlines()[-1] == (f"  = fix (--unsafe-fixes): Replace with `{REWRITE}` at "
                                      f"{os.path.join('utils', 'init.py')}:6")


def test_json_edit_names_its_file(tmp_path: Path) -> None:
    root = project(tmp_path, HELPER + OWN_APPLIER.format(activation=RELU), first=RELU)
    status, output = check(root, "--output-format", "json", "--select", "IA103")
    assert status == 1
    by_path = {d["path"]: d for d in json.loads(output)["diagnostics"]}
    path = os.path.join("utils", "init.py")
    edit = {"content": REWRITE, "location": {"row": 6, "column": 9}, "end_location": {"row": 6, "column": 42}}
    assert by_path["first.py"]["fix"] == {"applicability": "unsafe", "message": f"Replace with `{REWRITE}` at {path}:6",
                                          "edits": [{**edit, "path": path}]}
    # An edit of the diagnostic's own file names no file, as before.
    assert by_path[path]["fix"]["edits"] == [edit]


# ---------------------------------------------------------------- the cache


def test_a_warm_run_gives_what_a_cold_one_does(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = project(tmp_path / "project", first=RELU, second=RELU)
    cache = tmp_path / "cache"
    cold = found(root, cache_dir=cache)
    assert cold and all(d.fix is not None for d in cold)

    def must_not_run(*args: object, **kwargs: object) -> None:
        raise AssertionError("a cached file was checked again")

    monkeypatch.setattr(engine, "lint_file", must_not_run)
    assert found(root, cache_dir=cache) == cold


def test_a_warm_run_sees_a_changed_application(tmp_path: Path) -> None:
    root = project(tmp_path / "project", first=RELU, second=RELU)
    cache = tmp_path / "cache"
    assert all(d.fix is not None for d in found(root, cache_dir=cache))
    (root / "second.py").write_text(APPLIER.format(name="Second", activation="nn.Tanh()"), encoding="utf-8")
    [diagnostic] = found(root, cache_dir=cache)
    assert diagnostic.fix is None


@pytest.mark.parametrize("entry", [3, ["IA103", "a.py", 1, 0, 1], ["IA103", "a.py", "1", 0, 1, 2, "x", None],
                                   ["IA103", "a.py", 1, 0, 1, 2, "x", 5]])
def test_a_cached_application_of_the_wrong_shape_is_refused(entry: object) -> None:
    with pytest.raises(TypeError):
        _use(entry)  # type: ignore[arg-type]

