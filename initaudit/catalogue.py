"""The rule catalogue: one Markdown file per code, front matter + documented examples.

The files live in the repository's top-level ``rules/`` and ship in the wheel as
``initaudit/catalogue``; an editable install reads them from the source tree.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent
_LOCATIONS = (_PACKAGE / "catalogue", _PACKAGE.parent / "rules")
_FRONT_MATTER = re.compile(r"\A---\n(?P<meta>.*?)\n---\n(?P<body>.*)\Z", re.DOTALL)
_SECTION = re.compile(r"^## (?P<title>.+)$", re.MULTILINE)
_CODE_BLOCK = re.compile(r"```python\n(?P<code>.*?)```", re.DOTALL)
REQUIRED_SECTIONS = ("What it does", "Why is this bad", "Example", "Use instead", "Fix safety")


@dataclass(frozen=True)
class Entry:
    code: str
    name: str
    severity: str
    fix: str
    scope: str  # check | model
    body: str
    sections: dict[str, str]
    path: Path

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
        meta[key.strip()] = value.split("#", 1)[0].strip()
    body = match.group("body")
    titles = list(_SECTION.finditer(body))
    sections = {
        t.group("title").strip(): body[t.end(): titles[i + 1].start() if i + 1 < len(titles) else len(body)].strip()
        for i, t in enumerate(titles)
    }
    try:
        return Entry(meta["code"], meta["name"], meta["severity"], meta["fix"],
                     meta.get("scope", "check"), body, sections, path)
    except KeyError as exc:
        raise CatalogueError(f"{path.name}: front matter lacks {exc.args[0]!r}") from None
