"""The result cache: a warm run gives the same output and parses nothing."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from initaudit.cli import main
from initaudit.lint.run import engine

BAD = "import torch.nn as nn\nnn.init.xavier_uniform(w)\n"


def check(*args: str) -> str:
    result = CliRunner().invoke(main, ["check", "--jobs", "1", *args])
    return result.output


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "a.py").write_text(BAD)
    (tmp_path / "b.py").write_text("x = 1\n")
    (tmp_path / "c.py").write_text("def f(:\n")
    return tmp_path


def test_warm_run_is_identical_and_parses_nothing(project: Path, monkeypatch) -> None:
    cache = project / "cache"
    cold = check(str(project), "--cache-dir", str(cache), "--format", "json")
    assert (cache / ".gitignore").read_text().strip().endswith("*")

    def must_not_run(*args, **kwargs):
        raise AssertionError("a cached file was checked again")

    monkeypatch.setattr(engine, "lint_file", must_not_run)
    warm = check(str(project), "--cache-dir", str(cache), "--format", "json")
    assert warm == cold
    text = check(str(project), "--cache-dir", str(cache))  # snippets need the source lines
    assert "2 | nn.init.xavier_uniform(w)" in text


def test_changed_content_or_settings_miss_the_cache(project: Path) -> None:
    cache = project / "cache"
    check(str(project), "--cache-dir", str(cache))
    (project / "b.py").write_text(BAD)
    data = json.loads(check(str(project), "--cache-dir", str(cache), "--format", "json"))
    assert [Path(d["path"]).name for d in data["diagnostics"]] == ["a.py", "b.py", "c.py"]
    ignored = json.loads(check(str(project), "--cache-dir", str(cache), "--ignore", "IA104", "--format", "json"))
    assert [d["code"] for d in ignored["diagnostics"]] == ["IA000"]


def test_no_cache_writes_nothing(project: Path) -> None:
    cache = project / "cache"
    check(str(project), "--cache-dir", str(cache), "--no-cache")
    assert not cache.exists()


def test_corrupt_cache_is_ignored(project: Path) -> None:
    cache = project / "cache"
    check(str(project), "--cache-dir", str(cache))
    for stored in cache.glob("results-*.json"):
        stored.write_text("{not json")
    data = json.loads(check(str(project), "--cache-dir", str(cache), "--format", "json"))
    assert len(data["diagnostics"]) == 2


def test_an_edited_rule_page_is_a_new_fingerprint(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A page gives its rule's severity: results cached under the old page are not served."""
    import shutil

    from initaudit.catalogue import catalogue_dir
    from initaudit.lint.run import cache

    pages = tmp_path / "rules"
    shutil.copytree(catalogue_dir(), pages)
    monkeypatch.setattr(cache, "catalogue_dir", lambda: pages)
    cache._code_fingerprint.cache_clear()
    before = cache._code_fingerprint()
    page = next(pages.glob("IA103-*.md"))
    page.write_text(page.read_text(encoding="utf-8").replace("severity: warning", "severity: error", 1),
                    encoding="utf-8")
    cache._code_fingerprint.cache_clear()
    try:
        assert cache._code_fingerprint() != before
    finally:
        cache._code_fingerprint.cache_clear()
