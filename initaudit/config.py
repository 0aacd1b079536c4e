"""``[tool.initaudit]`` settings and how command-line options combine with them."""

from __future__ import annotations

import fnmatch
import functools
import glob
import posixpath
from dataclasses import dataclass, field, replace
from pathlib import Path, PurePosixPath
from typing import Sequence

from initaudit.lint.files.languages import Extensions, extension_pair, parse_extensions
from initaudit.selectors import UnknownSelector, for_command, matches, names_rule_of, resolve_all
from initaudit.settings_files import ConfigError, Layer, find_config, settings_chain

DEFAULT_EXCLUDES: tuple[str, ...] = (
    ".git", ".hg", ".svn", ".venv", "venv", ".tox", ".nox", "build", "dist", "__pycache__",
    "site-packages", "node_modules", ".mypy_cache", ".pytest_cache", ".ruff_cache",
    ".initaudit_cache",
)

_CODE_LIST_KEYS = ("select", "extend-select", "ignore")
_FLAG_KEYS = ("force-exclude", "respect-gitignore", "fix", "unsafe-fixes")
_PATTERN_KEYS = ("exclude", "extend-exclude")
#: Keys that add to what the files beneath set (a base file, for ``--config`` the settings files).
_ADDITIVE = frozenset({"extend-select", "extend-exclude"})
_KNOWN_KEYS = frozenset({*_CODE_LIST_KEYS, *_FLAG_KEYS, *_PATTERN_KEYS, "per-file-ignores", "extend", "extension"})


@dataclass(frozen=True)
class Config:
    #: Resolved selectors: codes or code prefixes, or "ALL" (see :mod:`initaudit.selectors`).
    select: tuple[str, ...] = ("ALL",)
    extend_select: tuple[str, ...] = ()
    ignore: tuple[str, ...] = ()
    per_file_ignores: tuple[tuple[str, tuple[str, ...]], ...] = ()
    exclude: tuple[str, ...] = ()
    #: Excludes in addition to ``exclude`` (what ``--exclude`` replaces is ``exclude`` alone).
    extend_exclude: tuple[str, ...] = ()
    #: Apply the excludes (and .gitignore) to files named on the command line too.
    force_exclude: bool = False
    respect_gitignore: bool = True
    #: Directory that relative patterns (exclude, per-file-ignores) are anchored to.
    root: Path = field(default_factory=Path.cwd)
    #: The file these settings were read from; None for the defaults.
    source: Path | None = None
    #: The files ``source`` extends, nearest first.
    bases: tuple[Path, ...] = ()
    #: ``fix = true``: fix as ``--fix`` does unless the command line says otherwise.
    fix: bool = False
    unsafe_fixes: bool = False
    #: (suffix, language) pairs: files ending ``.suffix`` are read as that language.
    extension: Extensions = ()

    def enabled(self, code: str, path: str | None = None) -> bool:
        """Whether ``code`` is reported for ``path`` (prefix matching, as in ``IA1``); ``select``
        narrows only the command whose rules it names (:func:`~initaudit.selectors.for_command`)."""
        if not matches(code, for_command(self.select, code) + self.extend_select) or matches(code, self.ignore):
            return False
        if path is not None and self.per_file_ignores:
            relative = self.relative(path)
            for pattern, codes in self.per_file_ignores:
                if _pattern_matches(pattern, relative, path) and matches(code, codes):
                    return False
        return True

    def excluded(self, name: str, relative: str, path: str | None = None) -> bool:
        """Whether a file or directory met in a recursive walk is left out; ``relative`` is its
        path from :attr:`root` (or as given, outside it), in posix form; ``path``, as the walk
        met it, is what absolute patterns match (none match without it)."""
        if name in DEFAULT_EXCLUDES:
            return True
        # The walk prunes excluded directories, so a bare name only needs to match the entry's
        # own name; a directory named on the command line is never excluded this way.
        return any(
            fnmatch.fnmatch(name, pattern.rstrip("/")) if "/" not in pattern.rstrip("/")
            else _pattern_matches(pattern, relative, path)
            for pattern in self.exclude + self.extend_exclude
        )

    def relative(self, path: str) -> str:
        return _relative(path, self.root)

    def with_options(self, select: tuple[str, ...] = (), ignore: tuple[str, ...] = (),
                     extend_select: tuple[str, ...] = (), force_exclude: bool | None = None,
                     respect_gitignore: bool | None = None, exclude: tuple[str, ...] | None = None,
                     extend_exclude: tuple[str, ...] = (), extension: Extensions = ()) -> Config:
        """Command-line ``--select`` replaces the configured selection (its ``ignore`` and
        ``extend-select`` too, so that what is asked for is shown); ``--extend-select`` and
        ``--ignore`` add. per-file-ignores always apply. Selectors must be resolved already.
        ``exclude`` replaces the configured ``exclude`` (not ``extend-exclude``),
        ``extend_exclude`` adds; patterns must be anchored already (:func:`anchor_patterns`).
        ``extension`` mappings add to the configured ones (for one suffix, the last wins)."""
        config = self
        if select:
            config = replace(config, select=select, ignore=(), extend_select=())
        config = replace(config, ignore=config.ignore + ignore, extend_select=config.extend_select + extend_select,
                         exclude=config.exclude if exclude is None else exclude,
                         extend_exclude=config.extend_exclude + extend_exclude)
        if force_exclude is not None:
            config = replace(config, force_exclude=force_exclude)
        if respect_gitignore is not None:
            config = replace(config, respect_gitignore=respect_gitignore)
        if extension:
            config = replace(config, extension=config.extension + extension)
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


