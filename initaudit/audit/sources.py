"""Open what ``initaudit model SPEC`` names, safely, without reading every tensor at once.

A source yields parameter names and loads one tensor at a time. Files are never unpickled
with arbitrary globals unless the caller trusts them.
"""

from __future__ import annotations

import dataclasses

import importlib
import json
import os
import re
import sys
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import torch

from initaudit.audit.errors import AuditError

SAFETENSORS_INDEX = "model.safetensors.index.json"
BIN_INDEX = "pytorch_model.bin.index.json"
#: Keys under which training checkpoints nest the model's state dict, most specific first.
NESTED_KEYS = ("state_dict", "model_state_dict", "model", "module", "net", "network", "weights")
#: Prefixes added by DataParallel/DistributedDataParallel and torch.compile.
WRAPPER_PREFIXES = ("module.", "_orig_mod.")
FACTORY_SPEC = re.compile(r"^[A-Za-z_][\w.]*:[A-Za-z_]\w*$")


@dataclass
class Source:
    """Parameters to audit; ``module`` is set when a module graph exists."""

    kind: str  # safetensors | sharded-safetensors | sharded-bin | zip | legacy | torchscript | pickle | factory
    path: Path | None
    names: list[str]
    load: Callable[[str], torch.Tensor]
    module: torch.nn.Module | None = None
    #: zip/legacy: the loaded object and where its state dict sits, for writing a fixed copy.
    container: Any = None
    key_path: tuple[str, ...] = ()
    #: How the report names what was audited when there is no file (``pkg.mod:factory``).
    label: str | None = None
    prefix: str = ""
    metadata: dict[str, str] = field(default_factory=dict)


def open_source(spec: str, *, trust_pickle: bool = False, factory: str | None = None) -> Source:
    path = Path(spec)
    if not path.exists() and FACTORY_SPEC.match(spec):
        source = dataclasses.replace(module_source(call_factory(spec), "factory", None), label=spec)
        source.metadata["factory"] = spec
        return source
    if not path.exists():
        raise AuditError(f"{spec}: no such file or directory")
    source = _open_path(path, trust_pickle)
    if factory is not None and source.module is None:
        return _attach(source, call_factory(factory))
    return source


def call_factory(spec: str) -> torch.nn.Module:
    """Import ``package.module:function`` the way ``python -m`` would and call it."""
    if not FACTORY_SPEC.match(spec):
        raise AuditError(f"{spec}: expected a factory as package.module:function")
    module_name, function_name = spec.split(":")
    if os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())
    try:
        module = importlib.import_module(module_name)
    except Exception as error:  # any import-time failure of user code is a usage error
        raise AuditError(f"cannot import {module_name}: {type(error).__name__}: {error}") from None
    function = getattr(module, function_name, None)
    if not callable(function):
        raise AuditError(f"{module_name} has no callable {function_name}")
    try:
        built = function()
    except Exception as error:
        raise AuditError(f"{spec}() failed: {type(error).__name__}: {error}") from None
    if not isinstance(built, torch.nn.Module):
        raise AuditError(f"{spec}() returned {type(built).__name__}, not a torch.nn.Module")
    return built


def _open_path(path: Path, trust_pickle: bool) -> Source:
    if path.is_dir():
        return _sharded(path)
    if path.stat().st_size == 0:
        raise AuditError(f"{path}: empty file")
    if path.name.endswith(".index.json"):
        return _sharded(path.parent, path.name)
    with path.open("rb") as handle:
        head = handle.read(16)
    if zipfile.is_zipfile(path):
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
        raise AuditError(f"{path}: unreadable safetensors file ({_short(error)})") from None

    def load(name: str) -> torch.Tensor:
        try:
            return handle.get_tensor(name)
        except Exception as error:
            raise AuditError(f"{path}: cannot read tensor {name} ({_short(error)})") from None

    return Source("safetensors", path, names, load, metadata=dict(metadata))


def _sharded(directory: Path, index_name: str | None = None) -> Source:
    candidates = [index_name] if index_name else [SAFETENSORS_INDEX, BIN_INDEX]
    for candidate in candidates:
        index = directory / candidate
        if index.is_file():
            break
    else:
        singles = [directory / "model.safetensors", directory / "pytorch_model.bin"]
        for single in singles:
            if single.is_file():
                return _open_path(single, trust_pickle=False)
        raise AuditError(f"{directory}: directory without {SAFETENSORS_INDEX} or {BIN_INDEX}")
    try:
        weight_map: dict[str, str] = json.loads(index.read_text())["weight_map"]
    except (ValueError, KeyError, TypeError) as error:
        raise AuditError(f"{index}: invalid shard index ({_short(error)})") from None
    shards: dict[str, Source] = {}

    def shard(file_name: str) -> Source:
        if file_name not in shards:
            shard_path = directory / file_name
            if not shard_path.is_file():
                raise AuditError(f"{index}: shard {file_name} is missing")
            shards.clear()  # one shard open at a time
            shards[file_name] = _open_path(shard_path, trust_pickle=False)
        return shards[file_name]

    def load(name: str) -> torch.Tensor:
        return shard(weight_map[name]).load(name)

    names = sorted(weight_map, key=lambda n: (weight_map[n], natural_key(n)))
    kind = "sharded-safetensors" if index.name == SAFETENSORS_INDEX else "sharded-bin"
    return Source(kind, directory, names, load, metadata={"index": index.name})


# --------------------------------------------------------------------------- torch.save / jit


