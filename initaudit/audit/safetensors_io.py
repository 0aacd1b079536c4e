"""Write the safetensors format with torch alone (``safetensors.torch.save_file`` needs numpy)."""

from __future__ import annotations

import json
from pathlib import Path

import torch

DTYPES = {
    torch.float64: "F64", torch.float32: "F32", torch.float16: "F16", torch.bfloat16: "BF16",
    torch.int64: "I64", torch.int32: "I32", torch.int16: "I16", torch.int8: "I8",
    torch.uint8: "U8", torch.bool: "BOOL",
    torch.float8_e4m3fn: "F8_E4M3", torch.float8_e5m2: "F8_E5M2",
}
ALIGNMENT = 8


def save_safetensors(tensors: dict[str, torch.Tensor], path: str | Path,
                     metadata: dict[str, str] | None = None) -> None:
    header: dict[str, object] = {}
    if metadata:
        header["__metadata__"] = dict(metadata)
    offset = 0
    for name, tensor in tensors.items():
        size = tensor.numel() * tensor.element_size()
        header[name] = {"dtype": DTYPES[tensor.dtype], "shape": list(tensor.shape),
                        "data_offsets": [offset, offset + size]}
        offset += size
    encoded = json.dumps(header, separators=(",", ":")).encode()
    encoded += b" " * (-len(encoded) % ALIGNMENT)
    start = 8 + len(encoded)
    with open(path, "wb") as handle:
        handle.write(len(encoded).to_bytes(8, "little"))
        handle.write(encoded)
        handle.truncate(start + offset)
    if offset == 0:
        return
    # Copy tensor bytes through a shared file mapping: no numpy, one tensor at a time.
    mapped = torch.from_file(str(path), shared=True, size=start + offset, dtype=torch.uint8)
    for name, tensor in tensors.items():
        begin, end = header[name]["data_offsets"]  # type: ignore[index]
        if end > begin:
            raw = tensor.detach().contiguous().reshape(-1).view(torch.uint8)
            mapped[start + begin:start + end].copy_(raw)
    del mapped