def _pattern_matches(pattern: str, relative: str, path: str | None) -> bool:
    if pattern.startswith("/"):  # anchored by :func:`anchor_patterns`
        return path is not None and _path_matches(_real(path), pattern)
    return _path_matches(relative, pattern)


@functools.lru_cache(maxsize=4096)
def _real(path: str) -> str:
    return Path(path).resolve().as_posix()


def _path_matches(relative: str, pattern: str) -> bool:
    pattern = pattern.rstrip("/")
    path = PurePosixPath(relative)
    if fnmatch.fnmatch(relative, pattern) or fnmatch.fnmatch(relative, pattern + "/*"):
        return True
    # A bare name ("migrations", "*_pb2.py") matches at any depth.
    return "/" not in pattern and any(fnmatch.fnmatch(part, pattern) for part in path.parts)


def load_config(config_file: Path | None = None, start: Path | None = None, *,
                overrides: Sequence[Layer] = (), isolated: bool = False) -> Config:
    """Settings from ``config_file`` (pyproject.toml or an initaudit TOML file with the same keys
    at its top level) or the nearest settings file above ``start`` (none with ``isolated``), with
    the files it extends beneath it and ``overrides`` (``--config KEY=VALUE``) above; defaults
    where nothing sets a key. A later layer's keys replace an earlier one's; ``extend-select``
    and ``extend-exclude`` add up."""
    path = None if isolated else config_file or find_config(start or Path.cwd())
    chain = settings_chain(path) if path is not None else []
    root = path.parent.resolve() if path is not None else Path.cwd()
    values: dict[str, object] = {}
    for layer in [*chain, *overrides]:
        for key, value in _validated(layer, root).items():
            values[key] = values.get(key, ()) + value if key in _ADDITIVE else value  # type: ignore[operator]
    return Config(**{key.replace("-", "_"): value for key, value in values.items()},  # type: ignore[arg-type]
                  root=root, source=None if path is None else path.resolve(),
                  bases=tuple(layer.path.resolve() for layer in chain[-2::-1] if layer.path is not None))


