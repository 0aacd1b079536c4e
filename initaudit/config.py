"""``[tool.initaudit]`` settings and how command-line options combine with them."""

from __future__ import annotations

import fnmatch
import functools
import stat
import sys
from dataclasses import dataclass, field, replace
from pathlib import Path, PurePosixPath

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

DEFAULT_EXCLUDES: tuple[str, ...] = (
    ".git", ".hg", ".svn", ".venv", "venv", ".tox", ".nox", "build", "dist", "__pycache__",
    "site-packages", "node_modules", ".mypy_cache", ".pytest_cache", ".ruff_cache",
    ".initaudit_cache",
)

_KNOWN_KEYS = frozenset({"select", "ignore", "per-file-ignores", "exclude"})


class ConfigError(Exception):
    """A configuration file or option is invalid; the message is shown as is."""


@dataclass(frozen=True)
class Config:
    select: tuple[str, ...] = ("ALL",)
    ignore: tuple[str, ...] = ()
    per_file_ignores: tuple[tuple[str, tuple[str, ...]], ...] = ()
    exclude: tuple[str, ...] = ()
    #: Directory that relative patterns (exclude, per-file-ignores) are anchored to.
    root: Path = field(default_factory=Path.cwd)

    def enabled(self, code: str, path: str | None = None) -> bool:
        """Whether ``code`` is reported for ``path`` (prefix matching, as in ``IA1``)."""
        if not _matches_any(code, self.select) or _matches_any(code, self.ignore):
            return False
        if path is not None and self.per_file_ignores:
            relative = self.relative(path)
            for pattern, codes in self.per_file_ignores:
                if _path_matches(relative, pattern) and _matches_any(code, codes):
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

    def with_options(self, select: tuple[str, ...] | None, ignore: tuple[str, ...]) -> Config:
        """Command-line ``--select`` replaces the configured selection (its ``ignore`` too, so
        that what is asked for is shown); ``--ignore`` adds. per-file-ignores always apply."""
        if select:
            return replace(self, select=select, ignore=ignore)
        return replace(self, ignore=self.ignore + ignore)


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


def _matches_any(code: str, patterns: tuple[str, ...]) -> bool:
    return any(p == "ALL" or code.startswith(p) for p in patterns)


def _path_matches(relative: str, pattern: str) -> bool:
    pattern = pattern.rstrip("/")
    path = PurePosixPath(relative)
    if fnmatch.fnmatch(relative, pattern) or fnmatch.fnmatch(relative, pattern + "/*"):
        return True
    # A bare name ("migrations", "*_pb2.py") matches at any depth.
    return "/" not in pattern and any(fnmatch.fnmatch(part, pattern) for part in path.parts)


def find_pyproject(start: Path) -> Path | None:
    """The nearest pyproject.toml with a [tool.initaudit] table, searching upwards."""
    directory = start if start.is_dir() else start.parent
    for candidate in (directory.resolve(), *directory.resolve().parents):
        pyproject = candidate / "pyproject.toml"
        if pyproject.is_file() and _has_section(_read_toml(pyproject)):
            return pyproject
    return None


def _has_section(data: dict) -> bool:
    # Another tool's settings, however malformed, are not ours to judge: a ``tool`` that is not
    # a table has no initaudit section.
    tool = data.get("tool")
    return isinstance(tool, dict) and "initaudit" in tool


def load_config(config_file: Path | None = None, start: Path | None = None) -> Config:
    """Settings from ``config_file`` (pyproject.toml or a bare initaudit TOML) or the nearest
    pyproject.toml above ``start``; defaults when there is none."""
    path = config_file or find_pyproject(start or Path.cwd())
    if path is None:
        return Config(root=Path.cwd())
    data = _read_toml(path)
    table = data
    if path.name == "pyproject.toml":
        table = data["tool"]["initaudit"] if _has_section(data) else {}
    if not isinstance(table, dict):
        raise ConfigError(f"{path}: [tool.initaudit] must be a table")
    unknown = sorted(set(table) - _KNOWN_KEYS)
    if unknown:
        raise ConfigError(f"{path}: unknown option {unknown[0]!r} in [tool.initaudit]")
    per_file = table.get("per-file-ignores", {})
    if not isinstance(per_file, dict):
        raise ConfigError(f"{path}: 'per-file-ignores' must be a table of pattern = [codes]")
    return Config(
        select=_codes(path, "select", table.get("select", ["ALL"])),
        ignore=_codes(path, "ignore", table.get("ignore", [])),
        per_file_ignores=tuple(
            (pattern, _codes(path, f"per-file-ignores.{pattern}", codes))
            for pattern, codes in per_file.items()
        ),
        exclude=_strings(path, "exclude", table.get("exclude", [])),
        root=path.parent.resolve(),
    )


def _read_toml(path: Path) -> dict:
    try:
        if not stat.S_ISREG(path.stat().st_mode):  # opening a FIFO would wait for a writer
            raise ConfigError(f"{path}: not a regular file")
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"{path}: {exc}") from None


def _strings(path: Path, key: str, value: object) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f"{path}: {key!r} must be a list of strings")
    return tuple(value)


def _codes(path: Path, key: str, value: object) -> tuple[str, ...]:
    return tuple(code.upper() for code in _strings(path, key, value))


def parse_code_list(text: str | None) -> tuple[str, ...]:
    """``--select IA101,IA103`` -> ("IA101", "IA103")."""
    if not text:
        return ()
    return tuple(code.strip().upper() for code in text.split(",") if code.strip())
