"""``--fix`` writes the file the user meant, as it was, or refuses with one line."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
from click.testing import CliRunner

import initaudit.lint.fixes.apply as fixes
import initaudit.lint.run.engine as engine
from initaudit.cli import main

ORIGINAL = b"import torch.nn as nn\nnn.init.normal(w)\n"
FIXED = b"import torch.nn as nn\nnn.init.normal_(w)\n"


def fix(path: Path):
    return CliRunner().invoke(main, ["check", "--no-cache", "--fix", str(path)])


def leftovers(*folders: Path) -> list[str]:
    return sorted(p.name for folder in folders for p in folder.iterdir() if p.name.startswith("."))


def test_a_symlink_stays_a_link_and_its_target_is_fixed(tmp_path: Path) -> None:
    real_dir, link_dir = tmp_path / "real", tmp_path / "links"
    real_dir.mkdir()
    link_dir.mkdir()
    real = real_dir / "code.py"
    real.write_bytes(ORIGINAL)
    link = link_dir / "code.py"
    link.symlink_to(real)
    assert fix(link).exit_code == 0
    assert link.is_symlink() and link.resolve() == real
    assert real.read_bytes() == FIXED
    assert leftovers(real_dir, link_dir) == []


def test_hard_links_stay_one_file(tmp_path: Path) -> None:
    first = tmp_path / "code.py"
    first.write_bytes(ORIGINAL)
    second = tmp_path / "same.py"
    os.link(first, second)
    inode = first.stat().st_ino
    assert fix(first).exit_code == 0
    assert first.read_bytes() == second.read_bytes() == FIXED
    assert first.stat().st_ino == second.stat().st_ino == inode and first.stat().st_nlink == 2
    assert leftovers(tmp_path) == []


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0, reason="only root can give a file away")
def test_owner_and_group_are_kept(tmp_path: Path) -> None:
    target = tmp_path / "code.py"
    target.write_bytes(ORIGINAL)
    os.chown(target, 12345, 23456)
    assert fix(target).exit_code == 0
    assert target.read_bytes() == FIXED
    assert (target.stat().st_uid, target.stat().st_gid) == (12345, 23456)


def test_a_file_whose_owner_cannot_be_kept_is_rewritten_in_place(tmp_path: Path, monkeypatch) -> None:
    target = tmp_path / "code.py"
    target.write_bytes(ORIGINAL)
    inode = target.stat().st_ino
    monkeypatch.setattr(fixes, "_give_owner", lambda temporary, info: False)  # as for another's file
    assert fix(target).exit_code == 0
    assert target.read_bytes() == FIXED and target.stat().st_ino == inode
    assert leftovers(tmp_path) == []


def test_read_only_file_is_refused_with_one_line(tmp_path: Path) -> None:
    target = tmp_path / "code.py"
    target.write_bytes(ORIGINAL)
    os.chmod(target, 0o444)
    result = fix(target)
    assert result.exit_code == 2
    assert f"initaudit: error: {target}: read-only; not fixed\n" in result.output
    assert "IA104" in result.output and "Fixed" not in result.output  # reported as it still is
    assert target.read_bytes() == ORIGINAL and stat.S_IMODE(target.stat().st_mode) == 0o444


@pytest.mark.parametrize("linked", [False, True], ids=["single", "hard-linked"])
def test_a_file_changed_during_the_run_keeps_the_change(tmp_path: Path, monkeypatch, linked: bool) -> None:
    target = tmp_path / "code.py"
    target.write_bytes(ORIGINAL)
    if linked:
        os.link(target, tmp_path / "other.py")
    edited = ORIGINAL + b"# typed while the check ran\n"
    real_lint_file = engine.lint_file

    def lint_then_edit(*args: object, **kwargs: object):
        result = real_lint_file(*args, **kwargs)
        target.write_bytes(edited)
        return result

    monkeypatch.setattr(engine, "lint_file", lint_then_edit)
    result = fix(target)
    assert result.exit_code == 2
    assert "changed since it was read; not fixed" in result.output
    assert target.read_bytes() == edited
    assert leftovers(tmp_path) == []


def test_in_place_rewrite_that_fails_puts_the_old_bytes_back(tmp_path: Path, monkeypatch) -> None:
    target = tmp_path / "code.py"
    target.write_bytes(ORIGINAL)
    os.link(target, tmp_path / "other.py")
    real_overwrite = fixes._overwrite
    calls = []

    def fail_once(handle, data: bytes) -> None:
        calls.append(data)
        if len(calls) == 1:
            handle.write(data[:5])
            raise OSError(28, "No space left on device")
        real_overwrite(handle, data)

    monkeypatch.setattr(fixes, "_overwrite", fail_once)
    result = fix(target)
    assert result.exit_code == 2 and "cannot write fixes: No space left on device" in result.output
    assert target.read_bytes() == ORIGINAL
    assert leftovers(tmp_path) == []


@pytest.mark.parametrize("content", [
    # unicode_escape reads "\\n" inside the text as a newline: writing back would change it
    b"# -*- coding: unicode_escape -*-\nimport torch.nn as nn\\nnn.init.xavier_uniform(w)\n",
    # a notebook with a duplicate key: re-serialising would drop one of them
    b'{"cells": [], "cells": [{"cell_type": "code", "metadata": {}, "source": '
    b'"import torch.nn as nn\\nnn.init.xavier_uniform(w)\\n", "outputs": [], "execution_count": null}], '
    b'"metadata": {}, "nbformat": 4, "nbformat_minor": 5}\n',
])
def test_a_file_that_does_not_write_back_byte_for_byte_is_not_fixed(tmp_path: Path, content: bytes) -> None:
    from click.testing import CliRunner

    from initaudit.cli import main

    path = tmp_path / ("odd.ipynb" if content.startswith(b"{") else "odd.py")
    path.write_bytes(content)
    result = CliRunner().invoke(main, ["check", "--no-cache", "--fix", str(path)])
    assert result.exit_code == 2 and "does not round-trip" in result.output
    assert "IA104" in result.output  # the findings are still reported
    assert path.read_bytes() == content
