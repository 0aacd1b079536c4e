"""``--fix --output OUT``: re-initialise flagged layers, write a copy in the input's format
atomically, reload it and audit it again. The input is never modified; a checkpoint with
trained tensors is refused unless ``--force``."""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import torch

from initaudit import knowledge
from initaudit.auditor.errors import AuditError
from initaudit.auditor.pipeline import Analysis, analyse
from initaudit.auditor.probe import signal_ratios
from initaudit.auditor.results import Finding
from initaudit.auditor.rules import FIXABLE
from initaudit.auditor.rules.base import hidden_layers, weights_of
from initaudit.auditor.safetensors_io import Entry, write_safetensors
from initaudit.auditor.source import Source, SourceKind
from initaudit.auditor.sources import open_shard, open_source
from initaudit.auditor.tensorstats import tensor_stats
from initaudit.auditor.writing import atomic_dir, atomic_file, scratch_dir
from initaudit.diagnostics import Severity

#: Relative tolerance of the reloaded std against the target (sampling noise of small layers).
VERIFY_TOLERANCE = 0.25


@dataclass(frozen=True)
class Change:
    name: str
    scheme: str
    std_before: float
    std_after: float
    target_std: float | None
    verified: bool


@dataclass
class FixOutcome:
    output: str
    changes: list[Change] = field(default_factory=list)
    signal_ratios: list[tuple[str, float | None, float | None]] = field(default_factory=list)
    #: Findings at warning or above in the re-audit of the written output.
    remaining: list[Finding] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def exit_code(self) -> int:
        return 1 if self.remaining or any(not c.verified for c in self.changes) else 0


def refuse_trained(analysis: Analysis) -> None:
    """--fix without --force never rewrites a checkpoint with trained tensors."""
    names = [p.name for p in analysis.parameters.values() if p.trained]
    if names:
        shown = ", ".join(names[:6]) + (f" and {len(names) - 6} more" if len(names) > 6 else "")
        raise AuditError(f"--fix refused: {len(names)} tensors look trained ({shown}); re-initialising "
                         "would erase what they learned (pass --force to audit and fix them as inits)")


def apply_fix(source: Source, analysis: Analysis, output: str, fmt: str, *, seed: int,
              trust_pickle: bool, factory: str | None, input_shape: tuple[int, ...] | None = None,
              recognise_trained: bool = True) -> FixOutcome:
    """Write the fixed copy to ``output`` in ``fmt`` (from ``writing.output_format``), then audit
    the written copy again as the input was audited: a change is verified when its std is on
    target and the re-audit finds nothing at warning or above on it."""
    target = Path(output)
    flagged = [f for f in analysis.report.findings
               if f.code in FIXABLE and f.severity is not Severity.INFO and f.parameter]
    plans = {}
    for index, finding in enumerate(sorted({f.parameter for f in flagged})):
        plans[finding] = _plan(analysis, finding, seed + index)
    outcome = FixOutcome(str(target))
    _write(source, {name: plan[0] for name, plan in plans.items()}, target, fmt, outcome.notes)
    reloaded = open_source(str(target), trust_pickle=trust_pickle,
                           factory=factory or source.metadata.get("factory"))
    again = analyse(reloaded, input_shape=input_shape, seed=seed, recognise_trained=recognise_trained)
    outcome.remaining = [f for f in again.report.findings if f.severity.fails]
    still_flagged = {f.parameter for f in outcome.remaining}
    for name, (_, scheme, target_std) in plans.items():
        after = again.parameters[name].std if name in again.parameters else tensor_stats(reloaded.load(name)).std
        on_target = target_std is None or abs(after / target_std - 1) < VERIFY_TOLERANCE
        outcome.changes.append(Change(name, scheme, analysis.parameters[name].std, after, target_std,
                                      on_target and name not in still_flagged))
    if analysis.report.signal and again.report.signal:
        before_signal, after_signal = _signal_ratios(analysis), _signal_ratios(again)
        outcome.signal_ratios = [
            ("forward std ratio last hidden/first", before_signal[0], after_signal[0]),
            ("backward dL/dh ratio first/last", before_signal[1], after_signal[1]),
        ]
    return outcome


