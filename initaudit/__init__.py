"""initaudit: find weight-initialisation bugs in PyTorch code (``check``) and checkpoints (``model``).

Importing this package never imports torch; the linter API is loaded on first use, and
``audit(model)`` (the auditor as a function) imports torch when it is called.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"
__all__ = ["__version__", "audit", "lint_paths", "lint_source", "testing"]

if TYPE_CHECKING:
    from initaudit import testing
    from initaudit.audit import audit
    from initaudit.lint.engine import lint_source
    from initaudit.lint.runner import lint_paths


def __getattr__(name: str) -> Any:
    if name == "lint_source":
        from initaudit.lint.engine import lint_source

        return lint_source
    if name == "lint_paths":
        from initaudit.lint.runner import lint_paths

        return lint_paths
    if name in ("audit", "testing"):  # torch is imported when a model is audited, not before
        import importlib

        return importlib.import_module(f"initaudit.{name}")
    raise AttributeError(f"module 'initaudit' has no attribute {name!r}")
