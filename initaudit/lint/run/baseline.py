"""Baselines: the findings a codebase has today, so that a run reports only new ones.

A finding is matched by its file, its code and a fingerprint of the content of its line (not
the line number), so that it stays matched when code above it moves. Identical entries are
counted: two matching findings in a file need two entries. Paths are stored relative to the
baseline file's directory, so the file works from any working directory.
"""

from __future__ import annotations

import json
import os
from collections import Counter
from dataclasses import replace
from pathlib import Path

from initaudit.atomic import write_bytes
from initaudit.lint.run.fingerprints import line_fingerprints
from initaudit.lint.run.summary import Summary

FORMAT_VERSION = 1
_Key = tuple[str, str, str]  # path, code, fingerprint of the line
#: How many findings of each key the baseline holds.
Baseline = Counter[_Key]


class BaselineError(Exception):
    """A baseline file that cannot be read or is not one (one line)."""


def write_baseline(path: Path, summary: Summary) -> int:
    """Write every finding of ``summary``; returns how many."""
    findings = [
        {"path": path_key, "code": code, "fingerprint": fingerprint, "message": d.message}
        for (path_key, code, fingerprint), d in zip(_keys(path, summary), summary.diagnostics, strict=True)
    ]
    findings.sort(key=lambda f: (f["path"], f["code"], f["fingerprint"], f["message"]))
    document = {"version": FORMAT_VERSION, "tool": "initaudit", "findings": findings}
    # A file name that is not UTF-8 holds lone surrogates; backslashreplace writes each as the
    # JSON escape that reads back as the same name.
    text = json.dumps(document, indent=2, ensure_ascii=False) + "\n"
    write_bytes(path, text.encode("utf-8", errors="backslashreplace"))
    return len(findings)


def load_baseline(path: Path) -> Baseline:
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else exc
        raise BaselineError(f"{path}: cannot read the baseline: {reason}") from None
    findings = document.get("findings") if isinstance(document, dict) else None
    if (not isinstance(document, dict) or document.get("version") != FORMAT_VERSION
            or not isinstance(findings, list)
            or not all(isinstance(f, dict) and all(isinstance(f.get(k), str) for k in ("path", "code", "fingerprint"))
                       for f in findings)):
        raise BaselineError(f"{path}: not an initaudit baseline (write one with --write-baseline)")
    return Counter((f["path"], f["code"], f["fingerprint"]) for f in findings)


def without_baseline(summary: Summary, baseline_path: Path, baseline: Baseline) -> Summary:
    """``summary`` with the findings the baseline holds left out."""
    remaining = Counter(baseline)
    kept = []
    for key, diagnostic in zip(_keys(baseline_path, summary), summary.diagnostics, strict=True):
        if remaining[key] > 0:
            remaining[key] -= 1
        else:
            kept.append(diagnostic)
    return replace(summary, diagnostics=kept)


def _keys(baseline_path: Path, summary: Summary) -> list[_Key]:
    base = baseline_path.resolve().parent
    return [(_relative(d.path, base), d.code, fingerprint.rsplit(":", 1)[0])
            for d, fingerprint in zip(summary.diagnostics, line_fingerprints(summary), strict=True)]


def _relative(path: str, base: Path) -> str:
    return Path(os.path.relpath(Path(path).resolve(), base)).as_posix()
