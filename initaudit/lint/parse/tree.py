"""``parse_module`` without the validation libcst runs on each node it builds.

Every libcst node checks its own fields when it is made (``CSTNode.__post_init__`` calls
``_validate``: its whitespace against regular expressions, its parentheses balanced), which is
what keeps a tree built by hand printable. A tree the parser builds from valid text passes by
construction, and the checks take a sixth of a parse. They are turned off only while a parse
runs; a lock keeps one parse from turning them back on under another.
"""

from __future__ import annotations

import threading

import libcst as cst

_LOCK = threading.Lock()
_VALIDATED = cst.CSTNode.__post_init__


def _unchecked(self: cst.CSTNode) -> None:
    """A node the parser builds from text it accepted."""


def parse_module(text: str) -> cst.Module:
    """``cst.parse_module(text)``, raising the same errors, without checking each node."""
    with _LOCK:
        cst.CSTNode.__post_init__ = _unchecked  # type: ignore[method-assign]
        try:
            return cst.parse_module(text)
        finally:
            cst.CSTNode.__post_init__ = _VALIDATED  # type: ignore[method-assign]
