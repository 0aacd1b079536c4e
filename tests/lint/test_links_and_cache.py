"""What a checkout cannot make the linter do: write, delete or read outside the tree through the
symbolic links it ships, or trust a cache it did not write."""

from __future__ import annotations

import hashlib
import json
import os
import resource
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from initaudit.cli import main
from initaudit.config import Config
from initaudit.lint.files.roots import MAX_PROJECT_FILE, project_roots
from initaudit.lint.run import engine
from initaudit.lint.run.cache import ResultCache, key_file, settings_key
from initaudit.lint.run.runner import run_lint

BAD = "import torch.nn as nn\nnn.init.xavier_uniform(w)\n"
FIXED = "import torch.nn as nn\nnn.init.xavier_uniform_(w)\n"
BLOCK = """\
import torch.nn as nn
import torch.nn.functional as F


class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(8, 8)

    def forward(self, x):
        return F.relu(self.fc1(x))
"""
MODEL = """\
import torch.nn as nn
{import_line}


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.block = Block()
        nn.init.xavier_uniform_(self.block.fc1.weight)

    def forward(self, x):
        return self.block(x)
"""


def check(*args: str) -> Result:
    return CliRunner().invoke(main, ["check", "--jobs", "1", *args])


def warnings(result: Result) -> list[str]:
    return [line for line in result.stderr.splitlines() if line.startswith("initaudit: warning:")]


def tree(directory: Path) -> dict[str, str]:
    """Every entry below ``directory``: a link's target, a file's text."""
    return {str(path.relative_to(directory)): os.readlink(path) if path.is_symlink() else path.read_text()
            for path in sorted(directory.rglob("*")) if path.is_symlink() or path.is_file()}


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "project"
    root.mkdir()
    (root / ".initaudit.toml").write_text("")
    (root / "a.py").write_text(BAD)
    return root


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    """A directory beside the project, with a file a cache would delete and one to protect."""
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "results-0123456789abcdef.json").write_text("{}")
    (elsewhere / "notes.txt").write_text("mine\n")
    return elsewhere


# ---------------------------------------------------------------- the cache directory


@pytest.mark.parametrize("where", ["default", "--cache-dir", "dangling default"])
def test_a_cache_directory_that_is_a_link_is_refused(project: Path, outside: Path, where: str) -> None:
    link = project / (".initaudit_cache" if "default" in where else "cache")
    link.symlink_to(outside / "absent" if where == "dangling default" else outside)
    before = tree(outside)
    options = ["--cache-dir", str(link)] if where == "--cache-dir" else []
    for _ in range(2):
        result = check(*options, str(project))
        assert result.exit_code == 1 and "IA104" in result.stdout
        assert warnings(result) == [f"initaudit: warning: {link}: the cache directory is a symbolic link; "
                                    "results are not cached"]
    assert tree(outside) == before and not (outside / "absent").exists()


def test_a_link_on_the_way_to_the_cache_that_leaves_the_project_is_refused(project: Path, outside: Path) -> None:
    (project / "var").symlink_to(outside)
    result = check("--cache-dir", str(project / "var" / "cache"), str(project))
    assert result.exit_code == 1 and len(warnings(result)) == 1
    assert "leads out of the project" in warnings(result)[0]
    assert not (outside / "cache").exists()


def test_a_link_on_the_way_to_the_cache_inside_the_project_is_used(project: Path, monkeypatch) -> None:
    (project / "real").mkdir()
    (project / "var").symlink_to(project / "real")
    cache = str(project / "var" / "cache")
    cold = check("--cache-dir", cache, str(project))
    assert warnings(cold) == [] and (project / "real" / "cache" / ".gitignore").is_file()
    monkeypatch.setattr(engine, "lint_file", lambda *args, **kwargs: pytest.fail("checked again"))
    assert check("--cache-dir", cache, str(project)).stdout == cold.stdout


def test_nothing_in_the_cache_directory_is_written_or_deleted_through_a_link(project: Path, outside: Path,
                                                                           monkeypatch) -> None:
    cache = project / ".initaudit_cache"
    cache.mkdir()
    (cache / ".gitignore").symlink_to(outside / "planted")  # dangling: writing it would create it
    (cache / "results-1111111111111111.json").symlink_to(outside / "results-0123456789abcdef.json")
    (cache / "results-2222222222222222.json").write_text("{}")  # a stale result of ours
    before = tree(outside)
    cold = check(str(project))
    assert tree(outside) == before and not (outside / "planted").exists()
    assert (cache / "results-1111111111111111.json").is_symlink()
    assert not (cache / "results-2222222222222222.json").exists()
    monkeypatch.setattr(engine, "lint_file", lambda *args, **kwargs: pytest.fail("checked again"))
    assert check(str(project)).stdout == cold.stdout  # results are still cached


# ---------------------------------------------------------------- links met in a walk


