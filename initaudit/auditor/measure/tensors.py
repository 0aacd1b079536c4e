"""The measuring stage: statistics of every weight tensor of a source, one tensor at a time, or
the shards of a sharded checkpoint on ``jobs`` worker processes (the same results, in the same
order, as one process gives)."""

from __future__ import annotations

import dataclasses
import itertools
import weakref
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

import torch

from initaudit.auditor.errors import AuditError
from initaudit.auditor.load.source import Source
from initaudit.auditor.load.sources import open_shard
from initaudit.auditor.measure.tensorstats import Mapper, TensorStats, block_workers, tensor_stats
from initaudit.progress import Progress

#: State-dict entries that are buffers of normalisation layers, not weights.
BUFFER_SUFFIXES = ("running_mean", "running_var", "num_batches_tracked")
#: Elements checked for NaN/Inf at once (bounds the mask's memory).
_SCAN_BLOCK = 1 << 22
#: A tensor whose values are views of fewer stored ones (stride 0: one value seen 2**34 times)
#: is measured while that costs at most this many times what is stored, or this many values.
OVERLAP_FACTOR = 16
OVERLAP_LIMIT = 1 << 24


@dataclass
class Measured:
    stats: dict[str, TensorStats] = field(default_factory=dict)
    #: Tensors not measured, with the reason ("meta", "sparse_coo", values stored far fewer times).
    unmeasured: list[str] = field(default_factory=list)
    #: Names of one tensor (the same view of one storage): measured once, under the first name.
    ties: dict[str, list[str]] = field(default_factory=dict)

    def add(self, name: str, result: TensorStats | str | None) -> None:
        if isinstance(result, TensorStats):
            self.stats[name] = result
        elif result is not None:
            self.unmeasured.append(f"{name} ({result})")


def measure_source(source: Source, seed: int, *, sample: bool = False, jobs: int = 1,
                   progress: Progress | None = None) -> Measured:
    """``progress`` is told (tensors measured, tensors in all) as the work advances."""
    names = [name for name in source.names if not name.endswith(BUFFER_SUFFIXES)]
    if jobs > 1 and source.kind.sharded and source.path is not None and len(set(source.shard_map.values())) > 1:
        return _in_processes(source.path, source.shard_map, names, seed, sample, jobs, progress)
    measured = Measured()
    # A view's address identifies it only while its first tensor lives: a freed shard's memory
    # map may come back at the same address with another shard's tensors.
    first_of: dict[tuple, tuple[str, TensorStats | str | None, weakref.ref[torch.Tensor]]] = {}
    with block_workers() as mapper:
        for done, name in enumerate(names, start=1):
            tensor = source.load(name)
            view = _view_key(tensor)
            if view in first_of and first_of[view][2]() is not None:
                first, result, _ = first_of[view]
                measured.ties.setdefault(first, []).append(name)
            else:
                result = measure(tensor, seed, mapper, sample)
                if view is not None:
                    first_of[view] = (name, result, weakref.ref(tensor))
            measured.add(name, result)
            if progress is not None:
                progress(done, len(names))
    return measured


def _view_key(tensor: torch.Tensor) -> tuple | None:
    """What makes two names one tensor: the same view of the same storage (None: no storage)."""
    if tensor.is_meta or tensor.layout is not torch.strided or tensor.is_quantized or tensor.numel() == 0:
        return None
    return (tensor.untyped_storage().data_ptr(), tensor.storage_offset(), tuple(tensor.shape),
            tensor.stride(), tensor.dtype)


