"""Open what ``initaudit model SPEC`` names, safely, without reading every tensor at once.

A source yields parameter names and loads one tensor at a time. Files are never unpickled
with arbitrary globals unless the caller trusts them.
"""

from __future__ import annotations

import dataclasses
import json
import re
import stat
import zipfile
from pathlib import Path
from typing import Any, Callable, Iterator

import torch

from initaudit.auditor.errors import AuditError, first_line
from initaudit.auditor.load.factories import call_factory
from initaudit.auditor.load.preflight import refuse_unreadable
from initaudit.auditor.load.safetensors_io import DTYPE_OF, MappedSafetensors
from initaudit.auditor.load.source import Source, SourceKind, module_source, tied_names
from initaudit.auditor.notes import Note, NoteKind
from initaudit.safe_read import read_regular

#: The weight files a library loads from a checkpoint directory, the first present winning:
#: transformers (and timm) take a single safetensors file before a sharded index, diffusers a
#: sharded index first; a bin file only where no safetensors one is there.
LOAD_ORDER = {
    "transformers": ("model.safetensors", "model.safetensors.index.json", "pytorch_model.bin",
                     "pytorch_model.bin.index.json"),
    "diffusers": ("diffusion_pytorch_model.safetensors.index.json", "diffusion_pytorch_model.safetensors",
                  "diffusion_pytorch_model.bin", "diffusion_pytorch_model.bin.index.json"),
}
#: Far above any model's config.json (a few kB); a bound on what a directory can make us read.
CONFIG_LIMIT = 1 << 20
#: Suffixes of files that can hold weights: those a directory holds beside what is loaded are named.
WEIGHT_SUFFIXES = (".safetensors", ".bin", ".pt", ".pth", ".ckpt", ".index.json")
#: Keys under which training checkpoints nest the model's state dict, most specific first.
NESTED_KEYS = ("state_dict", "model_state_dict", "model", "module", "net", "network", "weights")
#: Prefixes added by DataParallel/DistributedDataParallel and torch.compile.
WRAPPER_PREFIXES = ("module.", "_orig_mod.")
#: A compressed record of a checkpoint archive may inflate to this many times its size on disk,
#: or to this many bytes, whichever is more (float weights hardly compress; torch stores them raw).
INFLATION_FACTOR = 32
INFLATION_FLOOR = 64 << 20
#: How deep training checkpoints are searched for their state dict.
MAX_NESTING = 8


def open_source(spec: str | None, *, trust_pickle: bool = False, factory: str | None = None,
                low_memory: bool = False) -> Source:
    """The checkpoint ``spec`` names, or (``spec`` None) the model ``factory`` builds. A
    checkpoint argument is only ever read as a path: importing it would run the code of any
    module it happens to name (``model:v3`` beside a ``model.py``)."""
    if spec is None:
        if factory is None:
            raise AuditError("nothing to audit: give a checkpoint, or --factory package.module:function")
        from initaudit.auditor.load.materialise import factory_source

        return factory_source(factory, low_memory)
    refuse_unreadable(spec)
    path = Path(spec)
    if path.is_dir():
        _refuse_pipeline(path)
    source = _open_path(path, trust_pickle, allow_index=True)
    if factory is not None and source.module is None:
        module, source.example = call_factory(factory)
        return _attach(source, module)
    if source.module is None and path.is_dir():
        _build_from_config(source, path)
    if source.module is None and source.kind is not SourceKind.TORCHSCRIPT:
        source.notes.append(Note(NoteKind.NO_ARCHITECTURE, "a state dict without its architecture: activations, "
                                 "IA206 (std against the activation), the signal probe and IA207/IA208 need "
                                 "--factory package.module:function or a directory with the model's config.json"))
    return source


def _refuse_pipeline(directory: Path) -> None:
    from initaudit.auditor.load.architectures import pipeline_components

    components = pipeline_components(directory)
    if components is not None:
        raise AuditError(f"{directory}: a diffusers pipeline; audit one of its models, e.g. "
                         f"{', '.join(str(directory / c) for c in components[:4]) or 'a component folder'}")


