"""``initaudit rule``: a rule's catalogue page, rendered on a terminal, Markdown in a pipe, or
JSON."""

from __future__ import annotations

import json
import sys

from initaudit.catalogue import Entry


def render_pages(chosen: list[Entry], color: str) -> None:
    """Each page under a heading line. Piped output is the page's Markdown as written, never
    padded to a terminal width."""
    if not sys.stdout.isatty():
        print("\n\n".join(f"# {_heading(entry)}\n\n{entry.body.strip()}" for entry in chosen))
        return
    from rich.markdown import Markdown

    from initaudit.report.console import make_console

    console = make_console(color)
    for entry in chosen:
        console.print(_heading(entry), style="bold")
        console.print(Markdown(entry.body))


def _heading(entry: Entry) -> str:
    return (f"{entry.code} {entry.name}  severity: {entry.severity.value}  fix: {entry.fix}  "
            f"(initaudit {entry.scope})")


def render_json(chosen: list[Entry], with_pages: bool = True) -> str:
    """The rules' metadata, with each page's Markdown under ``page`` when ``with_pages``."""
    rows = []
    for entry in chosen:
        row = {"code": entry.code, "name": entry.name, "command": entry.scope,
               "severity": entry.severity.value, "severity_note": entry.severity_note,
               "fix": entry.fix, "summary": entry.summary, "url": entry.url}
        if with_pages:
            row["page"] = entry.body.strip()
        rows.append(row)
    return json.dumps(rows, indent=2, ensure_ascii=False)
