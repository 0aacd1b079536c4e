"""One linter run over paths: discovery, the result cache, parallel workers, fixes written back,
and the summary reporters format. ``initaudit check`` and :func:`lint_paths` both run it, so the
Python API gives what the command prints."""

from __future__ import annotations

import contextlib
import gc
import os
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Iterable, Iterator

from initaudit.config import Config
from initaudit.lint.files.discover import Skipped, Unreadable, discover, force_excluded
from initaudit.lint.files.roots import project_roots
from initaudit.lint.run.results import FileResult, cached_result
from initaudit.lint.run.shared_fixes import Project as _Project
from initaudit.lint.run.shared_fixes import share_fixes
from initaudit.progress import Progress

if TYPE_CHECKING:
    from initaudit.lint.run.cache import ResultCache
    from initaudit.lint.run.summary import Summary


@dataclass
class LintRun:
    """A result per file (unreadable paths first, then the files in discovery order) and how
    many fixes were written; it reads as the sequence of results."""

    results: list[FileResult]
    fixed: int = 0
    #: One line each about what the run left alone (a link leaving the tree, a refused cache);
    #: they change neither the results nor the exit status.
    warnings: list[str] = field(default_factory=list)

    def __iter__(self) -> Iterator[FileResult]:
        return iter(self.results)

    def __len__(self) -> int:
        return len(self.results)

    def __getitem__(self, index: int) -> FileResult:
        return self.results[index]

    @property
    def errors(self) -> list[FileResult]:
        """Files that could not be checked or fixed, each with its one-line reason."""
        return [result for result in self.results if result.error is not None]

    @cached_property
    def summary(self) -> Summary:
        return _summary(self.results, self.fixed)

    def to_dict(self) -> dict[str, object]:
        """What ``initaudit check --output-format json`` prints."""
        return self.summary.to_dict()


def run_lint(paths: Iterable[str | Path], config: Config, *, jobs: int | None = None,
             cache_dir: Path | None = None, fix: bool = False, write: bool = True,
             unsafe_fixes: bool = False, progress: Progress | None = None, project: bool = True) -> LintRun:
    """Check ``paths`` as ``initaudit check`` does. ``cache_dir``: read and write cached results
    there (never while fixing); ``fix``: compute fixes, and with ``write`` apply them to the files;
    ``project``: read the project files each file imports (False: every file alone, which
    ``benchmarks/lint_project.py`` measures against). A path the walk skips (a symbolic link
    leaving the named directory) and a cache directory that is refused are the run's
    ``warnings``; neither changes the results."""
    files: list[Path] = []
    unreadable: list[FileResult] = []
    warnings: list[str] = []
    for item in discover([Path(p) for p in paths], config):
        if isinstance(item, Unreadable):
            unreadable.append(FileResult(str(item.path), error=item.reason))
        elif isinstance(item, Skipped):
            warnings.append(f"{item.path}: {item.reason}")
        else:
            files.append(item)
    roots = project_roots([Path(p) for p in paths])
    cache = None
    if cache_dir is not None and not fix:
        from initaudit.lint.run.cache import CacheRefused, ResultCache

        try:
            cache = ResultCache.open(cache_dir, config, roots)
        except CacheRefused as refused:
            warnings.append(str(refused))
    run_project = (os.urandom(16).hex(), roots) if project else None
    run = LintRun(unreadable + _lint_all(files, config, run_project, fix=fix, unsafe=unsafe_fixes, jobs=jobs,
                                         cache=cache, progress=progress), warnings=warnings)
    landings = share_fixes(run.results, run.warnings, config, run_project, _lint_task, fix=fix, unsafe=unsafe_fixes)
    if fix and write:
        run.fixed = _write_fixes(run.results)
    if fix:
        run.fixed += sum(landing.settle() for landing in landings if landing.helper.error is None)
    return run


def lint_paths(paths: Iterable[str | Path], config: Config | None = None, *, jobs: int | None = None,
               cache_dir: str | Path | None = None) -> LintRun:
    """Lint files and directories as ``initaudit check`` does (``jobs`` workers, default one per
    CPU; cached results only where ``cache_dir`` is given). ``.to_dict()`` is the command's JSON."""
    return run_lint(paths, config or Config(), jobs=jobs,
                    cache_dir=Path(cache_dir) if cache_dir is not None else None)


def lint_stdin(data: bytes, filename: str, config: Config, *, fix: bool = False,
               unsafe_fixes: bool = False) -> FileResult:
    """Check source read from standard input as the file ``filename`` (which need not exist:
    it decides per-file-ignores and whether it is a notebook). With ``force_exclude``, an
    excluded filename gives an empty result, as a run over that file would."""
    if config.force_exclude and force_excluded(Path(filename), config):
        return FileResult(filename, parsed=True)
    return _lint_task((filename, data, config, fix, unsafe_fixes, None))