def _build_from_config(source: Source, directory: Path) -> None:
    """Give a checkpoint directory's tensors the model its config.json describes."""
    from initaudit.auditor.load import architectures

    module = architectures.build(directory, source.notes, _stored_bytes(source))
    if module is None:
        return
    source.notes.extend(architectures.assign(module, source.names, source.load, str(directory)))
    source.weights = dataclasses.replace(source)
    parameters = dict(module.named_parameters())
    source.module, source.names, source.load = module, list(parameters), parameters.__getitem__
    source.architecture = type(module).__name__


def _stored_bytes(source: Source) -> int:
    """The size on disk of the weight files a source reads."""
    assert source.path is not None
    files = {source.path / name for name in source.shard_map.values()} if source.shard_map else {source.path}
    return sum(path.stat().st_size for path in files if path.is_file())


def open_shard(path: Path) -> Source:
    """One checkpoint file, never a directory or an index (shards of a sharded checkpoint)."""
    return _open_path(path, trust_pickle=False, allow_index=False)


def _open_path(path: Path, trust_pickle: bool, *, allow_index: bool) -> Source:
    """Open a checkpoint file; a directory or shard index only when ``allow_index`` (the top level)."""
    try:
        mode = path.stat().st_mode
    except OSError as error:
        raise AuditError(f"{path}: cannot read ({error.strerror or error})") from None
    if stat.S_ISDIR(mode) and allow_index:
        return _checkpoint_directory(path)
    if not stat.S_ISREG(mode):
        raise AuditError(f"{path}: not a regular file")
    if path.name.endswith(".index.json"):
        if not allow_index:
            raise AuditError(f"{path}: a shard index cannot be a shard")
        return _sharded(path.parent, path.name)
    try:
        size = path.stat().st_size
        with path.open("rb") as handle:
            head = handle.read(16)
    except OSError as error:
        raise AuditError(f"{path}: cannot read ({error.strerror or error})") from None
    if size == 0:
        raise AuditError(f"{path}: empty file")
    if _is_zip(path):
        return _zip(path, trust_pickle)
    if _looks_like_safetensors(head, path):
        return _safetensors(path)
    if head[:1] == b"\x80":
        return _legacy(path, trust_pickle)
    raise AuditError(f"{path}: not a checkpoint initaudit can read "
                     "(expected .safetensors, a torch.save file, TorchScript or a sharded directory)")


def _looks_like_safetensors(head: bytes, path: Path) -> bool:
    if len(head) < 9:
        return False
    header_size = int.from_bytes(head[:8], "little")
    return head[8:9] == b"{" and 0 < header_size < path.stat().st_size


# --------------------------------------------------------------------------- safetensors


def _safetensors(path: Path) -> Source:
    from safetensors import safe_open

    try:
        handle = safe_open(str(path), framework="pt")
        names = sorted(handle.keys(), key=natural_key)
        metadata = handle.metadata() or {}
    except Exception as error:
        raise AuditError(f"{path}: unreadable safetensors file ({first_line(error)})") from None

    try:
        mapped = MappedSafetensors(path)
    except (OSError, ValueError) as error:
        raise AuditError(f"{path}: cannot read ({first_line(error)})") from None

    def load(name: str) -> torch.Tensor:
        try:
            return mapped.tensor(name)
        except Exception as error:
            raise AuditError(f"{path}: cannot read tensor {name} ({first_line(error)})") from None

    def describe(name: str) -> tuple[tuple[int, ...], torch.dtype]:
        header = handle.get_slice(name)
        dtype = DTYPE_OF.get(header.get_dtype())
        if dtype is None:
            raise AuditError(f"{path}: tensor {name} has dtype {header.get_dtype()}, which initaudit cannot write")
        return tuple(header.get_shape()), dtype

    return Source(SourceKind.SAFETENSORS, path, names, load, metadata=dict(metadata), describe=describe)


