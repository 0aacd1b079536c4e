"""``[tool.initaudit]`` settings and how command-line options combine with them."""

from __future__ import annotations

import fnmatch
import functools
import stat
import sys
from dataclasses import dataclass, field, replace
from pathlib import Path, PurePosixPath

from initaudit.selectors import UnknownSelector, matches, resolve_all

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

DEFAULT_EXCLUDES: tuple[str, ...] = (
    ".git", ".hg", ".svn", ".venv", "venv", ".tox", ".nox", "build", "dist", "__pycache__",
    "site-packages", "node_modules", ".mypy_cache", ".pytest_cache", ".ruff_cache",
    ".initaudit_cache",
)

_CODE_LIST_KEYS = ("select", "extend-select", "ignore")
_FLAG_KEYS = ("force-exclude", "respect-gitignore")
_KNOWN_KEYS = frozenset({*_CODE_LIST_KEYS, *_FLAG_KEYS, "per-file-ignores", "exclude"})
#: Looked for in each directory from the checked path upwards, in this order (as ruff does): the
#: first directory holding one of them decides, and pyproject.toml counts only with [tool.initaudit].
CONFIG_NAMES = (".initaudit.toml", "initaudit.toml", "pyproject.toml")
#: Far above any real pyproject.toml; a bound on what a settings file can make a run read.
MAX_SETTINGS_FILE = 8 << 20


class ConfigError(Exception):
    """A configuration file or option is invalid; the message is shown as is."""


@dataclass(frozen=True)
class Config:
    #: Resolved selectors: codes or code prefixes, or "ALL" (see :mod:`initaudit.selectors`).
    select: tuple[str, ...] = ("ALL",)
    extend_select: tuple[str, ...] = ()
    ignore: tuple[str, ...] = ()
    per_file_ignores: tuple[tuple[str, tuple[str, ...]], ...] = ()
    exclude: tuple[str, ...] = ()
    #: Apply the excludes (and .gitignore) to files named on the command line too.
    force_exclude: bool = False
    respect_gitignore: bool = True
    #: Directory that relative patterns (exclude, per-file-ignores) are anchored to.
    root: Path = field(default_factory=Path.cwd)
    #: The file these settings were read from; None for the defaults.
    source: Path | None = None

    def enabled(self, code: str, path: str | None = None) -> bool:
        """Whether ``code`` is reported for ``path`` (prefix matching, as in ``IA1``)."""
        if not matches(code, self.select + self.extend_select) or matches(code, self.ignore):
            return False
        if path is not None and self.per_file_ignores:
            relative = self.relative(path)
            for pattern, codes in self.per_file_ignores:
                if _path_matches(relative, pattern) and matches(code, codes):
                    return False
        return True

    def excluded(self, name: str, relative: str) -> bool:
        """Whether a file or directory met in a recursive walk is left out; ``relative`` is its
        path from :attr:`root` (or as given, outside it), in posix form."""
        if name in DEFAULT_EXCLUDES:
            return True
        # The walk prunes excluded directories, so a bare name only needs to match the entry's
        # own name; a directory named on the command line is never excluded this way.
        return any(
            fnmatch.fnmatch(name, pattern.rstrip("/")) if "/" not in pattern.rstrip("/")
            else _path_matches(relative, pattern)
            for pattern in self.exclude
        )

    def relative(self, path: str) -> str:
        return _relative(path, self.root)

    def with_options(self, select: tuple[str, ...] = (), ignore: tuple[str, ...] = (),
                     extend_select: tuple[str, ...] = (), force_exclude: bool | None = None,
                     respect_gitignore: bool | None = None) -> Config:
        """Command-line ``--select`` replaces the configured selection (its ``ignore`` and
        ``extend-select`` too, so that what is asked for is shown); ``--extend-select`` and
        ``--ignore`` add. per-file-ignores always apply. Selectors must be resolved already."""
        config = self
        if select:
            config = replace(config, select=select, ignore=(), extend_select=())
        config = replace(config, ignore=config.ignore + ignore,
                         extend_select=config.extend_select + extend_select)
        if force_exclude is not None:
            config = replace(config, force_exclude=force_exclude)
        if respect_gitignore is not None:
            config = replace(config, respect_gitignore=respect_gitignore)
        return config


