"""Results of earlier runs, so that a warm run parses nothing.

An entry is keyed by the file's path and content hash, the settings that shape diagnostics, and a
fingerprint of the linter's own code (version, plus size and mtime of its modules so that an
edited installation never serves stale results) and of its rule pages (which give each finding
its name and severity). All entries live in one file per fingerprint, read once at start and
written atomically at the end.

A cache directory is inside a checkout, which anyone may have prepared: the results file is
signed with a key of the user's kept outside every project (:func:`key_file`), so that a planted
or edited one is a miss; an entry's record of the project files it read is trusted only for
regular files inside the project; and the directory is written only where it is no symbolic link.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import hmac
import json
import os
import stat
from dataclasses import dataclass, field
from pathlib import Path

from initaudit.atomic import write_bytes
from initaudit.catalogue import catalogue_dir
from initaudit.config import Config
from initaudit.diagnostics import (
    Applicability,
    Diagnostic,
    Edit,
    Fix,
    RelatedLocation,
    Severity,
)
from initaudit.lint.files.roots import read_project_file, real_roots
from initaudit.lint.run.results import InitUse
from initaudit.safe_read import within
from initaudit.version import __version__

DEFAULT_DIR = ".initaudit_cache"
_PACKAGE = Path(__file__).resolve().parents[2]
_KEY_BYTES = 32
#: Far above the results of any project (all of torch's take a few MB).
_MAX_RESULTS = 256 << 20
_IGNORE_ALL = b"# Created by initaudit.\n*\n"


class CacheRefused(Exception):
    """A cache directory that is not used, and why (one line)."""


@functools.lru_cache(maxsize=1)
def _code_fingerprint() -> str:
    digest = hashlib.sha256(__version__.encode())
    for module in sorted(_PACKAGE.rglob("*.py")):
        if "auditor" in module.relative_to(_PACKAGE).parts[:1]:
            continue  # the model auditor does not shape lint results
        info = module.stat()
        digest.update(f"{module.name}:{info.st_size}:{info.st_mtime_ns}".encode())
    # The pages give each lint rule its name and default severity, which results carry.
    for page in sorted(catalogue_dir().glob("IA[01]*.md")):
        digest.update(page.name.encode() + b"\0" + page.read_bytes())
    return digest.hexdigest()[:16]


def key_file() -> Path:
    """Where the key that signs results files is kept: ``$XDG_CACHE_HOME/initaudit/key``, else
    ``~/.cache/initaudit/key``."""
    base = os.environ.get("XDG_CACHE_HOME", "")
    if not os.path.isabs(base):
        base = os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base, "initaudit", "key")


@functools.lru_cache(maxsize=4)
def _secret(location: Path) -> bytes | None:
    """The key, made on first use (random, mode 0600); None where it cannot be read or made, or
    where another user could read or replace it: nothing is cached then."""
    if not location.is_absolute():
        return None  # no home directory: a relative path would land in the project
    try:
        try:
            return _read_secret(location)
        except FileNotFoundError:
            location.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            secret = os.urandom(_KEY_BYTES)
            flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
            with open(os.open(location, flags, 0o600), "wb") as handle:
                handle.write(secret)
            return secret
    except OSError:  # another run making it at this moment included: the next run has it
        return None


def _read_secret(location: Path) -> bytes | None:
    with open(os.open(location, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC), "rb") as handle:
        info = os.fstat(handle.fileno())
        if not stat.S_ISREG(info.st_mode) or info.st_uid != os.geteuid() or info.st_mode & 0o077:
            return None
        secret = handle.read(_KEY_BYTES + 1)
    return secret if len(secret) == _KEY_BYTES else None


def settings_key(config: Config) -> str:
    """What, besides the file, decides its diagnostics."""
    return json.dumps([config.select, config.extend_select, config.ignore, config.per_file_ignores, config.extension],
                      sort_keys=True)


@dataclass
class Cached:
    diagnostics: list[Diagnostic]
    parsed: bool
    #: The other project files the result depends on, with the SHA-256 of their bytes then.
    reads: dict[str, str] = field(default_factory=dict)
    #: What the runner merges across files (``FileResult.uses``).
    uses: list[InitUse] = field(default_factory=list)


@dataclass
class ResultCache:
    directory: Path
    settings: str
    secret: bytes
    #: Real paths of the run's project roots: the only place a cached result may have read.
    roots: tuple[str, ...]
    entries: dict[str, dict] = field(default_factory=dict)
    dirty: bool = False
    #: SHA-256 of the files read this run to check cached results, by path (None: not a
    #: readable project file).
    _digests: dict[str, str | None] = field(default_factory=dict)

    @classmethod
    def open(cls, directory: Path, config: Config, roots: tuple[str, ...] = ()) -> ResultCache | None:
        """The cache kept in ``directory`` for a run whose project has ``roots`` (none: no entry
        that read another file is a hit); None where the user's key cannot be had. Raises :class:`CacheRefused` for a directory reached through a
        symbolic link (:func:`_refusal`)."""
        absolute = Path(os.path.abspath(directory))
        reason = _refusal(absolute, config.root)
        if reason is not None:
            raise CacheRefused(f"{directory}: {reason}; results are not cached")
        secret = _secret(key_file())
        if secret is None:
            return None
        cache = cls(absolute, settings_key(config), secret, real_roots(roots))
        cache.entries = cache._load()
        return cache

    @property
    def _file(self) -> Path:
        return self.directory / f"results-{_code_fingerprint()}.json"

    def _signature(self, payload: bytes) -> bytes:
        signed = hmac.new(self.secret, _code_fingerprint().encode() + b"\0", hashlib.sha256)
        signed.update(payload)
        return signed.hexdigest().encode()

    def _load(self) -> dict[str, dict]:
        """The entries of the results file: none where it is missing, not a regular file, too
        large, or not signed with the user's key for this version of the linter."""
        try:
            flags = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC
            with open(os.open(self._file, flags), "rb") as handle:
                if not stat.S_ISREG(os.fstat(handle.fileno()).st_mode):
                    return {}
                data = handle.read(_MAX_RESULTS + 1)
        except OSError:
            return {}
        signature, _, payload = data.partition(b"\n")
        if len(data) > _MAX_RESULTS or not hmac.compare_digest(signature, self._signature(payload)):
            return {}
        try:
            entries = json.loads(payload)
        except ValueError:
            return {}
        return entries if isinstance(entries, dict) else {}

    def key(self, path: str, data: bytes) -> str:
        digest = hashlib.sha256(data)
        digest.update(b"\0" + os.fsencode(path) + b"\0" + self.settings.encode())
        return digest.hexdigest()

    def get(self, key: str) -> Cached | None:
        """The entry for ``key``; one of the wrong shape is a miss."""
        entry = self.entries.get(key)
        try:
            parsed = entry["parsed"]
            reads = entry.get("reads", {})
            if not isinstance(parsed, bool) or not isinstance(reads, dict) or not all(
                    isinstance(path, str) and isinstance(digest, str) for path, digest in reads.items()):
                return None
            return Cached([_diagnostic(d) for d in entry["diagnostics"]], parsed, reads,
                          [_use(use) for use in entry.get("uses", ())])
        except (TypeError, KeyError, ValueError, IndexError, AttributeError):
            return None

    def unchanged(self, reads: dict[str, str]) -> bool:
        """Whether every file a result read is still a project file with the content it had then
        (read as the analysis reads one: ``roots.read_project_file``)."""
        for path, digest in reads.items():
            if path not in self._digests:
                data = read_project_file(path, self.roots)
                self._digests[path] = None if data is None else hashlib.sha256(data).hexdigest()
            if digest != self._digests[path]:
                return False
        return True

    def put(self, key: str, diagnostics: list[Diagnostic], parsed: bool,
            reads: dict[str, str] | None = None, uses: list[InitUse] | None = None) -> None:
        entry: dict = {"parsed": parsed, "diagnostics": [_entry(d) for d in diagnostics]}
        if reads:
            entry["reads"] = reads
        if uses:
            entry["uses"] = [dataclasses.astuple(use) for use in uses]
        self.entries[key] = entry
        self.dirty = True

    def save(self) -> None:
        """Write atomically; a cache that cannot be written is simply not kept. Nothing is
        written or deleted through a symbolic link: the directory must be one itself, its
        ``.gitignore`` is made only where that name is free, and only regular files are removed
        as stale results."""
        if not self.dirty:
            return
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            if not stat.S_ISDIR(os.lstat(self.directory).st_mode):
                return  # replaced by a link since the run began
            _make_ignore_file(self.directory / ".gitignore")
            with os.scandir(self.directory) as scan:
                stale = [entry.path for entry in scan if entry.name.startswith("results-")
                         and entry.name.endswith(".json") and entry.name != self._file.name
                         and entry.is_file(follow_symlinks=False)]
            for path in stale:
                os.unlink(path)
            payload = json.dumps(self.entries).encode("utf-8")
            write_bytes(self._file, self._signature(payload) + b"\n" + payload)
        except OSError:
            pass