def test_a_walked_link_leaving_the_tree_is_not_read(project: Path, outside: Path) -> None:
    (outside / "passwd").write_text("root:x:0:0:root:/root:/bin/bash\n")
    (project / "secret.py").symlink_to(outside / "passwd")
    (project / "a.py").write_text("x = 1\n")
    result = check("--no-cache", str(project))
    assert result.exit_code == 0, result.output
    assert "root:x" not in result.output and "IA000" not in result.output
    assert warnings(result) == [f"initaudit: warning: {project / 'secret.py'}: symbolic link to a file "
                                "outside the checked directory; not followed"]
    assert result.stdout == "All checks passed (1 file checked).\n"


@pytest.mark.parametrize("mode", ["--fix", "--add-noqa"])
def test_fixes_and_noqa_comments_stay_in_the_tree(project: Path, outside: Path, mode: str) -> None:
    (outside / "shared.py").write_text(BAD)
    (project / "shared.py").symlink_to(outside / "shared.py")
    (project / "data").mkdir()
    (project / "data" / "impl.txt").write_text(BAD)
    (project / "model.py").symlink_to(project / "data" / "impl.txt")  # stays inside: followed
    result = check("--no-cache", mode, str(project))
    assert result.exit_code == 0, result.output
    assert (outside / "shared.py").read_text() == BAD
    changed = FIXED if mode == "--fix" else BAD.replace("(w)\n", "(w)  # noqa: IA104\n")
    assert (project / "a.py").read_text() == (project / "data" / "impl.txt").read_text() == changed
    assert (project / "model.py").is_symlink()
    assert len(warnings(result)) == 1 and "shared.py" in warnings(result)[0]


def test_a_link_named_on_the_command_line_is_followed(project: Path, outside: Path) -> None:
    (outside / "shared.py").write_text(BAD)
    (project / "shared.py").symlink_to(outside / "shared.py")
    result = check("--no-cache", "--fix", str(project / "shared.py"))
    assert result.exit_code == 0 and warnings(result) == []
    assert (outside / "shared.py").read_text() == FIXED


@pytest.mark.parametrize("layout", ["file link", "directory link"])
def test_project_files_are_not_read_through_a_link_leaving_the_project(tmp_path: Path, layout: str) -> None:
    root, elsewhere = tmp_path / "project", tmp_path / "elsewhere"
    (root / "pkg").mkdir(parents=True)
    elsewhere.mkdir()
    (root / "pyproject.toml").write_text("")
    (root / "pkg" / "__init__.py").write_text("")
    (elsewhere / "blocks.py").write_text(BLOCK)
    if layout == "file link":
        (root / "pkg" / "blocks.py").symlink_to(elsewhere / "blocks.py")
        import_line = "from .blocks import Block"
    else:
        (root / "pkg" / "layers").symlink_to(elsewhere)
        import_line = "from .layers.blocks import Block"
    (root / "pkg" / "model.py").write_text(MODEL.format(import_line=import_line))
    run = run_lint([root / "pkg" / "model.py"], Config())
    assert [d.message for r in run for d in r.diagnostics] == []
    assert all(not result.reads for result in run)
    # The same block through a link that stays in the project is known.
    (root / "shared").mkdir()
    (root / "shared" / "blocks.py").write_text(BLOCK)
    link = root / "pkg" / ("blocks.py" if layout == "file link" else "layers")
    link.unlink()
    link.symlink_to(root / "shared" / ("blocks.py" if layout == "file link" else ""))
    run = run_lint([root / "pkg" / "model.py"], Config())
    assert ["feeds relu" in d.message for r in run for d in r.diagnostics] == [True]


# ---------------------------------------------------------------- a cache it did not write


def planted_key(path: Path) -> str:
    """The entry key of ``path``, derived as anyone can derive it."""
    digest = hashlib.sha256(path.read_bytes())
    digest.update(b"\0" + str(path).encode() + b"\0" + settings_key(Config()).encode())
    return digest.hexdigest()


def test_a_planted_results_file_is_a_miss(project: Path) -> None:
    cache, source = project / "cache", project / "a.py"
    check("--cache-dir", str(cache), str(source))
    [stored] = cache.glob("results-*.json")  # its name follows from the installed version
    stored.write_text(json.dumps({planted_key(source): {"parsed": True, "diagnostics": []}}))
    result = check("--cache-dir", str(cache), str(source))
    assert result.exit_code == 1 and "IA104" in result.stdout


def _memory_cap() -> None:
    """In a child: reading /dev/zero to its end fails there, instead of exhausting the machine."""
    resource.setrlimit(resource.RLIMIT_AS, (2 << 30, 2 << 30))


