"""Which globals a pickle names, found by reading its opcodes (nothing is unpickled).

Used to say what a refused legacy or raw pickle needs when torch's restricted loader rejects it
without naming it (protocols 4 and 5 frame their opcodes, which that loader does not read).
"""

from __future__ import annotations

import pickletools
from typing import BinaryIO

#: A legacy ``torch.save`` file is several pickles in a row (magic, version, system info, data).
MAX_PICKLES = 4
_STRING_OPS = {"SHORT_BINUNICODE", "BINUNICODE", "BINUNICODE8", "UNICODE", "STRING",
               "BINSTRING", "SHORT_BINSTRING"}


def pickle_globals(stream: BinaryIO) -> set[str]:
    """``module.name`` of every GLOBAL, STACK_GLOBAL and INST in the leading pickles of ``stream``."""
    found: set[str] = set()
    for _ in range(MAX_PICKLES):
        try:
            _scan_one(stream, found)
        except Exception:  # the rest is raw storage bytes or damage: what was found stands
            break
    return found


def _scan_one(stream: BinaryIO, found: set[str]) -> None:
    memo: dict[int, object] = {}
    recent: list[object] = []  # values pushed lately, enough to resolve STACK_GLOBAL
    for opcode, arg, _ in pickletools.genops(stream):
        name = opcode.name
        if name in ("GLOBAL", "INST"):
            found.add(str(arg).replace(" ", "."))
        elif name == "STACK_GLOBAL":
            if len(recent) >= 2 and all(isinstance(v, str) for v in recent[-2:]):
                found.add(f"{recent[-2]}.{recent[-1]}")
            else:
                found.add("(unresolved global)")
        if name in _STRING_OPS:
            recent.append(arg.decode("latin-1") if isinstance(arg, bytes) else arg)
        elif name == "MEMOIZE" and recent:
            memo[len(memo)] = recent[-1]
        elif name in ("PUT", "BINPUT", "LONG_BINPUT") and recent:
            memo[int(arg)] = recent[-1]
        elif name in ("GET", "BINGET", "LONG_BINGET"):
            recent.append(memo.get(int(arg)))
        elif name not in ("FRAME", "PROTO"):
            recent.append(None)
        del recent[:-2]