def _checkpoint_directory(directory: Path) -> Source:
    """The weights the library that saved ``directory`` would load from it, with a note naming
    the weight files beside them that it would not."""
    first, second = ("diffusers", "transformers") if _saved_by_diffusers(directory) else ("transformers", "diffusers")
    chosen = next((name for name in (*LOAD_ORDER[first], *LOAD_ORDER[second]) if (directory / name).is_file()), None)
    if chosen is None:
        raise AuditError(f"{directory}: directory without {' or '.join(LOAD_ORDER['transformers'][:2])}")
    if chosen.endswith(".index.json"):
        source = _sharded(directory, chosen)
        loaded = {chosen, *source.shard_map.values()}
    else:
        source = _open_path(directory / chosen, trust_pickle=False, allow_index=False)
        loaded = {chosen}
    ignored = sorted(entry.name for entry in directory.iterdir()
                     if entry.name.endswith(WEIGHT_SUFFIXES) and entry.name not in loaded and entry.is_file())
    if ignored:
        source.notes.append(Note(NoteKind.FILES_NOT_AUDITED, f"audited {chosen}, which {first} loads first; not "
                                 f"audited, as it would not load them: {', '.join(ignored[:5])}"
                                 f"{f' and {len(ignored) - 5} more' if len(ignored) > 5 else ''}"))
    return source


def _saved_by_diffusers(directory: Path) -> bool:
    """A diffusers model folder: its config names a ``_class_name``, or only diffusers' file names are there."""
    text = read_regular(directory / "config.json", CONFIG_LIMIT)
    try:
        if text is not None and "_class_name" in json.loads(text):
            return True
    except (ValueError, RecursionError, TypeError):
        pass
    return not any((directory / name).is_file() for name in LOAD_ORDER["transformers"])


def _sharded(directory: Path, index_name: str) -> Source:
    index = directory / index_name
    weight_map = _read_weight_map(index)
    shards: dict[str, Source] = {}

    def shard(file_name: str) -> Source:
        if file_name not in shards:
            shard_path = directory / file_name
            if not shard_path.is_file():
                raise AuditError(f"{index}: shard {file_name} is missing")
            shards.clear()  # one shard open at a time
            shards[file_name] = open_shard(shard_path)
        return shards[file_name]

    def load(name: str) -> torch.Tensor:
        found = shard(weight_map[name])
        if name not in found.names:
            raise AuditError(f"{index}: shard {weight_map[name]} has no tensor {name}")
        return found.load(name)

    names = sorted(weight_map, key=lambda n: (weight_map[n], natural_key(n)))
    kind = SourceKind.SHARDED_SAFETENSORS if ".safetensors." in index.name else SourceKind.SHARDED_BIN
    return Source(kind, directory, names, load, index=index.name, shard_map=weight_map)


def _read_weight_map(index: Path) -> dict[str, str]:
    """The index's ``weight_map``, every shard a file name inside the index's directory."""
    try:
        weight_map = json.loads(index.read_text())["weight_map"]
    except (ValueError, KeyError, TypeError, RecursionError, OSError) as error:
        raise AuditError(f"{index}: invalid shard index ({first_line(error)})") from None
    if not isinstance(weight_map, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in weight_map.items()):
        raise AuditError(f"{index}: invalid shard index (weight_map must map tensor names to file names)")
    root = index.parent.resolve()
    for file_name in set(weight_map.values()):
        relative = Path(file_name)
        if relative.is_absolute() or ".." in relative.parts or not file_name or file_name.endswith(".index.json"):
            raise AuditError(f"{index}: shard {file_name!r} is not a file name inside the checkpoint directory")
        if not (index.parent / relative).resolve().is_relative_to(root):
            raise AuditError(f"{index}: shard {file_name!r} leads outside the checkpoint directory")
    return weight_map


