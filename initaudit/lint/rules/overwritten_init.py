"""IA111: an initialisation whose result a later one in the same construction replaces."""

from __future__ import annotations

from typing import Iterator

import libcst as cst

from initaudit import knowledge
from initaudit.lint.model.facts import BARE_TENSOR, InitOp, InitVia, ModuleClass
from initaudit.lint.model.file_model import FileModel
from initaudit.lint.model.modules import Submodule, self_attribute_name, tensor_behind
from initaudit.lint.model.queries import written_at
from initaudit.lint.model.targets import (
    execution_key,
    surely_after,
    written_layers,
)
from initaudit.lint.rules.base import Finding, rule, written_here


#: The writes of no known scheme, as the finding at one names it.
_UNKNOWN_SCHEME = {InitVia.ASSIGN: "this assignment", InitVia.INJECTED: "this call"}


@rule("IA111")
class OverwrittenInit:
    def check(self, model: FileModel) -> Iterator[Finding]:
        ops, writes = _module_writes(model)
        reported = set()
        #: (later write, voided init) pairs reported at the later write: once each.
        at_later: set[tuple[int, int]] = set()
        # A helper's or factory's init runs once per call: it has no effect only where every
        # call's result is written again (diffwave's ``Conv1d`` factory, one output zeroed).
        live = {id(op.as_written) for op in ops if not _voided(op)}
        for op in ops:
            if not _voided(op) or id(op.node) in reported:
                continue
            if id(op.as_written) in live:
                rerun = _factory_rerun(model, op, writes)
                if rerun is not None and id(rerun.node) not in reported:
                    reported.add(id(rerun.node))
                    yield rerun
                continue
            later = _later_writes(model, writes, op, _tensors(op))
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
        yield from _inherited(model, writes, at_later, reported)


def dead_inits(model: FileModel) -> set[int]:
    """The ids of the inits written in this file that never have an effect (reported at the init
    itself): run by a block class when built, written again on every instance the file builds."""
    writes = _module_writes(model)[1]
    return {id(copies[0][0].node) for copies in _voided_copies(model, writes)
            if _never_effective(model, copies[0][0], [copy for copy, _ in copies])}


def _module_writes(model: FileModel) -> tuple[list[InitOp], list[InitOp]]:
    """The inits that module classes and script code run (``net = Net()`` then a loop over its
    parameters, which voids what the class's construction wrote just as a wrapper module's
    ``__init__`` does), and those with the other writes that replace tensors."""
    # A function's init that calls run (a factory's, a helper's) counts at each call, not as
    # written in the function's own scope.
    run_by_calls = {id(op.node) for op in model.init_ops if op.within}
    ops = [op for op in model.init_ops
           if op.target is not None and op.target.exact and op.method != "forward"
           and op.via is not InitVia.PARAMETER and op.owner is not None
           and (op.owner.is_module or op.within or id(op.node) not in run_by_calls)]
    return ops, ops + [op for op in model.overwrites if op.target is not None and op.target.exact
                       and op.method != "forward"]


def _factory_rerun(model: FileModel, op: InitOp, writes: list[InitOp]) -> Finding | None:
    """A factory's init (a function that builds a layer, initialises it and returns it), live at
    its other calls, that the caller runs again on one call's layer with the same arguments:
    reported at that call, whose run of it adds nothing. Another init there overrides the
    factory's default for that layer alone (a zero output), which is left to the author."""
    assert op.target is not None
    call = next((c for c in model.helper_calls if c.passed is not None and c.owner is op.owner
                 and c.seq == op.seq and any(c.passed is m for m in op.target.layers)), None)
    later = _later_writes(model, writes, op, written_layers(op.target)) if call is not None else None
    if call is None or not later or not all(_same_init(other, op) for other in later):
        return None
    lines = ", ".join(str(n) for n in sorted({model.position(other.node).start.line for other in later}))
    return Finding(call.node, f"the {op.function} at {_place(model, op.as_written)}, run on the layer this call "
                   f"builds, has no effect: line {lines} runs it again on the same {op.target.param}",
                   related=((op.as_written, f"the voided {op.function} here"),))


def _same_init(one: InitOp, other: InitOp) -> bool:
    """The same init function with the same arguments, the tensor aside."""
    return one.via not in _UNKNOWN_SCHEME and one.function == other.function and one.args.keys() == other.args.keys() \
        and all(value.deep_equals(other.args[key]) for key, value in one.args.items())


