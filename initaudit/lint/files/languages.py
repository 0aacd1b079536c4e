"""What a file is read as: Python, a notebook, or a Markdown or reST document whose code blocks
are linted. Its suffix decides, through the ``extension`` mappings (``--extension txt:markdown``,
``extension = {txt = "markdown"}``) first and the defaults after."""

from __future__ import annotations

import os

from initaudit.lint.files.notebook import NOTEBOOK_SUFFIX

LANGUAGES = ("python", "ipynb", "markdown", "rst")
#: Suffixes read without a mapping; a directory walk takes these and the mapped ones.
DEFAULT_SUFFIXES = {".py": "python", NOTEBOOK_SUFFIX: "ipynb", ".md": "markdown", ".rst": "rst"}

#: (suffix without its dot, language), later pairs winning.
Extensions = tuple[tuple[str, str], ...]


def language_of(path: str, extensions: Extensions = ()) -> str | None:
    """The language of a file named ``path``; None where neither a mapping nor a default names
    its suffix (a file named on the command line is then read as Python)."""
    _, dot, suffix = os.path.basename(path).rpartition(".")
    if not dot:
        return None
    mapped = dict(extensions).get(suffix)
    return mapped if mapped is not None else DEFAULT_SUFFIXES.get(f".{suffix}")


def extension_pair(suffix: str, language: str) -> tuple[str, str]:
    """A checked mapping: ``.txt`` or ``txt`` to one of :data:`LANGUAGES`. Raises ValueError with
    what is wrong."""
    suffix = suffix.strip().removeprefix(".")
    language = language.strip().lower()
    if not suffix or "." in suffix or "/" in suffix:
        raise ValueError(f"{suffix!r} is not a file extension")
    if language not in LANGUAGES:
        raise ValueError(f"unknown language {language!r} for .{suffix} (one of {', '.join(LANGUAGES)})")
    return suffix, language


def parse_extensions(values: tuple[str, ...]) -> Extensions:
    """``--extension`` values, each ``EXT:LANG`` or several of them separated by commas."""
    pairs = []
    for value in values:
        for item in filter(None, (part.strip() for part in value.split(","))):
            suffix, colon, language = item.partition(":")
            if not colon:
                raise ValueError(f"{item!r} is not EXT:LANG (such as txt:markdown)")
            pairs.append(extension_pair(suffix, language))
    return tuple(pairs)