# --------------------------------------------------------------------------- torch.save / jit


def _is_zip(path: Path) -> bool:
    """A zip archive by its end record (torch.save zips start with their first member)."""
    try:
        return zipfile.is_zipfile(path)
    except (zipfile.BadZipFile, ValueError, OSError):
        return True  # an end record that is there but broken: a damaged archive


def _zip(path: Path, trust_pickle: bool) -> Source:
    try:
        with zipfile.ZipFile(path) as archive:
            infos = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError, UnicodeDecodeError, EOFError) as error:
        # Member names that are not valid UTF-8 and broken zip64 records included.
        raise AuditError(f"{path}: corrupt archive ({first_line(error)})") from None
    _refuse_inflation(path, infos)
    members = [info.filename for info in infos]
    if any(m.endswith("/constants.pkl") for m in members):  # torch.load's own TorchScript test
        return _torchscript(path, trust_pickle)
    if not any(m.endswith("data.pkl") for m in members):
        raise AuditError(f"{path}: zip archive that is not a torch.save checkpoint")
    _refuse_unsafe_globals(path, trust_pickle)
    loaded = _torch_load(path, mmap=True, trusted=trust_pickle)
    return _from_object(loaded, path, SourceKind.ZIP)


def _refuse_inflation(path: Path, infos: list[zipfile.ZipInfo]) -> None:
    """torch.save and TorchScript store their records uncompressed; a compressed record is
    inflated whole by the loader, so one that would grow far beyond the bytes on disk (a 2 MB
    archive whose data.pkl inflates to 2 GiB) is refused before anything is read."""
    for info in infos:
        if info.compress_type != zipfile.ZIP_STORED and info.file_size > max(
                INFLATION_FACTOR * info.compress_size, INFLATION_FLOOR):
            raise AuditError(f"{path}: record {info.filename} would inflate from {info.compress_size} to "
                             f"{info.file_size} bytes; refusing a compressed record that large")


def _legacy(path: Path, trust_pickle: bool) -> Source:
    """A pre-1.6 ``torch.save`` file or a raw pickle."""
    loaded = _torch_load(path, mmap=False, trusted=trust_pickle)
    return _from_object(loaded, path, SourceKind.LEGACY)


def _refuse_unsafe_globals(path: Path, trust_pickle: bool) -> None:
    if trust_pickle:
        return
    try:
        unsafe = torch.serialization.get_unsafe_globals_in_checkpoint(str(path))
    except Exception as error:
        raise AuditError(f"{path}: corrupt or truncated checkpoint ({first_line(error)})") from None
    if unsafe:
        raise AuditError(
            f"{path}: refusing to unpickle, it needs {', '.join(sorted(unsafe))} "
            "(loading would run code from the file; pass --trust-pickle if you trust it)")


def _torch_load(path: Path, *, mmap: bool, trusted: bool) -> Any:
    import pickle

    try:
        return torch.load(str(path), map_location="cpu", weights_only=not trusted, mmap=mmap)
    except pickle.UnpicklingError as error:
        if "Weights only load failed" not in str(error):
            raise AuditError(f"{path}: corrupt or truncated checkpoint ({first_line(error)})") from None
        needed = set(re.findall(r"GLOBAL (\S+)", str(error))) | _unsafe_pickle_globals(path)
        if needed:
            raise AuditError(
                f"{path}: refusing to unpickle, it needs {', '.join(sorted(needed))} "
                "(loading would run code from the file; pass --trust-pickle if you trust it)"
            ) from None
        detail = re.search(r"WeightsUnpickler error:\s*(.+)", str(error))
        raise AuditError(
            f"{path}: refusing to unpickle, the restricted loader cannot read it "
            f"({detail.group(1).strip() if detail else 'unsupported pickle'}; pickle protocols "
            "above 3 need --trust-pickle, which runs code from the file if you trust it)") from None
    except Exception as error:
        raise AuditError(f"{path}: corrupt or truncated checkpoint ({first_line(error)})") from None


