"""What ``initaudit model`` refuses about its arguments before torch is imported (which takes a
second or more): a checkpoint path that is missing, unreadable, empty, or neither a regular file
nor a directory, and code named otherwise than ``package.module:function``. The readers in
:mod:`initaudit.auditor.load.sources` and :mod:`initaudit.auditor.load.factories` make the same checks as
they open what is named; this module imports nothing heavy."""

from __future__ import annotations

import os
import re
import stat
from pathlib import Path

from initaudit.auditor.errors import AuditError

#: ``package.module:function``: how ``--factory`` and ``--example-inputs`` name code.
FACTORY_SPEC = re.compile(r"^[A-Za-z_][\w.]*:[A-Za-z_]\w*$")


def refuse_unreadable(spec: str) -> None:
    """Raise an AuditError (the one-line message) when ``spec`` cannot be a readable checkpoint."""
    path = Path(spec)
    try:
        info = path.stat()
        if stat.S_ISDIR(info.st_mode):
            with os.scandir(path):
                return
        if not stat.S_ISREG(info.st_mode):  # opening a FIFO would wait for a writer
            raise AuditError(f"{spec}: not a regular file")
        if info.st_size == 0:
            raise AuditError(f"{spec}: empty file")
        with path.open("rb"):
            return
    except (FileNotFoundError, NotADirectoryError):
        hint = f" (to audit the model a factory builds, pass --factory {spec})" if FACTORY_SPEC.match(spec) else ""
        raise AuditError(f"{spec}: no such file or directory{hint}") from None
    except (OSError, ValueError) as error:  # ValueError: a NUL in the name
        raise AuditError(f"{spec}: cannot read ({getattr(error, 'strerror', None) or error})") from None


def refuse_malformed(spec: str) -> None:
    """Raise an AuditError when ``spec`` (``--factory``, ``--example-inputs``) is not
    ``package.module:function``."""
    if not FACTORY_SPEC.match(spec):
        raise AuditError(f"{spec}: expected a factory as package.module:function")