def _lint_all(files: list[Path], config: Config, project: _Project | None, *, fix: bool, unsafe: bool,
              jobs: int | None, cache: ResultCache | None, progress: Progress | None = None) -> list[FileResult]:
    """Results in the order of ``files``: cached ones as they are, the rest checked in parallel.
    Each file is read once here; a worker gets its bytes with the task, and the run's id and
    project roots, within which it reads (and models once) the files that one imports."""
    results: list[FileResult | None] = [None] * len(files)
    keys: dict[int, str] = {}
    data: dict[int, bytes] = {}
    for index, file in enumerate(files):
        if cache is None:
            break
        try:
            data[index] = file.read_bytes()
        except OSError:
            continue  # the worker reports it
        keys[index] = cache.key(str(file), data[index])
        hit = cache.get(keys[index])
        if hit is not None and cache.unchanged(hit.reads):
            results[index] = cached_result(str(file), data.pop(index), hit.diagnostics, hit.parsed, config.extension,
                                           hit.uses)
    pending = [index for index, result in enumerate(results) if result is None]
    workers = min(jobs or os.cpu_count() or 1, max(len(pending) // 8, 1))
    if workers > 1:
        # Largest files first, in small chunks, so that no worker is still on a big file while
        # the others idle; results come back in the order of ``pending`` whatever that order is.
        pending.sort(key=lambda index: -_size(files[index]))
    tasks = [(str(files[index]), data.pop(index, None), config, fix, unsafe, project) for index in pending]
    with contextlib.ExitStack() as stack:
        checked: Iterable[FileResult] = map(_lint_task, tasks)
        if workers > 1:
            from initaudit.pool import run_in_processes  # not imported by cached runs

            chunksize = min(max(len(tasks) // (workers * 16), 1), 8)
            checked = stack.enter_context(contextlib.closing(
                run_in_processes(_lint_task, tasks, workers, chunksize, _crashed)))
        for done, (index, result) in enumerate(zip(pending, checked, strict=True), start=1):
            results[index] = result
            if progress is not None:
                progress(done, len(pending))
            # A file with notes is not cached: checked again, it says them again.
            if cache is not None and index in keys and result.error is None and not result.notes:
                cache.put(keys[index], result.diagnostics, result.parsed, result.reads, result.uses)
    if cache is not None:
        cache.save()
    return [result for result in results if result is not None]


_Task = tuple[str, "bytes | None", Config, bool, bool, "_Project | None"]


def _lint_task(task: _Task) -> FileResult:  # picklable top-level
    from initaudit.lint.model.project import project_for
    from initaudit.lint.run.engine import lint_file

    path, data, config, fix, unsafe, project = task
    if data is None:
        try:
            data = Path(path).read_bytes()
        except OSError as exc:
            return FileResult(path, error=f"cannot read: {exc.strerror or exc}")
    with collector_paused():
        result = lint_file(path, data, config, fix=fix, unsafe_fixes=unsafe,
                           project=project_for(*project) if project else None)
    if not result.diagnostics and result.fixed_text is None:
        result.source = None  # only reports and fixes read it: do not send it back
    return result


@contextlib.contextmanager
def collector_paused() -> Iterator[None]:
    """No cyclic garbage collection while one file is checked. Its syntax trees and model form no
    reference cycle and are freed as soon as it is done; while a parse is in progress every one
    of its nodes is alive, and the collector would scan them all again and again (a third of the
    time of a run over a large package)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _crashed(task: _Task) -> FileResult:
    return FileResult(task[0], error="the process checking this file died; file not checked")


def _size(file: Path) -> int:
    try:
        return file.stat().st_size
    except OSError:
        return 0


def _write_fixes(results: list[FileResult]) -> int:
    """Write each fixed file; a file that cannot be written keeps its reason in ``error`` and
    its findings as they still stand."""
    from initaudit.lint.fixes.apply import WriteRefused, write_fixed

    fixed = 0
    for result in results:
        if result.fixed_text is None or result.source is None:
            continue
        try:
            write_fixed(Path(result.path), result.read_digest, result.source.encode(result.fixed_text))
        except (OSError, WriteRefused, UnicodeError) as exc:
            result.error = _write_failure(exc)
            result.diagnostics, result.fixed_text, result.fixes_applied = result.unfixed_diagnostics, None, 0
            continue
        fixed += result.fixes_applied
    return fixed


def _write_failure(error: Exception) -> str:
    if isinstance(error, UnicodeError):
        return f"not fixed: the fixed text cannot be written in the file's encoding ({error})"
    if isinstance(error, OSError):
        return f"cannot write fixes: {error.strerror or error}"
    return str(error)


def _summary(results: list[FileResult], fixed: int) -> Summary:
    from initaudit.lint.files.markdown import Document
    from initaudit.lint.files.notebook import Notebook
    from initaudit.lint.files.source import split_lines
    from initaudit.lint.run.summary import Summary

    diagnostics = sorted((d for r in results for d in r.diagnostics),
                         key=lambda d: (d.path, d.cell or 0, d.line, d.column, d.code))
    lines = {}
    cell_lines = {}
    texts = {}
    notebook_files = {}
    boundaries = {}
    # Files that a fix edits from another file's diagnostic (an init helper's): the edit's text.
    edited = {edit.path for d in diagnostics if d.fix is not None for edit in d.fix.edits if edit.path is not None}
    for result in results:
        if result.path in edited and result.source is not None:
            texts[result.path] = result.fixed_text if result.fixed_text is not None else result.source.text
        if result.diagnostics and result.source is not None:
            text = result.fixed_text if result.fixed_text is not None else result.source.text
            texts[result.path] = text
            if isinstance(result.source, Document):  # its own lines, which its diagnostics count in
                texts[result.path] = result.source.written(text)
                lines[result.path] = split_lines(texts[result.path])
            elif isinstance(result.source, Notebook):
                cells = result.source.cell_lines(text)
                cell_lines.update(((result.path, cell), cells[cell]) for cell in cells)
                notebook_files[result.path] = _stored_text(result.path)
                boundaries[result.path] = result.source.boundary
            else:
                lines[result.path] = split_lines(text)
    return Summary(
        diagnostics=diagnostics,
        files=len(results),
        parsed=sum(1 for r in results if r.parsed),
        skipped=sum(1 for r in results if r.error is not None),
        lines=lines,
        cell_lines=cell_lines,
        fixed=fixed,
        texts=texts,
        notebook_files=notebook_files,
        boundaries=boundaries,
    )


def _stored_text(path: str) -> str:
    """A notebook as on disk (after any fix), for reports that point at lines of the file."""
    try:
        return Path(path).read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError):
        return ""