def _validated(layer: Layer, root: Path) -> dict[str, object]:
    """The layer's settings, checked and converted; relative path patterns anchored."""
    table = layer.table
    unknown = sorted(set(table) - _KNOWN_KEYS)
    if unknown:
        raise ConfigError(f"{layer.origin}: unknown option {unknown[0]!r}{layer.section}")
    values: dict[str, object] = {}
    for key, value in table.items():
        if key in _CODE_LIST_KEYS:
            values[key] = _codes(layer.origin, key, value)
        elif key in _FLAG_KEYS:
            values[key] = _flag(layer.origin, key, value)
        elif key in _PATTERN_KEYS:
            values[key] = anchor_patterns(_strings(layer.origin, key, value), layer.directory, root)
        elif key == "per-file-ignores":
            if not isinstance(value, dict):
                raise ConfigError(f"{layer.origin}: 'per-file-ignores' must be a table of pattern = [codes]")
            values[key] = tuple(
                (anchor_patterns((pattern,), layer.directory, root)[0],
                 _codes(layer.origin, f"per-file-ignores.{pattern}", codes))
                for pattern, codes in value.items())
        elif key == "extension":
            values[key] = _extensions(layer.origin, value)
    return values


def anchor_patterns(patterns: tuple[str, ...], directory: Path, root: Path) -> tuple[str, ...]:
    """Path patterns written relative to ``directory`` (a base settings file's, or the working
    directory for the command line), made absolute where it is not the ``root`` they are
    otherwise read from. A bare name (no ``/``) matches at any depth and stays as it is."""
    if directory.resolve() == root.resolve():
        return patterns
    base = glob.escape(directory.resolve().as_posix())
    return tuple(pattern if "/" not in pattern.rstrip("/") or pattern.startswith("/")
                 else posixpath.normpath(f"{base}/{pattern}") for pattern in patterns)


def _strings(origin: str, key: str, value: object) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f"{origin}: {key!r} must be a list of strings")
    return tuple(value)


def _flag(origin: str, key: str, value: object) -> bool:
    if not isinstance(value, bool):
        raise ConfigError(f"{origin}: {key!r} must be true or false")
    return value


def _extensions(origin: str, value: object) -> Extensions:
    if not isinstance(value, dict) or not all(isinstance(language, str) for language in value.values()):
        raise ConfigError(f"{origin}: 'extension' must be a table of extension = \"language\"")
    try:
        return tuple(extension_pair(suffix, language) for suffix, language in value.items())
    except ValueError as exc:
        raise ConfigError(f"{origin}: 'extension': {exc}") from None


def parse_extension_option(values: tuple[str, ...]) -> Extensions:
    """``--extension txt:markdown`` (repeated, or pairs separated by commas); a mistake is a
    ConfigError naming the option."""
    try:
        return parse_extensions(values)
    except ValueError as exc:
        raise ConfigError(f"--extension: {exc}") from None


def _codes(origin: str, key: str, value: object) -> tuple[str, ...]:
    try:
        return resolve_all(_strings(origin, key, value))
    except UnknownSelector as exc:
        raise ConfigError(f"{origin}: {key!r}: {exc}") from None


def parse_code_list(text: str | None, option: str = "--select", scope: str | None = None) -> tuple[str, ...]:
    """``--select IA101,zero-weight-init,IA2`` -> ("IA101", "IA101", "IA2"); an unknown
    selector, or with ``scope`` one naming no rule of that command, is a ConfigError naming the
    option."""
    if not text:
        return ()
    items = [item for item in text.split(",") if item.strip()]
    try:
        selectors = resolve_all(items)
    except UnknownSelector as exc:
        raise ConfigError(f"{option}: {exc}") from None
    for item, selector in zip(items, selectors, strict=True):
        if scope is not None and not names_rule_of(selector, scope):
            raise ConfigError(f"{option}: {item.strip()!r} names no rule of `initaudit {scope}`; "
                              f"`initaudit rules` lists each rule's command")
    return selectors
