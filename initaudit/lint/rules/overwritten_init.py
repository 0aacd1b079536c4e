"""IA111: an initialisation whose result a later one in the same construction replaces."""

from __future__ import annotations

from typing import Iterator

from initaudit.lint.facts import InitOp, InitVia
from initaudit.lint.model import FileModel
from initaudit.lint.rules.base import Finding, rule
from initaudit.lint.targets import execution_key


@rule("IA111")
class OverwrittenInit:
    def check(self, model: FileModel) -> Iterator[Finding]:
        ops = [op for op in model.init_ops
               if op.target is not None and op.target.exact and op.method != "forward"
               and op.via is not InitVia.PARAMETER and op.owner is not None and op.owner.is_module]
        reported = set()
        for op in ops:
            paths = [m.path for m in op.target.layers] if op.target.layers else []  # type: ignore[union-attr]
            if not paths or op.superseded != frozenset(paths) or id(op.node) in reported:
                continue
            later = [other for other in ops if _replaces(other, op, paths)]
            if not later:
                continue
            reported.add(id(op.node))
            line = model.position(later[0].node).start.line
            yield Finding(
                op.node,
                f"this {op.function} has no effect: every tensor it writes is initialised again "
                f"later in the construction (line {line}), so the earlier call only misleads the reader",
            )


def _replaces(later: InitOp, earlier: InitOp, paths: list[str]) -> bool:
    """``later`` runs after ``earlier``, unconditionally relative to it, on the same tensors."""
    assert later.target is not None and earlier.target is not None
    if later.node is earlier.node or later.target.owner is not earlier.target.owner:
        return False
    if later.target.param != earlier.target.param or execution_key(later) <= execution_key(earlier):
        return False
    if not {m.path for m in later.target.layers} >= set(paths):
        return False
    earlier_ifs = {id(node): branch for node, branch, _ in earlier.conditions}
    # Exclusive branches of one if never both run; a later write under its own condition may not.
    return all(earlier_ifs.get(id(node)) == branch for node, branch, _ in later.conditions)
