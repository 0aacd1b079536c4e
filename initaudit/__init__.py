"""initaudit: find weight-initialisation bugs in PyTorch code (``check``) and checkpoints (``model``).

Importing this package never imports torch; the linter API is loaded on first use, and
``audit(model)`` (the auditor as a function) imports torch when it is called.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from initaudit.version import __version__

__all__ = ["__version__", "audit", "lint_paths", "lint_source", "testing"]

if TYPE_CHECKING:
    from initaudit import testing
    from initaudit.auditor.api import audit
    from initaudit.lint.run.engine import lint_source
    from initaudit.lint.run.runner import lint_paths


def __getattr__(name: str) -> Any:
    if name == "lint_source":
        from initaudit.lint.run.engine import lint_source

        return lint_source
    if name == "lint_paths":
        from initaudit.lint.run.runner import lint_paths

        return lint_paths
    if name == "audit":  # torch is imported when a model is audited, not before
        from initaudit.auditor.api import audit

        return audit
    if name == "testing":
        import initaudit.testing

        return initaudit.testing
    raise AttributeError(f"module 'initaudit' has no attribute {name!r}")
