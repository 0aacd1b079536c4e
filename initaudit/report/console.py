"""Terminal consoles that follow the user's colour choice: ``--color always|never|auto``, where
auto means a terminal, unless ``NO_COLOR`` (https://no-color.org) or ``FORCE_COLOR`` is set.
Without colour, no escape sequence at all is written (bold and dim included)."""

from __future__ import annotations

import os
import sys
from typing import TextIO

from rich.console import Console

COLOR_CHOICES = ("auto", "always", "never")


def wants_color(choice: str = "auto", stream: TextIO | None = None) -> bool:
    if choice != "auto":
        return choice == "always"
    if os.environ.get("NO_COLOR"):
        return False
    if os.environ.get("FORCE_COLOR"):
        return True
    stream = stream or sys.stdout
    return hasattr(stream, "isatty") and stream.isatty()


def make_console(choice: str = "auto", stream: TextIO | None = None, *, width: int | None = None,
                 stderr: bool = False) -> Console:
    target = stream or (sys.stderr if stderr else sys.stdout)
    color = wants_color(choice, target)
    return Console(file=target, width=width, highlight=False, force_terminal=True if color else None,
                   color_system="auto" if color else None)
