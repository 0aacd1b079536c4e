"""A file's bytes as the text to check, whatever it is read as (its language)."""

from __future__ import annotations

from initaudit.lint.files.languages import Extensions, language_of
from initaudit.lint.files.markdown import DOCUMENT_LANGUAGES, read_document
from initaudit.lint.files.notebook import Notebook, read_notebook
from initaudit.lint.files.source import SourceText, decode


def read_source(path: str, data: bytes, extensions: Extensions = ()) -> SourceText | Notebook:
    """The text to check: decoded source, or the joined code of a notebook's cells or of a
    document's Python blocks (a :class:`Notebook`)."""
    language = language_of(path, extensions)
    if language == "ipynb":
        return read_notebook(data)
    if language in DOCUMENT_LANGUAGES:
        return read_document(data, language)
    return decode(data)