def _unsafe_pickle_globals(path: Path) -> set[str]:
    from initaudit.auditor.load.pickle_scan import pickle_globals

    with path.open("rb") as handle:
        named = pickle_globals(handle)
    return {name for name in named
            if not name.startswith(("torch.", "collections.OrderedDict", "_codecs.encode"))}


def _torchscript(path: Path, trust_pickle: bool) -> Source:
    if not trust_pickle:
        return _script_weights(path)
    try:
        module = torch.jit.load(str(path), map_location="cpu")
    except Exception as error:
        raise AuditError(f"{path}: unreadable TorchScript archive ({first_line(error)})") from None
    if next(module.parameters(), None) is None:  # frozen: the weights are graph constants
        source = _script_weights(path)
        source.notes[-1] = Note(NoteKind.SCRIPT_WEIGHTS, "TorchScript module without parameters (frozen: its "
                                "weights are graph constants), read as the archive's tensors, without "
                                "activations or signal")
        return source
    return module_source(module, SourceKind.TORCHSCRIPT, path)


def _script_weights(path: Path) -> Source:
    from initaudit.auditor.load.script_weights import ScriptWeights

    weights = ScriptWeights(path)
    source = Source(SourceKind.TORCHSCRIPT, path, list(weights.tensors), _checked(weights.load, path))
    source.unread = [f"{module}: saves its own state (__getstate__), and the tensors it leaves out are not "
                     "in the archive" for module in weights.own_states]
    source.notes.append(Note(NoteKind.SCRIPT_WEIGHTS, "TorchScript archive read as weights only, without running "
                             "its code; activations and the signal probe need --trust-pickle"))
    return source


def _checked(load: Callable[[str], torch.Tensor], path: Path) -> Callable[[str], torch.Tensor]:
    """``load`` that names an unknown tensor as an AuditError."""
    def checked(name: str) -> torch.Tensor:
        try:
            return load(name)
        except KeyError:
            raise AuditError(f"{path}: no tensor {name}") from None
    return checked


def _from_object(loaded: Any, path: Path, kind: SourceKind) -> Source:
    if isinstance(loaded, torch.nn.Module):
        return module_source(loaded, SourceKind.PICKLE, path)
    if isinstance(loaded, dict):
        nested = [loaded[k] for k in NESTED_KEYS if isinstance(loaded.get(k), torch.nn.Module)]
        if nested:
            return module_source(nested[0], SourceKind.PICKLE, path)
    state, key_path = _find_state_dict(loaded)
    if state is None:
        raise AuditError(f"{path}: no tensors found (not a state dict or training checkpoint)")
    keys = [k for k in state if isinstance(state[k], torch.Tensor)]
    odd = [k for k in keys if not isinstance(k, str)]
    if odd:
        raise AuditError(f"{path}: state dict key {odd[0]!r} is a {type(odd[0]).__name__}, "
                         "not a string tensor name")
    prefix = _wrapper_prefix(keys)
    names = [k[len(prefix):] for k in keys]

    def load(name: str) -> torch.Tensor:
        return state[prefix + name]

    source = Source(kind, path, names, _checked(load, path), container=loaded, key_path=key_path,
                    prefix=prefix)
    audited = {id(tensor) for tensor in state.values()}
    source.others = {name: tensor for name, tensor in _tensors_in(loaded, "", 0) if id(tensor) not in audited}
    if source.others:
        tops = sorted({name.split(".", 1)[0] for name in source.others})
        source.notes.append(Note(NoteKind.OUTSIDE_STATE_DICT, f"{len(source.others)} more tensors in the file, "
                                 f"outside the audited state dict {'.'.join(key_path) or '(top level)'}, checked "
                                 f"for NaN only: under {', '.join(tops[:5])}{' and more' if len(tops) > 5 else ''}"))
    return source