def _refusal(directory: Path, project: Path) -> str | None:
    """Why the absolute ``directory`` must not hold the cache: it is a symbolic link, or, inside
    the project, a link on the way to it leads out of the project."""
    if directory.is_symlink():
        return "the cache directory is a symbolic link"
    root = Path(os.path.abspath(project))
    if root in directory.parents and not within(os.path.realpath(directory.parent), os.path.realpath(root)):
        return "a symbolic link on the way to the cache directory leads out of the project"
    return None


def _make_ignore_file(path: Path) -> None:
    """``*`` in the cache's ``.gitignore``, made only where nothing (not even a link) has the name."""
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o666)
    except FileExistsError:
        return
    with open(descriptor, "wb") as handle:
        handle.write(_IGNORE_ALL)


def _entry(diagnostic: Diagnostic) -> dict:
    entry = diagnostic.to_dict()
    entry["severity"] = diagnostic.severity.value
    entry["cell"] = diagnostic.cell
    if diagnostic.fix is not None:
        entry["fix"]["edits"] = [[e.start, e.end, e.text] for e in diagnostic.fix.edits]
    return entry


_RELATED_TYPES = {"path": str, "line": int, "column": int, "end_line": int, "end_column": int, "message": str}
_TYPES = {"path": str, "line": int, "column": int, "end_line": int, "end_column": int, "code": str,
          "name": str, "message": str}