def test_a_planted_read_of_an_endless_file_is_never_read(project: Path) -> None:
    cache, source = project / "cache", project / "a.py"
    check("--cache-dir", str(cache), str(source))
    [stored] = cache.glob("results-*.json")
    stored.write_text(json.dumps({planted_key(source): {"parsed": True, "diagnostics": [],
                                                        "reads": {"/dev/zero": "0" * 64}}}))

    done = subprocess.run([sys.executable, "-m", "initaudit", "check", "--jobs", "1", "--format", "json",
                           "--cache-dir", str(cache), str(source)],
                          capture_output=True, text=True, timeout=120, preexec_fn=_memory_cap)
    assert done.returncode == 1, done.stderr
    assert [d["code"] for d in json.loads(done.stdout)["diagnostics"]] == ["IA104"]


@pytest.mark.parametrize("read", ["endless device", "fifo in the project", "file outside the project",
                                  "link leaving the project", "file over the size bound", "project file"])
def test_a_signed_entry_trusts_only_regular_project_files_it_read(project: Path, outside: Path, read: str) -> None:
    """An entry the user's own run signed, poisoned: its findings emptied, its reads pointed
    elsewhere. Only a regular file inside the project, unchanged, keeps it a hit."""
    cache, source = project / "cache", project / "a.py"
    (outside / "blocks.py").write_text(BLOCK)
    path = {"endless device": Path("/dev/zero"), "fifo in the project": project / "pipe.py",
            "file outside the project": outside / "blocks.py", "link leaving the project": project / "blocks.py",
            "file over the size bound": project / "huge.py", "project file": project / "blocks.py"}[read]
    if read == "fifo in the project":
        os.mkfifo(path)
    elif read == "link leaving the project":
        path.symlink_to(outside / "blocks.py")
    elif read == "file over the size bound":
        with open(path, "wb") as handle:
            handle.truncate(MAX_PROJECT_FILE + 1)
    elif read == "project file":
        path.write_text(BLOCK)
    digest = hashlib.sha256(b"" if read in ("endless device", "fifo in the project") else path.read_bytes())
    check("--cache-dir", str(cache), str(source))
    stored = ResultCache.open(cache, Config(), project_roots([source]))
    assert stored is not None and len(stored.entries) == 1
    for entry in stored.entries.values():
        entry["diagnostics"], entry["reads"] = [], {str(path): digest.hexdigest()}
    stored.dirty = True
    stored.save()
    result = check("--cache-dir", str(cache), str(source))
    assert result.exit_code == (0 if read == "project file" else 1), result.output


def test_the_key_is_private_and_kept_outside_the_project(project: Path, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "user-cache"))
    check(str(project))
    key = key_file()
    assert key == tmp_path / "user-cache" / "initaudit" / "key"
    assert len(key.read_bytes()) == 32 and key.stat().st_mode & 0o777 == 0o600


@pytest.mark.parametrize("problem", ["readable by others", "cannot be made"])
def test_without_a_trustworthy_key_nothing_is_cached(project: Path, tmp_path: Path, monkeypatch,
                                                      problem: str) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "user-cache"))
    if problem == "readable by others":
        key_file().parent.mkdir(parents=True)
        key_file().write_bytes(b"k" * 32)
        key_file().chmod(0o644)
    else:
        (tmp_path / "user-cache").write_text("a file where a directory should be")
    result = check(str(project))
    assert result.exit_code == 1 and "IA104" in result.stdout and warnings(result) == []
    assert not (project / ".initaudit_cache").exists()


@pytest.mark.parametrize("target", ["/dev/zero", "outside"])
def test_a_gitignore_that_is_a_link_is_not_read(tmp_path: Path, target: str) -> None:
    """As git does, a .gitignore that is a symbolic link is not read: one to a device would be
    read until memory runs out, one outside the tree would let it decide what is checked."""
    outside = tmp_path / "outside.txt"
    outside.write_text("*.py\n")
    tree = tmp_path / "tree"
    tree.mkdir()
    (tree / "m.py").write_text("import torch.nn as nn\nnn.init.normal(w)\n")
    (tree / ".gitignore").symlink_to(outside if target == "outside" else target)
    process = subprocess.run([sys.executable, "-m", "initaudit", "check", "--no-cache", "--output-format",
                              "concise", str(tree)], capture_output=True, text=True, timeout=120,
                             check=False, preexec_fn=_memory_cap)
    assert process.returncode == 1, process.stderr
    assert "IA104" in process.stdout


def test_a_settings_file_linked_to_something_huge_is_an_error_not_read(tmp_path: Path) -> None:
    huge = tmp_path / "huge.toml"
    with open(huge, "wb") as handle:
        handle.truncate(64 << 20)  # sparse: 64 MiB read as NULs were it read
    tree = tmp_path / "tree"
    tree.mkdir()
    (tree / "pyproject.toml").symlink_to(huge)
    (tree / "m.py").write_text("import torch.nn as nn\n")
    result = CliRunner().invoke(main, ["check", "--no-cache", str(tree)])
    assert result.exit_code == 2
    assert result.stderr.endswith("bytes, more than a settings file holds\n") and result.stderr.count("\n") == 1
