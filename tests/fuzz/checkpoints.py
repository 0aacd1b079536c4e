"""Checkpoints built with torch during the run, and hostile variations of them.

A checkpoint is a ``dict`` of relative path -> bytes (one file, or a sharded directory); the
path passed to ``initaudit model`` is the case's ``target``. Payloads that run code create
``SENTINEL`` in the working directory of the process that loads them.
"""

from __future__ import annotations

import io
import json
import pickle
import random
import struct
import tempfile
import warnings
import zipfile
from pathlib import Path
from typing import Any

from tests.fuzz.sources import SENTINEL

Files = dict[str, bytes]
#: Bases whose size on disk says nothing of the work a naive reader would do.
BOMBS = ("stride0", "aliases")


def build_bases(seed: int) -> dict[str, tuple[Files, str]]:
    """name -> (files, target): every format ``initaudit model`` reads, from one small MLP."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import torch

    torch.manual_seed(seed)
    model = torch.nn.Sequential(torch.nn.Linear(16, 32), torch.nn.ReLU(), torch.nn.Linear(32, 32),
                                torch.nn.ReLU(), torch.nn.Linear(32, 4))
    for layer in (model[0], model[2]):
        torch.nn.init.xavier_uniform_(layer.weight)  # before ReLU: findings, so --fix writes
    torch.nn.init.zeros_(model[4].weight)
    state = {name: tensor.detach().clone() for name, tensor in model.state_dict().items()}
    first = {k: v for k, v in state.items() if k.startswith("0.")}
    rest = {k: v for k, v in state.items() if not k.startswith("0.")}

    def saved(obj: Any, **options: Any) -> bytes:
        buffer = io.BytesIO()
        torch.save(obj, buffer, **options)
        return buffer.getvalue()

    def index(names: dict[str, str]) -> bytes:
        return json.dumps({"metadata": {"total_size": 0}, "weight_map": names}, indent=2).encode()

    shard_names = ("model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors")
    bin_names = ("pytorch_model-00001-of-00002.bin", "pytorch_model-00002-of-00002.bin")
    return {
        "safetensors": ({"model.safetensors": safetensors_bytes(state)}, "model.safetensors"),
        "zip": ({"model.pt": saved(state)}, "model.pt"),
        "nested": ({"ckpt.pt": saved({"epoch": 3, "state_dict": state, "optimizer": {}})}, "ckpt.pt"),
        "legacy": ({"legacy.pt": saved(state, _use_new_zipfile_serialization=False)}, "legacy.pt"),
        "torchscript": ({"scripted.pt": _torchscript(torch, model)}, "scripted.pt"),
        "sharded": ({
            shard_names[0]: safetensors_bytes(first), shard_names[1]: safetensors_bytes(rest),
            "model.safetensors.index.json": index(
                {k: shard_names[0] if k in first else shard_names[1] for k in state}),
        }, "."),
        "sharded-bin": ({
            bin_names[0]: saved(first), bin_names[1]: saved(rest),
            "pytorch_model.bin.index.json": index({k: bin_names[0] if k in first else bin_names[1] for k in state}),
        }, "."),
        "setstate-torchscript": ({"hostile.pt": _setstate_torchscript(torch)}, "hostile.pt"),
        # Resource bombs: 2**34 values over one stored float; thousands of names for one storage.
        "stride0": ({"stride0.pt": saved({"fc.weight": torch.zeros(1).as_strided((2**17, 2**17), (0, 0))})},
                    "stride0.pt"),
        "aliases": ({"aliases.pt": saved(dict.fromkeys((f"layers.{i}.weight" for i in range(3000)),
                                                        state["2.weight"]))}, "aliases.pt"),
    }


def safetensors_bytes(tensors: dict[str, Any]) -> bytes:
    """The .safetensors encoding of float32 tensors (written here: the library's needs numpy)."""
    header: dict[str, Any] = {}
    payload = bytearray()
    for name, tensor in tensors.items():
        raw = bytes(tensor.contiguous().view(-1).view(__import__("torch").uint8).tolist())
        header[name] = {"dtype": "F32", "shape": list(tensor.shape),
                        "data_offsets": [len(payload), len(payload) + len(raw)]}
        payload += raw
    text = json.dumps(header).encode()
    text += b" " * (-len(text) % 8)
    return struct.pack("<Q", len(text)) + text + bytes(payload)


def _torchscript(torch: Any, model: Any) -> bytes:
    buffer = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        torch.jit.save(torch.jit.script(model), buffer)
    return buffer.getvalue()


def _setstate_torchscript(torch: Any) -> bytes:
    """A TorchScript archive whose ``__setstate__`` creates SENTINEL (relative: the loader's cwd)."""
    source = f'''
import torch
from typing import Tuple


class Marked(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = torch.nn.Linear(4, 4)
        self.mark = torch.zeros(1)

    @torch.jit.export
    def __getstate__(self) -> Tuple[torch.Tensor, bool]:
        return (self.mark, self.training)

    @torch.jit.export
    def __setstate__(self, state: Tuple[torch.Tensor, bool]) -> None:
        self.mark = torch.from_file("{SENTINEL}", True, 1)
        self.training = state[1]

    def forward(self, x):
        return self.fc(x) + self.mark
'''
    with tempfile.TemporaryDirectory() as directory:  # TorchScript needs the class in a real file
        module_path = Path(directory) / "fuzz_marked.py"
        module_path.write_text(source)
        namespace: dict[str, Any] = {}
        exec(compile(source, str(module_path), "exec"), namespace)
        return _torchscript(torch, namespace["Marked"]())


# ----------------------------------------------------------------------------- malicious pickles

PAYLOADS: list[tuple[str, str, tuple[Any, ...]]] = [
    ("os", "system", (f"touch {SENTINEL}",)),
    ("posix", "system", (f"touch {SENTINEL}",)),
    ("builtins", "exec", (f"open({SENTINEL!r}, 'w').close()",)),
    ("builtins", "eval", (f"open({SENTINEL!r}, 'w').close()",)),
    ("builtins", "open", (SENTINEL, "w")),
    ("subprocess", "call", (["touch", SENTINEL],)),
    ("subprocess", "Popen", (["touch", SENTINEL],)),
]


def malicious_pickle(rng: random.Random, protocol: int, wrap_in_dict: bool) -> bytes:
    """A pickle that calls one of PAYLOADS when loaded, as a state dict value or on its own."""
    module, name, arguments = rng.choice(PAYLOADS)
    body = _reduce_opcodes(module, name, arguments, protocol)
    if not wrap_in_dict:
        return body
    # {"fc.weight": <payload>}: the payload where a tensor should be.
    head = (b"\x80" + bytes([protocol]) if protocol >= 2 else b"") + b"}" + _string(protocol, "fc.weight")
    return head + body[2 if protocol >= 2 else 0:-1] + b"s."


def _string(protocol: int, text: str) -> bytes:
    if protocol == 0:
        return b"V" + text.encode("raw_unicode_escape") + b"\n"
    encoded = text.encode()
    return b"X" + struct.pack("<I", len(encoded)) + encoded


def _reduce_opcodes(module: str, name: str, arguments: tuple[Any, ...], protocol: int) -> bytes:
    """module.name(*arguments) as REDUCE, with GLOBAL or STACK_GLOBAL as the protocol allows."""
    arguments_pickle = pickle.dumps(arguments, protocol=protocol)
    start = 2 if protocol >= 2 else 0
    if protocol >= 4:
        frame_end = arguments_pickle.find(b"\x95")  # FRAME: skip its 9 bytes
        if frame_end == 2:
            start = 11
    arguments_opcodes = arguments_pickle[start:-1]  # without PROTO/FRAME and STOP
    if protocol >= 4:
        target = _string(protocol, module) + _string(protocol, name) + b"\x93"  # STACK_GLOBAL
    else:
        target = b"c" + module.encode() + b"\n" + name.encode() + b"\n"  # GLOBAL
    header = b"\x80" + bytes([protocol]) if protocol >= 2 else b""
    return header + target + arguments_opcodes + b"R."


def replace_member(archive: bytes, suffix: str, data: bytes, *, deflated: bool = False) -> bytes:
    """The zip ``archive`` with the member ending in ``suffix`` replaced by ``data`` (compressed
    when ``deflated``: torch itself stores every member raw)."""
    source = zipfile.ZipFile(io.BytesIO(archive))
    output = io.BytesIO()
    with zipfile.ZipFile(output, "w", zipfile.ZIP_STORED) as target:
        for info in source.infolist():
            if info.filename.endswith(suffix):
                target.writestr(info.filename, data, zipfile.ZIP_DEFLATED if deflated else zipfile.ZIP_STORED)
            else:
                target.writestr(info, source.read(info))
    return output.getvalue()


# ----------------------------------------------------------------------------- mutations

def _flip(rng: random.Random, data: bytes) -> bytes:
    buffer = bytearray(data or b"\0")
    for _ in range(rng.randint(1, 16)):
        buffer[rng.randrange(len(buffer))] ^= 1 << rng.randrange(8)
    return bytes(buffer)


def _deep_json(depth: int) -> str:
    return "[" * depth + "]" * depth


def safetensors_header(rng: random.Random, data: bytes) -> bytes:
    """Corrupt the JSON header of a .safetensors file (or its 8-byte length)."""
    size = int.from_bytes(data[:8], "little")
    header = json.loads(data[8:8 + size])
    body = data[8 + size:]
    names = [name for name in header if name != "__metadata__"]
    entry = header[rng.choice(names)]
    choice = rng.randrange(12)
    if choice == 0:
        entry["data_offsets"] = rng.choice(([0, 2**62], [0, 2**64 + 8], [-8, 64], [64, 0], [0.5, 8],
                                            ["0", "8"], [0], None, [len(body), len(body) + 4096]))
    elif choice == 1:  # overlap another tensor
        other = header[rng.choice(names)]
        entry["data_offsets"] = list(other["data_offsets"])
    elif choice == 2:
        entry["dtype"] = rng.choice(("F99", "BOOL", "F8_E4M3", "I4", "", 7, None, "F16", "C64"))
    elif choice == 3:
        entry["shape"] = rng.choice(([-1], [2**40, 2**40], [], [1] * 100, [0], "16", [1.5], [2**63]))
    elif choice == 4:
        header = rng.choice(([], "x", 1, None, [header]))
    elif choice == 5:
        text = '{"__metadata__": ' + _deep_json(rng.choice((100, 10_000, 200_000))) + "}"
        return struct.pack("<Q", len(text)) + text.encode() + body
    elif choice == 6:
        header["__metadata__"] = rng.choice(({"format": 1}, {"a": {"b": "c"}}, [], "x", {"": "\x00"}))
    elif choice == 7:
        return struct.pack("<Q", rng.choice((2**63, 2**64 - 1, len(data), len(data) - 9, 0, 1))) + data[8:]
    elif choice == 8:
        header[rng.choice(("../escape", "", "\x1b[31mred", "a" * 100_000, "fc.weight\n"))] = entry
    elif choice == 9:
        header[rng.choice(names)] = rng.choice(([], "x", None, {"dtype": "F32"}))
    elif choice == 10:
        for name in names:  # many names all pointing at the same bytes
            header[name]["data_offsets"] = [0, len(body)]
    else:
        text = json.dumps(header) + " " * rng.choice((7, 10**6))
        return struct.pack("<Q", len(text)) + text.encode() + body
    text = json.dumps(header)
    return struct.pack("<Q", len(text)) + text.encode() + body


def shard_index(rng: random.Random, files: Files, index_name: str, outside: str) -> None:
    """Point the index at places it should not, or give its fields the wrong types."""
    index = json.loads(files[index_name])
    weight_map = index["weight_map"]
    name = rng.choice(sorted(weight_map))
    choice = rng.randrange(8)
    if choice == 0:
        weight_map[name] = rng.choice((outside, "../" + Path(outside).name, "../../../../etc/passwd",
                                       "/etc/passwd", "/dev/zero", "/proc/self/mem"))
    elif choice == 1:
        weight_map[name] = rng.choice((index_name, ".", "", "./", "model.safetensors.index.json"))
    elif choice == 2:
        weight_map[name] = rng.choice((None, 3, [], {}, True))
    elif choice == 3:
        index["weight_map"] = rng.choice(([], "x", None, 7, [[name, "x"]]))
    elif choice == 4:
        index = rng.choice(([], "x", None, {}))
    elif choice == 5:
        weight_map[f"extra.{rng.randrange(99)}"] = "missing-00003.safetensors"
    elif choice == 6:
        for key in list(weight_map):  # every name into a shard that holds only some of them
            weight_map[key] = weight_map[name]
    else:
        files[index_name] = ("[" * 100_000 + "]" * 100_000).encode()
        return
    files[index_name] = json.dumps(index).encode()


def mutate_checkpoint(rng: random.Random, bases: dict[str, tuple[Files, str]]) -> tuple[Files, str, list[str]]:
    """A hostile checkpoint: (files, target, what was done)."""
    choice = rng.randrange(10)
    if choice == 0:  # raw malicious pickle, any protocol
        protocol = rng.randint(0, 5)
        wrapped = rng.random() < 0.5
        name = rng.choice(("evil.pt", "evil.bin", "evil.pkl", "pytorch_model.bin"))
        return {name: malicious_pickle(rng, protocol, wrapped)}, name, [f"raw pickle p{protocol} dict={wrapped}"]
    if choice == 1:  # malicious data.pkl inside a torch.save zip
        protocol = rng.randint(0, 5)
        files, target = bases[rng.choice(("zip", "nested"))]
        archive = replace_member(files[target], "data.pkl", malicious_pickle(rng, protocol, rng.random() < 0.5))
        return {target: archive}, target, [f"zip data.pkl p{protocol}"]
    if choice == 2:
        files, target = bases["setstate-torchscript"]
        return dict(files), target, ["torchscript __setstate__"]
    if choice == 3:  # a malicious shard behind a shard index
        files, target = dict(bases["sharded-bin"][0]), "."
        shard = sorted(name for name in files if name.endswith(".bin"))[0]
        files[shard] = malicious_pickle(rng, rng.randint(2, 5), True)
        return files, target, ["sharded-bin malicious shard"]
    if choice == 8 and rng.random() < 0.5:
        name = rng.choice(BOMBS)
        return dict(bases[name][0]), bases[name][1], [f"{name} bomb"]
    if choice == 9 and rng.random() < 0.5:  # a small archive whose record inflates to 128 MiB
        files, target = bases[rng.choice(("zip", "torchscript"))]
        record = rng.choice(("data.pkl", "data/0", "constants.pkl"))
        archive = replace_member(files[target], record, b"\0" * (300 << 20), deflated=True)
        return {target: archive}, target, [f"{target} {record} inflates"]
    base = rng.choice(sorted(name for name in bases if name != "setstate-torchscript" and name not in BOMBS))
    files, target = dict(bases[base][0]), bases[base][1]
    if choice == 4 and base in ("sharded", "sharded-bin"):
        index_name = next(name for name in files if name.endswith(".index.json"))
        files["../outside/stray.safetensors"] = bases["safetensors"][0]["model.safetensors"]
        shard_index(rng, files, index_name, "/OUTSIDE/stray.safetensors")
        return files, target, [f"{base} index"]
    victim = target if target != "." else rng.choice(sorted(files))
    data = files[victim]
    if choice in (4, 5) and victim.endswith(".safetensors"):
        files[victim] = safetensors_header(rng, data)
        return files, target, [f"{base} safetensors header"]
    if choice == 6:
        files[victim] = data[:rng.randint(0, len(data) - 1)]
        return files, target, [f"{base} truncated"]
    if choice == 7 and victim.endswith((".pt", ".bin")) and data[:2] == b"PK":
        protocol = rng.randint(2, 5)
        files[victim] = replace_member(data, rng.choice(("data.pkl", "version", "byteorder", "constants.pkl")),
                                       malicious_pickle(rng, protocol, False) if rng.random() < 0.5
                                       else _flip(rng, b"garbage" * 8))
        return files, target, [f"{base} member replaced"]
    files[victim] = _flip(rng, data)
    return files, target, [f"{base} bytes flipped"]
