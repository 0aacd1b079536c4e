"""``--fix --output OUT``: re-initialise flagged layers, write a copy in the input's format
atomically, reload it and check the result. The input is never modified."""

from __future__ import annotations

import os
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import torch

from initaudit import knowledge
from initaudit.audit.errors import AuditError
from initaudit.audit.findings import FIXABLE
from initaudit.audit.pipeline import Analysis
from initaudit.audit.safetensors_io import save_safetensors
from initaudit.audit.probe import probe_signal, signal_ratios
from initaudit.audit.sources import Source, open_source
from initaudit.audit.tensorstats import tensor_stats
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
    remaining_failures: bool = False

    @property
    def exit_code(self) -> int:
        if any(not c.verified for c in self.changes):
            return 1
        return 1 if self.remaining_failures else 0


def apply_fix(source: Source, analysis: Analysis, output: str, *, seed: int,
              trust_pickle: bool, factory: str | None) -> FixOutcome:
    target = Path(output)
    if source.path is not None and target.resolve() == source.path.resolve():
        raise AuditError("--output must differ from the input: the input is never modified")
    flagged = [f for f in analysis.report.findings
               if f.code in FIXABLE and f.severity is not Severity.INFO and f.parameter]
    plans = {}
    for index, finding in enumerate(sorted({f.parameter for f in flagged})):
        plans[finding] = _plan(analysis, finding, seed + index)
    new_tensors = {name: plan[0](source.load(name)) for name, plan in plans.items()}
    before_signal = signal_ratios(analysis.report.signal)
    _write(source, new_tensors, target)
    reloaded = open_source(str(target), trust_pickle=trust_pickle,
                           factory=factory or source.metadata.get("factory"))
    outcome = FixOutcome(str(target))
    for name, (_, scheme, target_std) in plans.items():
        after = tensor_stats(reloaded.load(name))
        verified = target_std is None or abs(after.std / target_std - 1) < VERIFY_TOLERANCE
        outcome.changes.append(Change(name, scheme, analysis.layers[name].stats.std, after.std,
                                      target_std, verified))
    remaining = [f for f in analysis.report.findings
                 if f.severity.fails and f.parameter not in plans and f.code not in ("IA207", "IA208")]
    outcome.remaining_failures = bool(remaining)
    if reloaded.module is not None and analysis.example is not None and analysis.report.signal:
        after_signal = signal_ratios(probe_signal(reloaded.module, analysis.example, seed))
        outcome.signal_ratios = [
            ("forward std ratio last/first", before_signal[0], after_signal[0]),
            ("backward dL/dh ratio first/last", before_signal[1], after_signal[1]),
        ]
        low, high = knowledge.SIGNAL_RATIO_BAND
        if any(r is not None and not low <= r <= high for r in after_signal):
            outcome.remaining_failures = True
    return outcome


def _plan(analysis: Analysis, name: str, seed: int) -> tuple[Callable[[torch.Tensor], torch.Tensor], str, float | None]:
    """(re-initialiser, description, target std) for one flagged parameter."""
    report = analysis.layers[name].report
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


def _write(source: Source, new: dict[str, torch.Tensor], target: Path) -> None:
    if source.kind in ("sharded-safetensors", "sharded-bin"):
        _atomic_dir(target, lambda tmp: _write_shards(source, new, tmp))
        return
    _atomic_file(target, lambda tmp: _write_file(source, new, tmp, target))


def _write_file(source: Source, new: dict[str, torch.Tensor], tmp: Path, target: Path) -> None:
    if source.module is not None and source.kind in ("torchscript", "pickle", "factory"):
        _assign(source.module, new)
        if source.kind == "torchscript":
            torch.jit.save(source.module, str(tmp))
        elif source.kind == "pickle":
            torch.save(source.container if source.container is not None else source.module, str(tmp))
        elif target.suffix == ".safetensors":
            _save_safetensors(_state(source.module), tmp, {})
        else:
            torch.save(source.module.state_dict(), str(tmp))
        return
    if source.module is not None:  # --factory over a state-dict file: keep the file's format
        _assign(source.module, new)
    if source.kind == "safetensors":
        tensors = {name: new.get(name, source.load(name)) for name in source.names}
        _save_safetensors(tensors, tmp, source.metadata)
        return
    container = _replace_nested(source, new)
    torch.save(container, str(tmp), _use_new_zipfile_serialization=source.kind != "legacy")


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


def _write_shards(source: Source, new: dict[str, torch.Tensor], directory: Path) -> None:
    import json

    assert source.path is not None
    index_name = source.metadata["index"]
    weight_map: dict[str, str] = json.loads((source.path / index_name).read_text())["weight_map"]
    changed_files = {weight_map[name] for name in new}
    for entry in source.path.iterdir():
        if entry.is_file() and entry.name not in changed_files:
            shutil.copyfile(entry, directory / entry.name)
    for file_name in sorted(changed_files):
        names = [n for n, f in weight_map.items() if f == file_name]
        shard = open_source(str(source.path / file_name))
        tensors = {n: new.get(n, shard.load(n)) for n in names}
        if file_name.endswith(".safetensors"):
            _save_safetensors(tensors, directory / file_name, shard.metadata)
        else:
            torch.save(tensors, str(directory / file_name))


def _assign(module: torch.nn.Module, new: dict[str, torch.Tensor]) -> None:
    parameters = dict(module.named_parameters())
    with torch.no_grad():
        for name, tensor in new.items():
            parameters[name].data = tensor.to(parameters[name].dtype)


def _state(module: torch.nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.contiguous() for k, v in module.state_dict().items()}


def _save_safetensors(tensors: dict[str, torch.Tensor], path: Path, metadata: dict[str, str]) -> None:
    save_safetensors(tensors, path, metadata)


def _atomic_file(target: Path, write: Callable[[Path], None]) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    os.close(handle)
    tmp = Path(name)
    try:
        write(tmp)
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)


def _atomic_dir(target: Path, write: Callable[[Path], None]) -> None:
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise AuditError(f"{target}: exists; choose a new directory for the fixed checkpoint")
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    try:
        write(tmp)
        if target.exists():
            target.rmdir()
        os.replace(tmp, target)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
