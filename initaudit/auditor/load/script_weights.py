"""The weights of a TorchScript archive, read without running anything from it.

``torch.jit.load`` runs the archive's code (a module's ``__setstate__`` is TorchScript and may
write files, loop or allocate). The tensors, though, sit in ``data.pkl`` as plain records: this
unpickler maps every ``__torch__.*`` class to an inert record that keeps its pickled state, maps
the tensor-rebuild call to a lazy view of an archive data record, and refuses any other global.
Nothing is imported or called from the archive; each tensor is read when asked for.
"""

from __future__ import annotations

import pickle
import re
import weakref
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

import torch

from initaudit.auditor.errors import AuditError

#: Nesting deeper than this in the pickled module tree is not a real model.
MAX_DEPTH = 200
#: The legacy storage classes the pickler names, by the dtype they stand for.
_STORAGE_DTYPES = {
    "FloatStorage": torch.float32, "DoubleStorage": torch.float64, "HalfStorage": torch.float16,
    "BFloat16Storage": torch.bfloat16, "LongStorage": torch.int64, "IntStorage": torch.int32,
    "ShortStorage": torch.int16, "CharStorage": torch.int8, "ByteStorage": torch.uint8,
    "BoolStorage": torch.bool, "ComplexFloatStorage": torch.complex64,
    "ComplexDoubleStorage": torch.complex128,
}
_RECORD_KEY = re.compile(r"^\w+$")


class ScriptRecord:
    """An inert stand-in for a pickled TorchScript object: its type name and state."""

    type_name = ""
    state: Any = None  # unpickling creates records without calling __init__

    def __setstate__(self, state: Any) -> None:
        self.state = state


@dataclass(frozen=True)
class StorageRef:
    #: The archive record below the root: ``data/0`` for a module's tensors, ``constants/0`` for
    #: the graph's constants (where a frozen module keeps its weights).
    record: str
    dtype: torch.dtype
    numel: int


@dataclass(frozen=True)
class LazyTensor:
    storage: StorageRef
    offset: int
    size: tuple[int, ...]
    stride: tuple[int, ...]


def _lazy_tensor(storage: Any, offset: Any, size: Any, stride: Any, *_: Any) -> LazyTensor:
    if not isinstance(storage, StorageRef) or not _ints(offset, *size, *stride):
        raise AuditError("malformed tensor record")
    if offset < 0 or len(size) != len(stride) or any(v < 0 for v in (*size, *stride)):
        raise AuditError("tensor record with negative sizes or a bad stride")
    extent = offset + sum((s - 1) * st for s, st in zip(size, stride)) + 1
    if all(size) and extent > storage.numel:
        raise AuditError("tensor record reaches past its storage")
    return LazyTensor(storage, offset, tuple(size), tuple(stride))


def _ints(*values: Any) -> bool:
    return all(type(v) is int for v in values)


def _identity(value: Any, *_: Any) -> Any:
    return value


#: Helpers the TorchScript pickler names for typed lists and tags; all keep their first argument.
_LIST_HELPERS = {"build_intlist", "build_doublelist", "build_boollist", "build_tensorlist",
                 "build_list", "restore_type_tag"}


class _Unpickler(pickle.Unpickler):
    def __init__(self, file: Any, records: str) -> None:
        super().__init__(file)
        self._types: dict[str, type] = {}
        self._records = records

    def find_class(self, module: str, name: str) -> Any:
        qualified = f"{module}.{name}"
        if module == "__torch__" or module.startswith("__torch__."):
            if qualified not in self._types:
                self._types[qualified] = type("ScriptRecord", (ScriptRecord,), {"type_name": qualified})
            return self._types[qualified]
        if qualified == "torch._utils._rebuild_tensor_v2":
            return _lazy_tensor
        if qualified == "collections.OrderedDict":
            return dict
        if module == "torch.jit._pickle" and name in _LIST_HELPERS:
            return _identity
        if module == "torch" and name in _STORAGE_DTYPES:
            return _STORAGE_DTYPES[name]
        raise AuditError(f"unexpected {qualified} in the archive's data.pkl")

    def persistent_load(self, pid: Any) -> StorageRef:
        if (not isinstance(pid, tuple) or len(pid) != 5 or pid[0] != "storage"
                or not isinstance(pid[1], torch.dtype) or not isinstance(pid[2], str)
                or not _RECORD_KEY.match(pid[2]) or type(pid[4]) is not int or pid[4] < 0):
            raise AuditError("malformed storage record in the archive's data.pkl")
        return StorageRef(f"{self._records}/{pid[2]}", pid[1], pid[4])