def _plan(analysis: Analysis, name: str, seed: int) -> tuple[Callable[[torch.Tensor], torch.Tensor], str, float | None]:
    """(re-initialiser, description, target std) for one flagged parameter."""
    report = analysis.parameters[name]
    activation = report.activation or "linear"
    distribution = "normal" if report.scheme.family in ("normal", "trunc_normal", "orthogonal") else "uniform"
    advice = knowledge.recommend(activation, distribution, report.slope)
    args: dict[str, Any] = {}
    if advice.nonlinearity is not None:
        args["nonlinearity"] = advice.nonlinearity
        args["a"] = advice.slope if advice.slope is not None else 0.0
    if advice.gain_of is not None:
        args["gain"] = knowledge.calculate_gain(advice.gain_of)
    shape = tuple(report.shape)
    target_std = knowledge.init_std(advice.function, shape, **args) if len(shape) >= 2 else None

    def reinit(original: torch.Tensor) -> torch.Tensor:
        fresh = torch.empty(original.shape, dtype=torch.float32)
        generator = torch.Generator().manual_seed(seed)
        getattr(torch.nn.init, advice.function)(fresh, **args, generator=generator)
        return fresh.to(original.dtype)

    described = advice.function + "(" + ", ".join(f"{k}={_show(v)}" for k, v in args.items()) + ")"
    return reinit, described, target_std


def _show(value: object) -> str:
    return f"{value:.4g}" if isinstance(value, float) else repr(value)


# --------------------------------------------------------------------------- writing

#: name -> function from the original tensor to its re-initialised replacement.
Reinits = dict[str, Callable[[torch.Tensor], torch.Tensor]]


def _write(source: Source, reinits: Reinits, target: Path, fmt: str, notes: list[str]) -> None:
    if source.weights is not None:  # built from its config: rewrite the stored tensors, copy the rest
        stored = source.weights
        if stored.kind.sharded:
            atomic_dir(target, lambda tmp: _write_shards(stored, reinits, tmp, notes))
        else:
            atomic_dir(target, lambda tmp: _write_beside_config(stored, reinits, tmp, notes))
    elif fmt != "directory":
        atomic_file(target, lambda tmp: _write_file(source, reinits, tmp, fmt))
    elif source.kind.sharded:
        atomic_dir(target, lambda tmp: _write_shards(source, reinits, tmp, notes))
    else:  # a directory holding one model file: the fixed copy keeps its name
        assert source.path is not None
        name = source.path.name
        atomic_dir(target, lambda tmp: _write_file(source, reinits, tmp / name, _format_of(name)))


def _write_beside_config(stored: Source, reinits: Reinits, directory: Path, notes: list[str]) -> None:
    assert stored.path is not None
    root = stored.path.parent
    for name in _files_to_copy(root, set(), {stored.path.name}, notes):
        shutil.copyfile(root / name, directory / name)
    _write_file(stored, reinits, directory / stored.path.name, _format_of(stored.path.name))


def _format_of(file_name: str) -> str:
    return "safetensors" if file_name.endswith(".safetensors") else "torch"


def _write_file(source: Source, reinits: Reinits, tmp: Path, fmt: str) -> None:
    if source.module is not None:
        _write_module(source, reinits, tmp, fmt)
    elif fmt == "safetensors":
        _stream_safetensors(source, reinits, tmp, source.metadata if source.kind is SourceKind.SAFETENSORS else {})
    else:
        _save_torch(source, reinits, tmp)


def _write_module(source: Source, reinits: Reinits, tmp: Path, fmt: str) -> None:
    """The model is in memory already: swap each fixed parameter in, then save in ``fmt``."""
    assert source.module is not None
    parameters = dict(source.module.named_parameters())
    with torch.no_grad():
        for name, reinit in reinits.items():
            parameters[name].data = reinit(parameters[name].detach())
    if fmt == "safetensors":
        state = {k: v.contiguous() for k, v in source.module.state_dict().items()}
        metadata = source.metadata if source.kind is SourceKind.SAFETENSORS else {}
        write_safetensors(_entries(state, list(state)), state.__getitem__, tmp, metadata)
    elif source.kind is SourceKind.TORCHSCRIPT:
        torch.jit.save(source.module, str(tmp))
    elif source.kind is SourceKind.PICKLE:
        torch.save(source.module, str(tmp))
    elif source.container is not None:  # --factory over a torch.save file: keep its structure
        torch.save(_replace_nested(source, {n: parameters[n].detach() for n in reinits}), str(tmp))
    else:
        torch.save(source.module.state_dict(), str(tmp))


