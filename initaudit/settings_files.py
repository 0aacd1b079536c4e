"""Where settings come from: the nearest settings file, the files it extends, and the
``--config`` arguments of the command line. Each source is a :class:`Layer`, a raw table;
:mod:`initaudit.config` validates and combines them."""

from __future__ import annotations

import os
import stat
import sys
from dataclasses import dataclass
from pathlib import Path

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

#: Looked for in each directory from the checked path upwards, in this order (as ruff does): the
#: first directory holding one of them decides, and pyproject.toml counts only with [tool.initaudit].
CONFIG_NAMES = (".initaudit.toml", "initaudit.toml", "pyproject.toml")
#: Far above any real pyproject.toml; a bound on what a settings file can make a run read.
MAX_SETTINGS_FILE = 8 << 20


class ConfigError(Exception):
    """A configuration file or option is invalid; the message is shown as is."""


@dataclass(frozen=True)
class Layer:
    """One source of settings, its keys as written."""

    #: How error messages name it: the file, or the ``--config`` argument.
    origin: str
    #: The directory its relative path patterns start from (resolved).
    directory: Path
    table: dict
    #: The settings file, None for a ``--config KEY=VALUE`` argument.
    path: Path | None = None

    @property
    def section(self) -> str:
        """Where its keys stand, for error messages."""
        return " in [tool.initaudit]" if self.path is not None and self.path.name == "pyproject.toml" else ""


def find_config(start: Path) -> Path | None:
    """The nearest settings file above ``start``: ``.initaudit.toml``, ``initaudit.toml``, or a
    pyproject.toml with a [tool.initaudit] table, searching upwards."""
    directory = start if start.is_dir() else start.parent
    for candidate in (directory.resolve(), *directory.resolve().parents):
        for name in CONFIG_NAMES:
            path = candidate / name
            if path.is_file() and (name != "pyproject.toml" or _has_section(read_toml(path))):
                return path
    return None


def settings_chain(path: Path) -> list[Layer]:
    """``path`` and the files it extends (``extend = "../base.toml"``, relative to the file
    naming it), the furthest base first; a cycle or a missing file is a ConfigError."""
    chain: list[Layer] = []
    visited: list[Path] = []
    current: Path | None = path
    while current is not None:
        resolved = current.resolve()
        if resolved in visited:
            cycle = " -> ".join(str(p) for p in [*visited[visited.index(resolved):], resolved])
            raise ConfigError(f"{visited[-1]}: 'extend' makes a cycle: {cycle}")
        visited.append(resolved)
        table = _table(current)
        chain.append(Layer(str(current), current.parent.resolve(), table, current))
        current = _extended(current, table)
    return chain[::-1]


def config_arguments(values: tuple[str, ...], cwd: Path) -> tuple[Path | None, list[Layer]]:
    """``--config`` arguments, each either an existing settings file or a TOML ``key = value``
    for the settings table (as with ruff): the one file, and the overrides in order."""
    files: list[Path] = []
    overrides: list[Layer] = []
    for value in values:
        path = Path(value)
        if path.is_file():
            files.append(path)
            continue
        if path.exists() and "=" not in value:  # a FIFO or a device: opening it would wait or never end
            raise ConfigError(f"{value}: not a regular file")
        try:
            table = tomllib.loads(value)
        except tomllib.TOMLDecodeError as exc:
            if "=" not in value:
                raise ConfigError(f"--config {value}: no such settings file") from None
            raise ConfigError(f"--config {value!r}: neither a settings file nor a TOML `key = value` ({exc})") from None
        if "extend" in table:
            raise ConfigError(f"--config {value!r}: 'extend' belongs in a settings file")
        overrides.append(Layer(f"--config {value!r}", cwd.resolve(), table))
    if len(files) > 1:
        raise ConfigError(f"--config: one settings file at most, got {files[0]} and {files[1]}")
    return (files[0] if files else None), overrides


def _table(path: Path) -> dict:
    """The settings in ``path``: a pyproject.toml's [tool.initaudit] table, another file's top level."""
    data = read_toml(path)
    if path.name != "pyproject.toml":
        return data
    table = data["tool"]["initaudit"] if _has_section(data) else {}
    if not isinstance(table, dict):
        raise ConfigError(f"{path}: [tool.initaudit] must be a table")
    return table


def _extended(path: Path, table: dict) -> Path | None:
    value = table.get("extend")
    if value is None:
        return None
    if not isinstance(value, str):
        raise ConfigError(f"{path}: 'extend' must be the path of a settings file")
    base = path.parent / os.path.expandvars(os.path.expanduser(value))
    if not base.exists():
        raise ConfigError(f"{path}: 'extend': {base}: no such file")
    return base


def _has_section(data: dict) -> bool:
    # Another tool's settings, however malformed, are not ours to judge: a ``tool`` that is not
    # a table has no initaudit section.
    tool = data.get("tool")
    return isinstance(tool, dict) and "initaudit" in tool


def read_toml(path: Path) -> dict:
    try:
        info = path.stat()
        if not stat.S_ISREG(info.st_mode):  # opening a FIFO would wait for a writer
            raise ConfigError(f"{path}: not a regular file")
        if info.st_size > MAX_SETTINGS_FILE:  # a checkout's pyproject.toml may link anywhere
            raise ConfigError(f"{path}: {info.st_size} bytes, more than a settings file holds")
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"{path}: {exc}") from None
