"""IA111: an initialisation whose result a later one in the same construction replaces."""

from __future__ import annotations

from typing import Iterator

import libcst as cst

from initaudit.lint.model.facts import InitOp, InitVia
from initaudit.lint.model.file_model import FileModel
from initaudit.lint.model.targets import (
    execution_key,
    guarded_by_class_only,
    surely_after,
    tests_element,
    written_layers,
)
from initaudit.lint.rules.base import Finding, rule, written_here


@rule("IA111")
class OverwrittenInit:
    def check(self, model: FileModel) -> Iterator[Finding]:
        ops = [op for op in model.init_ops
               if op.target is not None and op.target.exact and op.method != "forward"
               and op.via is not InitVia.PARAMETER and op.owner is not None and op.owner.is_module]
        writes = ops + [op for op in model.overwrites if op.target is not None and op.target.exact
                        and op.method != "forward"]
        reported = set()
        #: (later write, voided init) pairs reported at the later write: once each.
        at_later: set[tuple[int, int]] = set()
        # A helper's or factory's init runs once per call: it has no effect only where every
        # call's result is written again (diffwave's ``Conv1d`` factory, one output zeroed).
        live = {id(op.as_written) for op in ops if not _voided(op)}
        for op in ops:
            if not _voided(op) or id(op.node) in reported or id(op.as_written) in live:
                continue
            later = _later_writes(model, writes, op, written_layers(op.target))  # type: ignore[arg-type]
            if later is None:
                continue
            reported.add(id(op.node))
            if model.location(op.as_written) is not None:  # written in another file: at the writes here
                run_by = f"run by the call at line {model.position(op.node).start.line}"
                yield from _at_later_writes(model, op, later, run_by, at_later)
                continue
            lines = sorted({model.position(other.node).start.line for other in later})
            where = f"line {lines[0]}" if len(lines) == 1 else "lines " + ", ".join(map(str, lines))
            yield Finding.at(
                op,
                f"this {op.function} has no effect: every tensor it writes is initialised again "
                f"later in the construction ({where}), so the earlier call only misleads the reader",
            )
        # Script code (``net = Net()`` then a loop over its parameters) voids what the class's
        # construction wrote just as a wrapper module's ``__init__`` does.
        scripted = [op for op in model.init_ops if op.target is not None and op.target.exact
                    and op.via is not InitVia.PARAMETER and op.owner is not None and not op.owner.is_module]
        yield from _inherited(model, writes + scripted, at_later)


def _voided(op: InitOp) -> bool:
    """Whether a later write replaces ``op``'s result on every layer it writes."""
    paths = [m.path for m in op.target.layers] if op.target is not None and op.target.layers else []
    return bool(paths) and op.superseded == frozenset(paths)


def _inherited(model: FileModel, writes: list[InitOp], reported: set[tuple[int, int]]) -> Iterator[Finding]:
    """An init another file's class runs in its construction, voided here by a later write on
    every copy composed here: reported at that write, which names it."""
    for op in model.inherited_ops:
        assert op.target is not None
        layers = written_layers(op.target)
        if op.superseded != frozenset(path for path, _ in layers):
            continue
        yield from _at_later_writes(model, op, _later_writes(model, writes, op, layers) or [],
                                    "run when they are built", reported)


def _at_later_writes(model: FileModel, op: InitOp, later: list[InitOp], run: str,
                     reported: set[tuple[int, int]]) -> Iterator[Finding]:
    """A voided init written in another file, reported at each write here that voids it (once
    per write and voided init), naming it and how it ran (``run``)."""
    assert op.target is not None
    paths = sorted({m.path for m in op.target.layers})
    shown = ", ".join(paths[:3]) + (f" and {len(paths) - 3} more" if len(paths) > 3 else "")
    for other in later:
        if (id(other.node), id(op.as_written)) in reported:
            continue
        reported.add((id(other.node), id(op.as_written)))
        what = "this assignment" if other.via is InitVia.ASSIGN else f"this {other.function}"
        yield Finding(
            other.node,
            f"{what} initialises the {op.target.param} of {shown} again, so the {op.function} "
            f"at {_place(model, op.as_written)}, {run}, has no effect",
            related=((op.as_written, f"the voided {op.function} here"), *written_here(other)),
        )


def _place(model: FileModel, node: cst.CSTNode) -> str:
    """``blocks.py:12`` in another file, ``line 12`` in this one."""
    return model.location(node) or f"line {model.position(node).start.line}"


def _later_writes(model: FileModel, writes: list[InitOp], op: InitOp,
                  layers: set[tuple[str, int]]) -> list[InitOp] | None:
    """For each tensor ``op`` writes, the first later write that replaces it; None when one is
    not surely replaced."""
    later: list[InitOp] = []
    for layer in layers:
        found = next((other for other in writes if _replaces(model, other, op, {layer})), None)
        if found is None:
            return None
        if all(other is not found for other in later):
            later.append(found)
    return later


def _replaces(model: FileModel, later: InitOp, earlier: InitOp, layers: set[tuple[str, int]]) -> bool:
    """``later`` runs after ``earlier``, unconditionally relative to it, on the same tensors."""
    assert later.target is not None and earlier.target is not None
    if later.as_written is earlier.as_written or later.target.owner is not earlier.target.owner:
        return False
    if later.target.param != earlier.target.param or execution_key(later) <= execution_key(earlier) \
            or not surely_after(later, earlier):
        return False
    if not written_layers(later.target) >= layers:
        return False
    earlier_ifs = {id(node): branch for node, branch, _ in earlier.conditions}
    # Exclusive branches of one if never both run; a later write under its own condition may not,
    # unless the condition only picks the classes its target already holds (an applied helper's).
    conditions = () if guarded_by_class_only(model, later) else later.conditions
    return all(earlier_ifs.get(id(node)) == branch for node, branch, _ in conditions
               if not tests_element(model, later, node))
