"""The rule catalogue: one Markdown file per code, front matter + documented examples.

The front matter is the one source of every rule's metadata (code, name, default severity, fix
safety, summary): the rule classes, ``initaudit rules``, the SARIF driver and the README's rule
table all read it from here. The files live in the repository's top-level ``rules/`` and ship in
the wheel as ``initaudit/catalogue``; an editable install reads them from the source tree.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from initaudit.diagnostics import Severity

#: Where the rule pages live: shipped inside the package, or at the top of a checkout.
_PACKAGE = Path(__file__).resolve().parent
_LOCATIONS = (_PACKAGE / "catalogue", _PACKAGE.parent / "rules")
_FRONT_MATTER = re.compile(r"\A---\n(?P<meta>.*?)\n---\n(?P<body>.*)\Z", re.DOTALL)
_SECTION = re.compile(r"^## (?P<title>.+)$", re.MULTILINE)
_CODE_BLOCK = re.compile(r"```python\n(?P<code>.*?)```", re.DOTALL)
REQUIRED_SECTIONS = ("What it does", "Why is this bad", "Example", "Use instead", "Fix safety")


FIX_SAFETY = ("none", "safe", "unsafe")
SCOPES = ("check", "model")


@dataclass(frozen=True)
class Entry:
    code: str
    name: str
    severity: Severity  # the default; a finding may raise or lower it (see severity_note)
    fix: str  # none | safe | unsafe: the most a fix of this rule can be
    scope: str  # check | model: the command that reports it
    summary: str
    severity_note: str | None
    body: str
    sections: dict[str, str]
    path: Path

    @property
    def url(self) -> str:
        """The rule's page as installed with initaudit (no published copy is linked: one that
        does not exist would be a dead link in every editor and report)."""
        return self.path.resolve().as_uri()

    def examples(self, section: str) -> list[str]:
        """Python code blocks of a section ("Example" = bad, "Use instead" = good)."""
        return [m.group("code") for m in _CODE_BLOCK.finditer(self.sections.get(section, ""))]


class CatalogueError(Exception):
    pass


def catalogue_dir() -> Path:
    for location in _LOCATIONS:
        if location.is_dir():
            return location
    raise CatalogueError("the rule catalogue is missing from this installation")


@lru_cache(maxsize=1)
def entries() -> dict[str, Entry]:
    found = {}
    for path in sorted(catalogue_dir().glob("IA*.md")):
        entry = parse(path)
        found[entry.code] = entry
    return found


def parse(path: Path) -> Entry:
    text = path.read_text(encoding="utf-8")
    match = _FRONT_MATTER.match(text)
    if match is None:
        raise CatalogueError(f"{path.name}: missing front matter")
    meta = {}
    for line in match.group("meta").splitlines():
        key, _, value = line.partition(":")
        meta[key.strip()] = value.strip()
    body = match.group("body")
    titles = list(_SECTION.finditer(body))
    sections = {
        t.group("title").strip(): body[t.end(): titles[i + 1].start() if i + 1 < len(titles) else len(body)].strip()
        for i, t in enumerate(titles)
    }
    try:
        entry = Entry(meta["code"], meta["name"], Severity(meta["severity"]), meta["fix"],
                      meta["scope"], meta["summary"], meta.get("severity-note"), body, sections, path)
    except KeyError as exc:
        raise CatalogueError(f"{path.name}: front matter lacks {exc.args[0]!r}") from None
    except ValueError:
        raise CatalogueError(f"{path.name}: unknown severity {meta['severity']!r}") from None
    if entry.fix not in FIX_SAFETY or entry.scope not in SCOPES:
        raise CatalogueError(f"{path.name}: fix must be one of {FIX_SAFETY}, scope one of {SCOPES}")
    return entry


def entry(code: str) -> Entry:
    """The catalogue entry of ``code``; a rule without one is a packaging error."""
    found = entries().get(code)
    if found is None:
        raise CatalogueError(f"rule {code} has no page in the rule catalogue")
    return found


def markdown_table() -> str:
    """The README's rule table, generated from the front matter of every page."""
    rows = ["| code | name | command | severity | fix | what it finds |",
            "|---|---|---|---|---|---|"]
    for item in entries().values():
        severity = item.severity.value + (f" ({item.severity_note})" if item.severity_note else "")
        rows.append(f"| {item.code} | {item.name} | {item.scope} | {severity} | {item.fix} | "
                    f"{item.summary} |")
    return "\n".join(rows) + "\n"