def measure(tensor: torch.Tensor, seed: int, mapper: Mapper, sample: bool) -> TensorStats | str | None:
    """The tensor's statistics; None for what holds no real-valued weights (indices, counts,
    masks); the reason it has no values to read. A quantized tensor is measured as the values it
    stands for; a complex one on its real part, with the non-finite values of both parts."""
    if tensor.is_meta or tensor.layout is not torch.strided:
        return "meta, no values" if tensor.is_meta else f"{str(tensor.layout).removeprefix('torch.')}, no dense values"
    if not (tensor.is_floating_point() or tensor.is_complex() or tensor.is_quantized) or tensor.numel() == 0:
        return None
    if tensor.is_quantized:
        tensor = tensor.dequantize()
    stored = tensor.untyped_storage().nbytes() // tensor.element_size()
    if tensor.numel() > max(OVERLAP_FACTOR * stored, OVERLAP_LIMIT):
        return f"{tensor.numel()} values are views of {stored} stored ones (stride 0 or overlapping strides)"
    stats = tensor_stats(tensor, seed, mapper, sample)
    if tensor.is_complex() and not stats.sampled:
        stats = dataclasses.replace(stats, nonfinite=count_nonfinite(tensor))
    return stats


def count_nonfinite(tensor: torch.Tensor, *, infinities: bool = True) -> int:
    """Elements that are NaN, or infinite when ``infinities`` (in either part of a complex
    value), a block at a time."""
    if tensor.is_quantized:
        tensor = tensor.dequantize()
    if not (tensor.is_floating_point() or tensor.is_complex()) or tensor.is_meta or tensor.layout is not torch.strided:
        return 0
    flat = tensor.detach().reshape(-1)
    if flat.is_complex():
        flat = torch.view_as_real(flat).reshape(-1, 2)
    count = 0
    for start in range(0, flat.shape[0], _SCAN_BLOCK):
        block = flat[start:start + _SCAN_BLOCK]
        bad = ~torch.isfinite(block) if infinities else torch.isnan(block)
        count += int((bad.any(dim=1) if bad.dim() == 2 else bad).sum())
    return count


def nonfinite_elsewhere(source: Source) -> dict[str, tuple[int, int]]:
    """Tensors the audit reads but does not measure as weights (buffers such as BatchNorm's
    running statistics, the file's other tensors) with how many of their values are NaN, where
    any are, and how many values they have. Infinities count only in running statistics: an
    attention mask buffer holds -inf on purpose (Whisper's causal mask)."""
    if source.module is not None:
        tensors: Iterator[tuple[str, torch.Tensor]] = iter(source.module.named_buffers())
    else:
        tensors = ((name, source.load(name)) for name in source.names if name.endswith(BUFFER_SUFFIXES))
    found = {}
    for name, tensor in itertools.chain(tensors, source.others.items()):
        count = count_nonfinite(tensor, infinities=name.endswith(BUFFER_SUFFIXES))
        if count:
            found[name] = (count, tensor.numel())
    return found


def _in_processes(directory: Path, shard_map: dict[str, str], names: list[str], seed: int,
                  sample: bool, jobs: int, progress: Progress | None) -> Measured:
    from initaudit.pool import run_in_processes

    by_shard: dict[str, list[str]] = {}
    for name in names:
        by_shard.setdefault(shard_map[name], []).append(name)
    tasks = [(str(directory / shard), tuple(shard_names), seed, sample) for shard, shard_names in by_shard.items()]
    results: dict[str, TensorStats | str | None] = {}
    for outcome in run_in_processes(_measure_shard, tasks, min(jobs, len(tasks)), 1, _crashed):
        if isinstance(outcome, str):
            raise AuditError(outcome)
        results.update(outcome)
        if progress is not None:
            progress(len(results), len(names))
    measured = Measured()
    for name in names:
        measured.add(name, results[name])
    return measured


def _measure_shard(task: tuple[str, tuple[str, ...], int, bool]) -> dict[str, TensorStats | str | None] | str:
    """In a worker: one shard's tensors. An error comes back as its message."""
    path, names, seed, sample = task
    torch.set_num_threads(1)  # the workers are the parallelism
    try:
        shard = open_shard(Path(path))
        missing = [name for name in names if name not in shard.names]
        if missing:
            return f"{path}: shard has no tensor {missing[0]}"
        with block_workers() as mapper:
            return {name: measure(shard.load(name), seed, mapper, sample) for name in names}
    except AuditError as error:
        return str(error)


def _crashed(task: tuple[str, tuple[str, ...], int, bool]) -> str:
    return f"{task[0]}: the process reading this shard crashed"
