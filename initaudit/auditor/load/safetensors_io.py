"""Write the safetensors format with torch alone (``safetensors.torch.save_file`` needs numpy),
streaming: the header is computed from shapes and dtypes, then tensors are written one by one;
read it as views of a memory map, so that only the bytes a measurement touches are read."""

from __future__ import annotations

import json
import math
import mmap
import os
from pathlib import Path
from typing import Callable

import torch

from initaudit.auditor.errors import AuditError

DTYPES = {
    torch.float64: "F64", torch.float32: "F32", torch.float16: "F16", torch.bfloat16: "BF16",
    torch.int64: "I64", torch.int32: "I32", torch.int16: "I16", torch.int8: "I8",
    torch.uint8: "U8", torch.bool: "BOOL",
    torch.float8_e4m3fn: "F8_E4M3", torch.float8_e5m2: "F8_E5M2",
}
DTYPE_OF = {code: dtype for dtype, code in DTYPES.items()}
ALIGNMENT = 8


#: (name, shape, dtype) of each tensor, in file order.
Entry = tuple[str, tuple[int, ...], torch.dtype]


def save_safetensors(tensors: dict[str, torch.Tensor], path: str | Path,
                     metadata: dict[str, str] | None = None) -> None:
    entries = [(name, tuple(t.shape), t.dtype) for name, t in tensors.items()]
    write_safetensors(entries, tensors.__getitem__, path, metadata)


def write_safetensors(entries: list[Entry], produce: Callable[[str], torch.Tensor], path: str | Path,
                      metadata: dict[str, str] | None = None) -> None:
    """Write the header from ``entries``, then each tensor as ``produce(name)`` returns it, one at a time."""
    header: dict[str, object] = {}
    if metadata:
        header["__metadata__"] = dict(metadata)
    offset = 0
    for name, shape, dtype in entries:
        if dtype not in DTYPES:
            raise AuditError(f"{name}: safetensors cannot hold {str(dtype).removeprefix('torch.')} tensors")
        size = math.prod(shape) * torch.empty((), dtype=dtype).element_size()
        header[name] = {"dtype": DTYPES[dtype], "shape": list(shape), "data_offsets": [offset, offset + size]}
        offset += size
    encoded = json.dumps(header, separators=(",", ":")).encode()
    encoded += b" " * (-len(encoded) % ALIGNMENT)
    start = 8 + len(encoded)
    with open(path, "wb") as handle:
        handle.write(len(encoded).to_bytes(8, "little"))
        handle.write(encoded)
        # Blocks reserved now: a full disk is an OSError here, not a SIGBUS while the map is written.
        os.posix_fallocate(handle.fileno(), 0, start + offset)
    if offset == 0:
        return
    # Copy tensor bytes through a shared file mapping: no numpy, one tensor at a time.
    mapped = torch.from_file(str(path), shared=True, size=start + offset, dtype=torch.uint8)
    for name, shape, dtype in entries:
        begin, end = header[name]["data_offsets"]  # type: ignore[index]
        tensor = produce(name)
        if tensor.is_meta or tensor.layout is not torch.strided:
            raise AuditError(f"{name}: safetensors holds dense tensors only")
        if tuple(tensor.shape) != shape or tensor.dtype != dtype:
            raise AuditError(f"{name}: changed shape or dtype while being written")
        if end > begin:
            raw = tensor.detach().contiguous().reshape(-1).view(torch.uint8)
            mapped[start + begin:start + end].copy_(raw)
        del tensor
    del mapped


class MappedSafetensors:
    """The tensors of a .safetensors file (already validated by ``safe_open``) as views of one
    private memory map: nothing is copied, a tensor's pages are read when its values are, and
    writes to a view stay in this process."""

    def __init__(self, path: str | Path) -> None:
        with open(path, "rb") as handle:
            self.map = mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_COPY)
        size = int.from_bytes(self.map[:8], "little")
        self.start = 8 + size
        header = json.loads(self.map[8:self.start])
        self.entries = {name: entry for name, entry in header.items() if name != "__metadata__"}

    def tensor(self, name: str) -> torch.Tensor:
        entry = self.entries[name]
        dtype = DTYPE_OF[entry["dtype"]]
        begin, end = entry["data_offsets"]
        if end == begin:
            return torch.empty(entry["shape"], dtype=dtype)
        raw = torch.frombuffer(self.map, dtype=torch.uint8, count=end - begin, offset=self.start + begin)
        return raw.view(dtype).reshape(entry["shape"])
