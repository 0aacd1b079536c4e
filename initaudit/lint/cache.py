"""Results of earlier runs, so that a warm run parses nothing.

An entry is keyed by the file's path and content hash, the settings that shape diagnostics, and a
fingerprint of the linter's own code (version, plus size and mtime of its modules so that an
edited installation never serves stale results). All entries live in one file per fingerprint,
read once at start and written atomically at the end.
"""

from __future__ import annotations

import functools
import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path

import initaudit
from initaudit.atomic import write_bytes
from initaudit.config import Config
from initaudit.diagnostics import Applicability, Diagnostic, Edit, Fix, Severity

DEFAULT_DIR = ".initaudit_cache"
_PACKAGE = Path(initaudit.__file__).resolve().parent


@functools.lru_cache(maxsize=1)
def _code_fingerprint() -> str:
    digest = hashlib.sha256(initaudit.__version__.encode())
    for module in sorted(_PACKAGE.rglob("*.py")):
        if "audit" in module.relative_to(_PACKAGE).parts[:1]:
            continue  # the model auditor does not shape lint results
        info = module.stat()
        digest.update(f"{module.name}:{info.st_size}:{info.st_mtime_ns}".encode())
    return digest.hexdigest()[:16]


def settings_key(config: Config) -> str:
    """What, besides the file, decides its diagnostics."""
    return json.dumps([config.select, config.extend_select, config.ignore, config.per_file_ignores],
                      sort_keys=True)


@dataclass
class Cached:
    diagnostics: list[Diagnostic]
    parsed: bool
    #: The other project files the result depends on, with the SHA-256 of their bytes then.
    reads: dict[str, str] = field(default_factory=dict)


@dataclass
class ResultCache:
    directory: Path
    settings: str
    entries: dict[str, dict] = field(default_factory=dict)
    dirty: bool = False
    #: SHA-256 of the files read this run to check cached results, by path.
    _digests: dict[str, str | None] = field(default_factory=dict)

    @classmethod
    def open(cls, directory: Path, config: Config) -> ResultCache:
        cache = cls(directory, settings_key(config))
        try:
            entries = json.loads(cache._file.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            entries = None  # missing or unreadable: start afresh
        cache.entries = entries if isinstance(entries, dict) else {}
        return cache

    @property
    def _file(self) -> Path:
        return self.directory / f"results-{_code_fingerprint()}.json"

    def key(self, path: str, data: bytes) -> str:
        digest = hashlib.sha256(data)
        digest.update(b"\0" + path.encode() + b"\0" + self.settings.encode())
        return digest.hexdigest()

    def get(self, key: str) -> Cached | None:
        """The entry for ``key``; one of the wrong shape (an edited or foreign file) is a miss."""
        entry = self.entries.get(key)
        try:
            parsed = entry["parsed"]
            reads = entry.get("reads", {})
            if not isinstance(parsed, bool) or not isinstance(reads, dict) or not all(
                    isinstance(path, str) and isinstance(digest, str) for path, digest in reads.items()):
                return None
            return Cached([_diagnostic(d) for d in entry["diagnostics"]], parsed, reads)
        except (TypeError, KeyError, ValueError, IndexError, AttributeError):
            return None

    def unchanged(self, reads: dict[str, str]) -> bool:
        """Whether every file a result read still has the content it had then."""
        for path, digest in reads.items():
            if digest != self._digests.get(path) and digest != self._digest(path):
                return False
        return True

    def _digest(self, path: str) -> str | None:
        try:
            self._digests[path] = hashlib.sha256(Path(path).read_bytes()).hexdigest()
        except OSError:
            self._digests[path] = None
        return self._digests[path]

    def put(self, key: str, diagnostics: list[Diagnostic], parsed: bool,
            reads: dict[str, str] | None = None) -> None:
        entry: dict = {"parsed": parsed, "diagnostics": [_entry(d) for d in diagnostics]}
        if reads:
            entry["reads"] = reads
        self.entries[key] = entry
        self.dirty = True

    def save(self) -> None:
        """Write atomically; a cache that cannot be written is simply not kept."""
        if not self.dirty:
            return
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            ignore = self.directory / ".gitignore"
            if not ignore.exists():
                ignore.write_text("# Created by initaudit.\n*\n", encoding="utf-8")
            for stale in self.directory.glob("results-*.json"):
                if stale != self._file:
                    stale.unlink(missing_ok=True)
            write_bytes(self._file, json.dumps(self.entries).encode("utf-8"))
        except OSError:
            pass


def _entry(diagnostic: Diagnostic) -> dict:
    entry = diagnostic.to_dict()
    entry["severity"] = diagnostic.severity.value
    entry["cell"] = diagnostic.cell
    if diagnostic.fix is not None:
        entry["fix"]["edits"] = [[e.start, e.end, e.text] for e in diagnostic.fix.edits]
    return entry


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
    )