def _zip(path: Path, trust_pickle: bool) -> Source:
    try:
        with zipfile.ZipFile(path) as archive:
            members = archive.namelist()
    except (zipfile.BadZipFile, OSError) as error:
        raise AuditError(f"{path}: corrupt archive ({_short(error)})") from None
    if any("/code/" in m for m in members) and any(m.endswith("constants.pkl") for m in members):
        return _torchscript(path)
    if not any(m.endswith("data.pkl") for m in members):
        raise AuditError(f"{path}: zip archive that is not a torch.save checkpoint")
    _refuse_unsafe_globals(path, trust_pickle)
    loaded = _torch_load(path, mmap=True, trusted=trust_pickle)
    return _from_object(loaded, path, "zip")


def _legacy(path: Path, trust_pickle: bool) -> Source:
    loaded = _torch_load(path, mmap=False, trusted=trust_pickle)
    return _from_object(loaded, path, "legacy")


def _refuse_unsafe_globals(path: Path, trust_pickle: bool) -> None:
    if trust_pickle:
        return
    try:
        unsafe = torch.serialization.get_unsafe_globals_in_checkpoint(str(path))
    except Exception as error:
        raise AuditError(f"{path}: corrupt or truncated checkpoint ({_short(error)})") from None
    if unsafe:
        raise AuditError(
            f"{path}: refusing to unpickle, it needs {', '.join(sorted(unsafe))} "
            "(loading would run code from the file; pass --trust-pickle if you trust it)")


def _torch_load(path: Path, *, mmap: bool, trusted: bool) -> Any:
    import pickle

    try:
        return torch.load(str(path), map_location="cpu", weights_only=not trusted, mmap=mmap)
    except pickle.UnpicklingError as error:
        needed = re.findall(r"GLOBAL (\S+)", str(error))
        if needed:
            raise AuditError(
                f"{path}: refusing to unpickle, it needs {', '.join(sorted(set(needed)))} "
                "(loading would run code from the file; pass --trust-pickle if you trust it)"
            ) from None
        raise AuditError(f"{path}: unreadable checkpoint ({_short(error)})") from None
    except Exception as error:
        raise AuditError(f"{path}: corrupt or truncated checkpoint ({_short(error)})") from None


def _torchscript(path: Path) -> Source:
    try:
        module = torch.jit.load(str(path), map_location="cpu")
    except Exception as error:
        raise AuditError(f"{path}: unreadable TorchScript archive ({_short(error)})") from None
    return module_source(module, "torchscript", path)


def _from_object(loaded: Any, path: Path, kind: str) -> Source:
    if isinstance(loaded, torch.nn.Module):
        return module_source(loaded, "pickle", path)
    if isinstance(loaded, dict):
        nested = [loaded[k] for k in NESTED_KEYS if isinstance(loaded.get(k), torch.nn.Module)]
        if nested:
            return module_source(nested[0], "pickle", path)
    state, key_path = _find_state_dict(loaded)
    if state is None:
        raise AuditError(f"{path}: no tensors found (not a state dict or training checkpoint)")
    prefix = _wrapper_prefix(state)
    names = [k[len(prefix):] for k in state if isinstance(state[k], torch.Tensor)]

    def load(name: str) -> torch.Tensor:
        return state[prefix + name]

    return Source(kind, path, names, load, container=loaded, key_path=key_path, prefix=prefix)


def _find_state_dict(loaded: Any) -> tuple[dict[str, torch.Tensor] | None, tuple[str, ...]]:
    if isinstance(loaded, dict):
        if loaded and all(isinstance(v, torch.Tensor) for v in loaded.values()):
            return loaded, ()
        for key in NESTED_KEYS:
            value = loaded.get(key)
            if isinstance(value, torch.nn.Module):
                return value.state_dict(), (key,)
            if isinstance(value, dict):
                found, below = _find_state_dict(value)
                if found is not None:
                    return found, (key, *below)
        tensors = {k: v for k, v in loaded.items() if isinstance(v, torch.Tensor)}
        if tensors and all(isinstance(k, str) for k in tensors):
            return loaded, ()
    return None, ()


def _wrapper_prefix(state: dict[str, Any]) -> str:
    prefix = ""
    keys = [k for k in state if isinstance(state[k], torch.Tensor)]
    for wrapper in WRAPPER_PREFIXES:
        if keys and all(k.startswith(prefix + wrapper) for k in keys):
            prefix += wrapper
    return prefix


# --------------------------------------------------------------------------- modules


def module_source(module: torch.nn.Module, kind: str, path: Path | None) -> Source:
    parameters = dict(module.named_parameters())
    return Source(kind, path, list(parameters), lambda name: parameters[name], module=module)


def _attach(source: Source, module: torch.nn.Module) -> Source:
    """Load a bare state dict into the factory's architecture (copies: the file stays untouched)."""
    expected = dict(module.named_parameters())
    missing = [name for name in expected if name not in source.names]
    unexpected = [name for name in source.names
                  if name not in expected and name not in dict(module.named_buffers())]
    if missing or unexpected:
        detail = (f"missing {', '.join(missing[:5])}" if missing else
                  f"unexpected {', '.join(unexpected[:5])}")
        raise AuditError(f"{source.path}: state dict does not match the factory's model ({detail})")
    buffers = dict(module.named_buffers())
    with torch.no_grad():
        for name in source.names:
            target = expected.get(name, buffers.get(name))
            tensor = source.load(name)
            if target is None:
                continue
            if tuple(target.shape) != tuple(tensor.shape):
                raise AuditError(f"{source.path}: {name} has shape {tuple(tensor.shape)}, "
                                 f"the factory's model expects {tuple(target.shape)}")
            target.copy_(tensor)
    source.module = module
    source.names = list(expected)
    source.load = lambda name: expected[name]
    return source


def natural_key(name: str) -> list[object]:
    """Sort ``layers.10`` after ``layers.9``."""
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", name)]


def _short(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    return text[0][:200] if text else type(error).__name__