def _entries(source_or_state: Source | dict[str, torch.Tensor], names: list[str]) -> list[Entry]:
    """Shapes and dtypes for a safetensors header, from the source's header where it has one,
    else reading one tensor at a time."""
    if isinstance(source_or_state, Source) and source_or_state.describe is not None:
        return [(name, *source_or_state.describe(name)) for name in names]
    load = source_or_state.load if isinstance(source_or_state, Source) else source_or_state.__getitem__
    entries = []
    for name in names:
        tensor = load(name)
        entries.append((name, tuple(tensor.shape), tensor.dtype))
        del tensor
    return entries


def _stream_safetensors(source: Source, reinits: Reinits, path: Path, metadata: dict[str, str]) -> None:
    def produce(name: str) -> torch.Tensor:
        original = source.load(name)
        return reinits[name](original) if name in reinits else original

    write_safetensors(_entries(source, source.names), produce, path, metadata)


def _save_torch(source: Source, reinits: Reinits, path: Path) -> None:
    """``torch.save`` with each replacement in its own file-backed storage: the fixed tensors sit
    in the page cache, not in memory, while torch.save writes them."""
    with scratch_dir(path) as scratch:
        replacements = {}
        for index, (name, reinit) in enumerate(reinits.items()):
            replacements[name] = _file_backed(reinit(source.load(name)), scratch / str(index))
        if source.container is not None:
            torch.save(_replace_nested(source, replacements), str(path))
        else:
            torch.save({n: replacements.get(n, source.load(n)) for n in source.names}, str(path))


def _file_backed(tensor: torch.Tensor, path: Path) -> torch.Tensor:
    if tensor.numel() == 0:
        return tensor
    backed = torch.from_file(str(path), shared=True, size=tensor.numel(), dtype=tensor.dtype)
    return backed.view(tensor.shape).copy_(tensor)


def _replace_nested(source: Source, new: dict[str, torch.Tensor]) -> Any:
    """A shallow copy of the loaded object with the fixed tensors swapped in (never in place)."""
    def rebuild(node: Any, path: tuple[str, ...]) -> Any:
        if not path:
            state = dict(node)
            for name, tensor in new.items():
                state[source.prefix + name] = tensor
            return state
        copied = dict(node)
        copied[path[0]] = rebuild(node[path[0]], path[1:])
        return copied
    return rebuild(source.container, source.key_path)


def _write_shards(source: Source, reinits: Reinits, directory: Path, notes: list[str]) -> None:
    assert source.path is not None
    root = source.path
    changed = {source.shard_map[name] for name in reinits}
    for file_name in _files_to_copy(root, set(source.shard_map.values()), changed, notes):
        destination = directory / file_name
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(root / file_name, destination)
    for file_name in sorted(changed):
        shard = open_shard(root / file_name)
        destination = directory / file_name
        destination.parent.mkdir(parents=True, exist_ok=True)
        own = {name: reinit for name, reinit in reinits.items() if source.shard_map[name] == file_name}
        if shard.kind is SourceKind.SAFETENSORS:
            _stream_safetensors(shard, own, destination, shard.metadata)
        else:
            _save_torch(shard, own, destination)


def _files_to_copy(root: Path, shards: set[str], changed: set[str], notes: list[str]) -> list[str]:
    """Untouched shards and the directory's other regular files, none reached through a link out."""
    inside = root.resolve()
    names = (shards | {entry.name for entry in root.iterdir()}) - changed
    chosen = []
    for name in sorted(names):
        entry = root / name
        if not entry.resolve().is_relative_to(inside):
            notes.append(f"not copied: {name} (a link out of the checkpoint directory)")
        elif entry.is_file():
            chosen.append(name)
    return chosen


def _signal_ratios(analysis: Analysis) -> tuple[float | None, float | None]:
    signal = analysis.report.signal
    hidden = hidden_layers(analysis.report.parameters, weights_of(row.module for row in signal))
    return signal_ratios(signal, hidden)
