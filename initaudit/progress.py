"""What long work tells as it advances. The linter's runner and the auditor call a
:data:`Progress`; ``report/progress.py`` draws one as a bar."""

from __future__ import annotations

from typing import Callable

#: Told (items done, items in all) as work advances.
Progress = Callable[[int, int], None]