class ScriptWeights:
    """Tensor names and lazy tensors of one TorchScript archive."""

    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            self._archive = zipfile.ZipFile(path)
            members = self._archive.namelist()
        except (zipfile.BadZipFile, OSError) as error:
            raise AuditError(f"{path}: corrupt archive ({error})") from None
        roots = [m[: -len("/constants.pkl")] for m in members if m.endswith("/constants.pkl")]
        if len(roots) != 1 or f"{roots[0]}/data.pkl" not in members:
            raise AuditError(f"{path}: TorchScript archive without one data.pkl")
        self._root = roots[0]
        #: Storages still in use, so that tied tensors share memory as they do in the module.
        self._storages: weakref.WeakValueDictionary[str, torch.Tensor] = weakref.WeakValueDictionary()
        #: Modules that save their own state (``__getstate__``): what it leaves out is not in the archive.
        self.own_states: list[str] = []
        self.tensors: dict[str, LazyTensor] = dict(self._unpickled("data", ""))
        self.tensors.update(self._unpickled("constants", "constants."))

    def _unpickled(self, pickled: str, prefix: str) -> list[tuple[str, LazyTensor]]:
        """The tensors of ``pickled``.pkl: the module tree's, or the graph's constants (a frozen
        module's weights are constants)."""
        try:
            with self._archive.open(f"{self._root}/{pickled}.pkl") as handle:
                top = _Unpickler(handle, pickled).load()
        except AuditError as error:
            raise AuditError(f"{self.path}: {error}") from None
        except Exception as error:  # a damaged pickle raises anything from EOFError to ValueError
            raise AuditError(f"{self.path}: unreadable TorchScript {pickled}.pkl ({type(error).__name__})") from None
        try:
            return list(_walk(top, prefix, 0, set(), self.own_states))
        except AuditError as error:
            raise AuditError(f"{self.path}: {error}") from None

    def load(self, name: str) -> torch.Tensor:
        lazy = self.tensors[name]
        flat = self._storages.get(lazy.storage.record)
        if flat is None:
            flat = self._read(lazy.storage)
            self._storages[lazy.storage.record] = flat
        return flat.as_strided(lazy.size, lazy.stride, lazy.offset)

    def _read(self, storage: StorageRef) -> torch.Tensor:
        record = f"{self._root}/{storage.record}"
        expected = storage.numel * torch.empty((), dtype=storage.dtype).element_size()
        try:
            info = self._archive.getinfo(record)
            if info.file_size != expected:
                raise AuditError(f"{self.path}: record {storage.record} has {info.file_size} bytes, "
                                 f"expected {expected}")
            raw = bytearray(self._archive.read(record))
        except KeyError:
            raise AuditError(f"{self.path}: record {storage.record} is missing") from None
        except (zipfile.BadZipFile, OSError, EOFError) as error:
            raise AuditError(f"{self.path}: corrupt record {storage.record} ({error})") from None
        if not raw:
            return torch.empty(0, dtype=storage.dtype)
        return torch.frombuffer(raw, dtype=torch.uint8).view(storage.dtype)


def _walk(node: Any, prefix: str, depth: int, seen: set[int],
          own_states: list[str]) -> Iterator[tuple[str, LazyTensor]]:
    """(dotted name, tensor) of every tensor reachable through records, dicts, tuples, lists;
    a module whose state is not its attribute dict (a ``__getstate__`` of its own) is added to
    ``own_states``."""
    if depth > MAX_DEPTH:
        raise AuditError("module tree nested too deeply")
    if id(node) in seen:  # pickles can hold cycles
        return
    seen.add(id(node))
    if isinstance(node, ScriptRecord):
        if not isinstance(node.state, dict):
            own_states.append(f"{prefix.rstrip('.') or '(root)'} ({node.type_name.rsplit('.', 1)[-1]})")
        node = node.state
    if isinstance(node, dict):
        items: list[tuple[Any, Any]] = list(node.items())
    elif isinstance(node, (tuple, list)):
        items = list(enumerate(node))
    else:
        return
    for key, value in items:
        name = f"{prefix}{key}"
        if isinstance(value, LazyTensor):
            yield name, value
        elif isinstance(value, (ScriptRecord, dict, tuple, list)):
            yield from _walk(value, f"{name}.", depth + 1, seen, own_states)
