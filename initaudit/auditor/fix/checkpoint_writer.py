"""A copy of a checkpoint with some tensors replaced, written atomically in the format asked for:
a ``torch.save`` file (a state dict, a nested checkpoint's structure kept, a pickled module or a
TorchScript archive), a safetensors file, a sharded directory (changed shards rewritten, the
others copied) or a directory beside its ``config.json``. Tensors are read and replaced one at a
time. ``--fix`` is its one user: what to replace, and with what, is the fixer's business."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any, Callable

import torch

from initaudit.auditor.fix.writing import atomic_dir, atomic_file, scratch_dir
from initaudit.auditor.load.safetensors_io import Entry, write_safetensors
from initaudit.auditor.load.source import Source, SourceKind
from initaudit.auditor.load.sources import open_shard
from initaudit.auditor.notes import Note, NoteKind

#: name -> function from the original tensor to the one written in its place.
Reinits = dict[str, Callable[[torch.Tensor], torch.Tensor]]


def write_copy(source: Source, reinits: Reinits, target: Path, fmt: str, notes: list[Note]) -> None:
    """Write ``source`` to ``target`` in ``fmt`` (``writing.output_format``) with each tensor of
    ``reinits`` replaced by its function's answer; what was left out goes to ``notes``."""
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


def _write_beside_config(stored: Source, reinits: Reinits, directory: Path, notes: list[Note]) -> None:
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


def _write_shards(source: Source, reinits: Reinits, directory: Path, notes: list[Note]) -> None:
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


def _files_to_copy(root: Path, shards: set[str], changed: set[str], notes: list[Note]) -> list[str]:
    """Untouched shards and the directory's other regular files, none reached through a link out."""
    inside = root.resolve()
    names = (shards | {entry.name for entry in root.iterdir()}) - changed
    chosen = []
    for name in sorted(names):
        entry = root / name
        if not entry.resolve().is_relative_to(inside):
            notes.append(Note(NoteKind.NOT_COPIED, f"not copied: {name} (a link out of the checkpoint directory)"))
        elif entry.is_file():
            chosen.append(name)
    return chosen
