"""The guard around building a model from a checkpoint directory's config.

A config steers the library that builds it, and a hostile one can name a file to load or a hub
repository to fetch. While ``confined(directory)`` is active the process is offline (the Hugging
Face switches are set), an audit hook refuses any connection, name lookup or new process and any
open of a file outside the directory and the installed Python (interpreter, standard library,
site-packages, ``sys.path``), and whatever the libraries print or log is dropped (config text
would reach the terminal unescaped).

A module imported during the build runs its own top-level code, which the config does not steer:
its opens are let through (torch's compile caches probe the temp directory, filelock reads
``/proc``), and refusing them would leave the module half imported for the rest of the process.
The hook sees what Python opens; native readers (the safetensors reader in Rust) are outside its
sight, which is why the builders also remove the arguments that make a library load weights.
"""

from __future__ import annotations

import contextlib
import io
import logging
import os
import site
import sys
import sysconfig
from pathlib import Path
from types import FrameType
from typing import Any, Iterator

from initaudit.safe_read import within

#: Read by the Hugging Face libraries; a library imported during the build reads them then.
OFFLINE = ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE", "HF_DATASETS_OFFLINE")
_NETWORK = frozenset({"socket.connect", "socket.getaddrinfo", "socket.gethostbyname", "socket.gethostbyname_ex",
                      "socket.gethostbyaddr", "socket.sendto", "socket.sendmsg"})
_PROCESS = frozenset({"subprocess.Popen", "os.system", "os.exec", "os.posix_spawn", "os.spawn"})


class Refused(PermissionError):
    """What the guard raises inside the build; ``str()`` is the one-line reason."""


class Guard:
    """The active confinement: where files may be opened, and what was refused."""

    def __init__(self, directory: Path) -> None:
        self.roots = (os.path.realpath(directory), *_installed_roots())
        self.refused: list[str] = []
        # imports already under way when the build starts (an audit run at import time) admit nothing
        self.outer_imports = {id(frame) for frame in _module_frames(sys._getframe())}

    def check(self, event: str, args: tuple[Any, ...]) -> None:
        if event == "open":
            path = args[0]
            if isinstance(path, int):
                return  # a descriptor already open
            resolved = os.path.realpath(os.fsdecode(path))
            if not any(within(resolved, root) for root in self.roots) and not self._importing():
                self._refuse(f"refused to read {resolved}: outside the checkpoint directory")
        elif event in _NETWORK:
            self._refuse(f"refused to connect to {_address(event, args)}: the build is offline")
        elif event in _PROCESS:
            self._refuse("refused to start a process: the build runs none")

    def _importing(self) -> bool:
        return any(id(frame) not in self.outer_imports for frame in _module_frames(sys._getframe()))

    def _refuse(self, reason: str) -> None:
        self.refused.append(reason)
        raise Refused(reason)


_active: Guard | None = None
_hooked = False


def _audit(event: str, args: tuple[Any, ...]) -> None:
    guard = _active
    if guard is not None:
        guard.check(event, args)


@contextlib.contextmanager
def confined(directory: Path) -> Iterator[Guard]:
    """Offline, no file outside ``directory`` and the installed Python, no output; yields the
    guard, whose ``refused`` lists what the build attempted (a library may swallow the error)."""
    global _active, _hooked
    if not _hooked:
        sys.addaudithook(_audit)  # a hook cannot be removed: it stays, inert while no guard is active
        _hooked = True
    guard, previous = Guard(directory), _active
    with _offline(), _quiet():
        _active = guard
        try:
            yield guard
        finally:
            _active = previous


@contextlib.contextmanager
def _offline() -> Iterator[None]:
    saved = {name: os.environ.get(name) for name in OFFLINE}
    os.environ.update(dict.fromkeys(OFFLINE, "1"))
    # huggingface_hub reads the switch once, at import; an imported copy is switched directly.
    hub = sys.modules.get("huggingface_hub.constants")
    was = getattr(hub, "HF_HUB_OFFLINE", None)
    if hub is not None:
        hub.HF_HUB_OFFLINE = True
    try:
        yield
    finally:
        if hub is not None:
            hub.HF_HUB_OFFLINE = was
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    disabled = logging.root.manager.disable
    logging.disable(logging.CRITICAL)
    try:
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
            yield
    finally:
        logging.disable(disabled)


def _installed_roots() -> list[str]:
    """The interpreter's prefixes, the standard library, site-packages and ``sys.path``; not the
    working directory, which ``python -m`` and a relative ``sys.path`` entry would otherwise admit."""
    paths = [sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix,
             *(sysconfig.get_paths()[key] for key in ("stdlib", "platstdlib", "purelib", "platlib")),
             *site.getsitepackages(), site.getusersitepackages(), *sys.path]
    roots = {os.path.realpath(path) for path in paths if isinstance(path, str) and os.path.isabs(path)}
    with contextlib.suppress(OSError):  # a working directory since removed
        roots.discard(os.path.realpath(os.getcwd()))
    return sorted(roots)


def _module_frames(frame: FrameType | None) -> Iterator[FrameType]:
    """The frames on the stack from ``frame`` out that execute a module being imported."""
    while frame is not None:
        if frame.f_code.co_name == "exec_module" and frame.f_globals.get("__name__") == "importlib._bootstrap_external":
            yield frame
        frame = frame.f_back


def _address(event: str, args: tuple[Any, ...]) -> str:
    if event == "socket.getaddrinfo":
        return f"{args[0]}:{args[1]}"
    if event.startswith("socket.gethostby"):
        return str(args[0])
    address = args[1]  # connect, sendto, sendmsg: (socket, address)
    return ":".join(map(str, address[:2])) if isinstance(address, tuple) else str(address)