def _diagnostic(entry: dict) -> Diagnostic:
    """Raises TypeError, KeyError, ValueError or IndexError for an entry of the wrong shape."""
    if any(not isinstance(entry[key], kind) for key, kind in _TYPES.items()):
        raise TypeError("malformed cache entry")
    if entry["cell"] is not None and not isinstance(entry["cell"], int):
        raise TypeError("malformed cache entry")
    fix = entry["fix"]
    if fix is not None and not all(isinstance(start, int) and isinstance(end, int) and isinstance(text, str)
                                   for start, end, text in fix["edits"]):
        raise TypeError("malformed cache entry")
    return Diagnostic(
        path=entry["path"], line=entry["line"], column=entry["column"], end_line=entry["end_line"],
        end_column=entry["end_column"], code=entry["code"], name=entry["name"],
        severity=Severity(entry["severity"]), message=entry["message"],
        fix=None if fix is None else Fix(Applicability(fix["applicability"]), fix["message"],
                                         tuple(Edit(*edit) for edit in fix["edits"])),
        cell=entry["cell"],
        related=tuple(_related(location) for location in entry.get("related", ())),
    )


_USE_TYPES: tuple[type | tuple[type, ...], ...] = (str, str, int, int, int, int, str, (str, type(None)))


def _use(entry: list) -> InitUse:
    """Raises TypeError for an application of the wrong shape."""
    if not isinstance(entry, list) or len(entry) != len(_USE_TYPES) or any(
            not isinstance(value, kind) for value, kind in zip(entry, _USE_TYPES)):
        raise TypeError("malformed cache entry")
    return InitUse(*entry)


def _related(location: dict) -> RelatedLocation:
    """Raises TypeError or KeyError for a related location of the wrong shape."""
    if any(not isinstance(location[key], kind) for key, kind in _RELATED_TYPES.items()):
        raise TypeError("malformed cache entry")
    return RelatedLocation(**{key: location[key] for key in _RELATED_TYPES})
