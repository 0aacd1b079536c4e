"""``--output-format json``: the contract other tools parse.

A notebook's diagnostics have one more key, ``cell`` (1-based, counting every cell); their
``line`` and ``end_line`` count within that cell, as do the rows of their fix edits.

A diagnostic reported at a call that applies another project file's init helper has one more
key, ``related``: ``[{"path", "line", "column", "end_line", "end_column", "message"}]``, the
helper's init line (its path written as the diagnostic's is); the others have no such key.
Where every application of that helper agrees on one rewrite, its ``fix`` edits the helper's
file: such an edit has one more key, ``path`` (the file, named as the run names it); an edit of
the diagnostic's own file has none.
"""

from __future__ import annotations

import json

from initaudit.lint.run.summary import Summary


def render(summary: Summary) -> str:
    return json.dumps(summary.to_dict(), indent=2)
