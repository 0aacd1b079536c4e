"""initaudit: find weight-initialisation bugs in PyTorch code (``check``) and checkpoints (``model``).

Importing this package never imports torch; the linter API is loaded on first use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"
__all__ = ["__version__", "lint_paths", "lint_source"]

if TYPE_CHECKING:
    from initaudit.lint.engine import lint_paths, lint_source


def __getattr__(name: str) -> Any:
    if name in ("lint_source", "lint_paths"):
        from initaudit.lint import engine

        return getattr(engine, name)
    raise AttributeError(f"module 'initaudit' has no attribute {name!r}")
