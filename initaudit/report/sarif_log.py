"""What both commands' SARIF reports share: the log around the results, a rule's descriptor made
from its page, severity levels, and artifact locations relative to ``%SRCROOT%`` (the working
directory) where the file lies inside it, ``file:`` URIs otherwise."""

from __future__ import annotations

import json
import os
from pathlib import Path
from urllib.parse import quote

from initaudit.catalogue import Entry
from initaudit.diagnostics import Severity
from initaudit.report.paths import repository_path
from initaudit.version import __version__

LEVEL = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "note"}
_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
ROOT = "%SRCROOT%"


def sarif_log(rules: list[dict[str, object]], results: list[dict[str, object]]) -> str:
    """One run of initaudit, its rules and results, as SARIF 2.1.0 text."""
    return json.dumps({
        "$schema": _SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {"name": "initaudit", "version": __version__, "rules": rules}},
            "originalUriBaseIds": {ROOT: {"uri": Path(os.getcwd()).resolve().as_uri() + "/"}},
            "results": results,
        }],
    }, indent=2)


def rule_descriptor(page: Entry) -> dict[str, object]:
    return {
        "id": page.code,
        "name": page.name,
        "shortDescription": {"text": page.summary},
        "fullDescription": {"text": _plain(page.sections.get("What it does", page.summary))},
        # The whole page travels as help: a helpUri would point at this machine's copy.
        "help": {"text": _plain(page.body), "markdown": page.body.strip()},
        "defaultConfiguration": {"level": LEVEL[page.severity]},
    }


def _plain(markdown: str) -> str:
    """Markdown made readable as plain text: code fences and inline backticks dropped."""
    lines = [line for line in markdown.strip().splitlines() if not line.startswith("```")]
    return "\n".join(lines).replace("`", "")


def artifact_location(path: str) -> dict[str, object]:
    """A file as a SARIF ``artifactLocation``."""
    path = repository_path(path)
    if Path(path).is_absolute():
        return {"uri": Path(path).as_uri()}
    return {"uri": quote(os.fsencode(path)), "uriBaseId": ROOT}