def _tensors_in(node: Any, prefix: str, depth: int) -> Iterator[tuple[str, torch.Tensor]]:
    """(key path, tensor) of every tensor in a loaded checkpoint's dicts, lists and tuples."""
    if isinstance(node, torch.Tensor):
        yield prefix.rstrip("."), node
    elif depth <= MAX_NESTING and isinstance(node, dict):
        for key, value in node.items():
            yield from _tensors_in(value, f"{prefix}{key}.", depth + 1)
    elif depth <= MAX_NESTING and isinstance(node, (list, tuple)):
        for index, value in enumerate(node):
            yield from _tensors_in(value, f"{prefix}{index}.", depth + 1)


def _find_state_dict(loaded: Any, depth: int = 0) -> tuple[dict[str, torch.Tensor] | None, tuple[str, ...]]:
    if isinstance(loaded, dict) and depth <= MAX_NESTING:
        if loaded and all(isinstance(v, torch.Tensor) for v in loaded.values()):
            return loaded, ()
        for key in NESTED_KEYS:
            value = loaded.get(key)
            if isinstance(value, torch.nn.Module):
                return value.state_dict(), (key,)
            if isinstance(value, dict):
                found, below = _find_state_dict(value, depth + 1)
                if found is not None:
                    return found, (key, *below)
        if any(isinstance(v, torch.Tensor) for v in loaded.values()):
            return loaded, ()
    return None, ()


def _wrapper_prefix(keys: list[str]) -> str:
    prefix = ""
    for wrapper in WRAPPER_PREFIXES:
        if keys and all(k.startswith(prefix + wrapper) for k in keys):
            prefix += wrapper
    return prefix


# --------------------------------------------------------------------------- modules


def _attach(source: Source, module: torch.nn.Module) -> Source:
    """Load a bare state dict into the factory's architecture (copies: the file stays untouched).

    Weights the model ties (one parameter under several names, as ``lm_head.weight`` and
    ``embed_tokens.weight``) may be saved under any of their names, or under all of them when
    the values agree."""
    expected = dict(module.named_parameters())
    canonical = tied_names(module)
    buffers = dict(module.named_buffers())
    present = set(source.names)
    missing = [name for name in expected
               if not ({name} | {alias for alias, to in canonical.items() if to == name}) & present]
    unexpected = [name for name in source.names
                  if name not in expected and name not in canonical and name not in buffers]
    if missing or unexpected:
        detail = (f"missing {', '.join(missing[:5])}" if missing else
                  f"unexpected {', '.join(unexpected[:5])}")
        raise AuditError(f"{source.path}: state dict does not match the factory's model ({detail})")
    loaded: dict[str, str] = {}  # parameter -> the checkpoint name it was filled from
    with torch.no_grad():
        for name in source.names:
            owner = canonical.get(name, name)
            target = expected.get(owner, buffers.get(name))
            if target is None:
                continue
            tensor = _checked_tensor(source, name, target)
            if owner in loaded:
                if not torch.equal(target, tensor.to(target.dtype)):
                    raise AuditError(f"{source.path}: {loaded[owner]} and {name} differ, but the factory's "
                                     "model ties them (one parameter)")
                continue
            target.copy_(tensor)
            loaded[owner] = name
    source.module = module
    source.names = list(expected)
    source.load = lambda name: expected[name]
    return source


def _checked_tensor(source: Source, name: str, target: torch.Tensor) -> torch.Tensor:
    tensor = source.load(name)
    if tuple(target.shape) != tuple(tensor.shape):
        raise AuditError(f"{source.path}: {name} has shape {tuple(tensor.shape)}, "
                         f"the factory's model expects {tuple(target.shape)}")
    if tensor.is_meta:
        raise AuditError(f"{source.path}: {name} is a meta tensor, without values to load")
    return tensor if tensor.layout is torch.strided else tensor.to_dense()


def natural_key(name: str) -> list[object]:
    """Sort ``layers.10`` after ``layers.9``."""
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", name)]