@functools.lru_cache(maxsize=4096)
def _relative(path: str, root: Path) -> str:
    # Cached: resolving costs a system call per path component, and rules ask per file.
    try:
        return Path(path).resolve().relative_to(_resolved(root)).as_posix()
    except ValueError:
        return Path(path).as_posix()


@functools.lru_cache(maxsize=16)
def _resolved(root: Path) -> Path:
    return root.resolve()


def _path_matches(relative: str, pattern: str) -> bool:
    pattern = pattern.rstrip("/")
    path = PurePosixPath(relative)
    if fnmatch.fnmatch(relative, pattern) or fnmatch.fnmatch(relative, pattern + "/*"):
        return True
    # A bare name ("migrations", "*_pb2.py") matches at any depth.
    return "/" not in pattern and any(fnmatch.fnmatch(part, pattern) for part in path.parts)


def find_config(start: Path) -> Path | None:
    """The nearest settings file above ``start``: ``.initaudit.toml``, ``initaudit.toml``, or a
    pyproject.toml with a [tool.initaudit] table, searching upwards."""
    directory = start if start.is_dir() else start.parent
    for candidate in (directory.resolve(), *directory.resolve().parents):
        for name in CONFIG_NAMES:
            path = candidate / name
            if path.is_file() and (name != "pyproject.toml" or _has_section(_read_toml(path))):
                return path
    return None


def _has_section(data: dict) -> bool:
    # Another tool's settings, however malformed, are not ours to judge: a ``tool`` that is not
    # a table has no initaudit section.
    tool = data.get("tool")
    return isinstance(tool, dict) and "initaudit" in tool


def load_config(config_file: Path | None = None, start: Path | None = None) -> Config:
    """Settings from ``config_file`` (pyproject.toml or an initaudit TOML file with the same keys
    at its top level) or the nearest settings file above ``start``; defaults when there is none."""
    path = config_file or find_config(start or Path.cwd())
    if path is None:
        return Config(root=Path.cwd())
    data = _read_toml(path)
    table = data
    where = "in [tool.initaudit]" if path.name == "pyproject.toml" else ""
    if path.name == "pyproject.toml":
        table = data["tool"]["initaudit"] if _has_section(data) else {}
    if not isinstance(table, dict):
        raise ConfigError(f"{path}: [tool.initaudit] must be a table")
    unknown = sorted(set(table) - _KNOWN_KEYS)
    if unknown:
        raise ConfigError(f"{path}: unknown option {unknown[0]!r}{' ' + where if where else ''}")
    per_file = table.get("per-file-ignores", {})
    if not isinstance(per_file, dict):
        raise ConfigError(f"{path}: 'per-file-ignores' must be a table of pattern = [codes]")
    codes = {key: _codes(path, key, table.get(key, ["ALL"] if key == "select" else []))
             for key in _CODE_LIST_KEYS}
    flags = {key: _flag(path, key, table.get(key, key == "respect-gitignore")) for key in _FLAG_KEYS}
    return Config(
        select=codes["select"],
        extend_select=codes["extend-select"],
        ignore=codes["ignore"],
        per_file_ignores=tuple(
            (pattern, _codes(path, f"per-file-ignores.{pattern}", codes))
            for pattern, codes in per_file.items()
        ),
        exclude=_strings(path, "exclude", table.get("exclude", [])),
        force_exclude=flags["force-exclude"],
        respect_gitignore=flags["respect-gitignore"],
        root=path.parent.resolve(),
        source=path.resolve(),
    )


def _read_toml(path: Path) -> dict:
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


def _strings(path: Path, key: str, value: object) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f"{path}: {key!r} must be a list of strings")
    return tuple(value)


def _flag(path: Path, key: str, value: object) -> bool:
    if not isinstance(value, bool):
        raise ConfigError(f"{path}: {key!r} must be true or false")
    return value


def _codes(path: Path, key: str, value: object) -> tuple[str, ...]:
    try:
        return resolve_all(_strings(path, key, value))
    except UnknownSelector as exc:
        raise ConfigError(f"{path}: {key!r}: {exc}") from None


def parse_code_list(text: str | None, option: str = "--select") -> tuple[str, ...]:
    """``--select IA101,zero-weight-init,IA2`` -> ("IA101", "IA101", "IA2"); an unknown
    selector is a ConfigError naming the option."""
    if not text:
        return ()
    try:
        return resolve_all([item for item in text.split(",") if item.strip()])
    except UnknownSelector as exc:
        raise ConfigError(f"{option}: {exc}") from None