def _voided(op: InitOp) -> bool:
    """Whether a later write replaces ``op``'s result on every layer it writes (or on the bare
    Parameter it writes)."""
    tensors = _tensors(op)
    return bool(tensors) and op.superseded == frozenset(path for path, _ in tensors)


def _tensors(op: InitOp) -> set[tuple[str, int]]:
    """``written_layers``, or a bare Parameter written by its name (``self.w``) as a tensor of
    its own; none for a loop over modules that reaches no layer."""
    assert op.target is not None
    target = op.target
    if target.layers or op.target_node is None or target.param not in target.owner.parameters:
        return written_layers(target)
    named = tensor_behind(op.target_node, knowledge.VIEW_METHODS)
    return {(BARE_TENSOR, 0)} if self_attribute_name(named) == target.param else set()


def _inherited(model: FileModel, writes: list[InitOp], reported: set[tuple[int, int]],
               dead: set[int]) -> Iterator[Finding]:
    """An init a class runs in its construction, voided by a later write on every copy composed
    here: reported at that write, which names it; or, written in this file by a class that only
    the holders voiding it build, at the init itself, which never has an effect (``dead``: the
    inits reported so)."""
    for copies in _voided_copies(model, writes):
        op = copies[0][0]
        if id(op.node) not in dead and _never_effective(model, op, [copy for copy, _ in copies]):
            dead.add(id(op.node))
            lines = sorted({model.position(other.node).start.line for _, later in copies for other in later})
            yield Finding(op.node, f"this {op.function}{written_at(model, op)} has no effect: every class that builds its "
                          f"class initialises these tensors again afterwards (line{'s' if len(lines) > 1 else ''} "
                          f"{', '.join(map(str, lines))}), so the call only misleads the reader")
            continue
        for copy, later in copies:
            yield from _at_later_writes(model, copy, later, "run when they are built", reported)


def _voided_copies(model: FileModel, writes: list[InitOp]) -> list[list[tuple[InitOp, list[InitOp]]]]:
    """Per init as written, its copies that holders' constructions run and the later writes
    here that void each: those voided on every copy of a run."""
    voided: dict[int, list[tuple[InitOp, list[InitOp]]]] = {}
    # One init run on several tensors of an instance (each Parameter a loop over its
    # ``parameters()`` writes) is voided only where every one of them is written again.
    runs: dict[tuple[int, int, frozenset[str]], list[tuple[InitOp, list[InitOp] | None]]] = {}
    for op in model.inherited_ops:
        assert op.target is not None
        layers = written_layers(op.target)
        later = _later_writes(model, writes, op, layers, again=True) \
            if op.superseded == frozenset(path for path, _ in layers) else None
        effective = later is not None and not _run_again_after(model, op, later)
        runs.setdefault(_run_key(op), []).append((op, later if effective else None))
    for run in runs.values():
        if all(later for _, later in run):
            for op, later in run:
                voided.setdefault(id(op.node), []).append((op, later))  # type: ignore[arg-type]
    return list(voided.values())


def _run_key(op: InitOp) -> tuple[int, int, frozenset[str]]:
    """Where the block runs the init (the init as written, or the call running a helper's), the
    holder and the layers it runs on there."""
    assert op.target is not None
    return id(op.node), id(op.target.owner), frozenset(m.path for m in op.target.layers)


def _run_again_after(model: FileModel, op: InitOp, later: list[InitOp]) -> bool:
    """Whether the holder calls the block's method that holds ``op`` again (``m.reset()``,
    ``self.attn.reset()``) after the last write that voids the block's own run, in the same
    method: a blanket init of every parameter, then each block's own init restored, is that
    init in effect, the blanket write partly replaced."""
    if op.scope_node is None or op.scope_node.name.value == "__init__":
        return False
    last = max(later, key=execution_key)
    holder = last.owner
    if holder is None or holder.node is None or model.location(last.node) is not None:
        return False
    method = next((f for f in holder.node.body.body if isinstance(f, cst.FunctionDef)
                   and f.name.value == (last.method or "__init__")), None)
    if method is None:
        return False
    after = model.position(last.node).end.line
    calls = _MethodCalls(op.scope_node.name.value)
    method.visit(calls)
    return any(model.position(call).start.line > after for call in calls.found)


class _MethodCalls(cst.CSTVisitor):
    """Calls ``<expr>.<name>(...)`` whose receiver is not ``self``."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.found: list[cst.Call] = []

    def visit_Call(self, node: cst.Call) -> None:
        func = node.func
        if isinstance(func, cst.Attribute) and func.attr.value == self.name \
                and not (isinstance(func.value, cst.Name) and func.value.value == "self"):
            self.found.append(node)


def _never_effective(model: FileModel, op: InitOp, voided: list[InitOp]) -> bool:
    """Whether ``op``, written in a module class of this file, is voided wherever the file builds
    that class: each of its instances is among the ``voided`` copies."""
    if model.location(op.as_written) is not None:
        return False  # another file's init: reported at the writes here that void it
    origin = next((other.owner for other in model.init_ops if other.node is op.node and other.owner is not None
                   and other.owner.is_module), None)
    if origin is None:
        return False
    covered = {(id(copy.owner), _instance(m)) for copy in voided for m in copy.target.layers}  # type: ignore[union-attr]
    return _built_only_in(model, origin, "", covered, frozenset())


def _built_only_in(model: FileModel, block: ModuleClass, inner: str, covered: set[tuple[int, str]],
                   seen: frozenset[str]) -> bool:
    """Whether every instance of the module class ``block`` that the file builds holds a
    ``covered`` one at ``inner`` ((id of holder, instance path): where an init it runs is written
    again; ``inner`` empty: the instance itself). The class is built by other code of the file
    only, never subclassed; an instance built inside another block class of the file is covered
    where each instance of that one is (``body.0.se`` of a holder building the unit that builds it)."""
    if not block.is_module or block.is_root or block.name in seen \
            or any(block.name in owner.bases for owner in model.classes.values()):
        return False
    built = [(owner, m.path) for owner in (*model.classes.values(), *model.scopes)
             for m in owner.layers() if m.class_name == block.name]
    return bool(built) and all(
        (id(owner), path + inner) in covered
        or _built_only_in(model, owner, f".{path}{inner}", covered, seen | {block.name}) for owner, path in built)


def _built_by(model: FileModel, later: InitOp, earlier: InitOp) -> bool:
    """``later`` is ``earlier`` itself as the construction of its instance runs it (a class's
    init run again at the call that builds it, with its arguments)."""
    assert earlier.target is not None
    instances = {_instance(m) for m in earlier.target.layers}
    return any(m.node is later.node for m in model.layers(earlier.target.owner) if m.path in instances)


def _instance(layer: Submodule) -> str:
    """The path of the instance a composed layer belongs to: ``attn`` of ``attn.q``."""
    local = layer.local_path or ""
    return layer.path[:len(layer.path) - len(local)].rstrip(".")


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
        what = _UNKNOWN_SCHEME.get(other.via, f"this {other.function}")
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
                  layers: set[tuple[str, int]], again: bool = False) -> list[InitOp] | None:
    """For each tensor ``op`` writes, the first later write that replaces it and is not itself
    replaced there; None when one is not surely replaced. ``again``: ``op`` is what a block's
    construction ran, which the same operation run again here (the same helper applied by the
    holder) replaces."""
    later: list[InitOp] = []
    for layer in layers:
        found = next((other for other in writes if layer[0] not in other.superseded
                      and _replaces(model, other, op, {layer}, again)), None)
        if found is None:
            return None
        if all(other is not found for other in later):
            later.append(found)
    return later


def _replaces(model: FileModel, later: InitOp, earlier: InitOp, layers: set[tuple[str, int]],
              again: bool = False) -> bool:
    """``later`` runs after ``earlier``, unconditionally relative to it, on the same tensors."""
    assert later.target is not None and earlier.target is not None
    if later.target.owner is not earlier.target.owner:
        return False
    # The same operation run again replaces what the block ran, when told apart by the call
    # that runs it here (a helper of another file); not as the block's construction runs it,
    # which runs the block's operations in their own order.
    if again and later.node is not later.as_written and _built_by(model, later, earlier):
        return False
    if later.as_written is earlier.as_written and (not again or later.node is later.as_written):
        return False
    if execution_key(later) <= execution_key(earlier) or not surely_after(model, later, earlier):
        return False
    written = {(path, node, later.target.param) for path, node in _tensors(later)} | later.tied
    return written >= {(path, node, earlier.target.param) for path, node in layers}
