"""Fixes that one file's findings share with another file: an init helper written in one checked
file and applied to models in others is reported at each applying call, and where every
application the run saw wants the same rewrite, that rewrite is offered there, its edit in the
helper's file, and with ``--fix --unsafe-fixes`` written there once."""

from __future__ import annotations

import os
from dataclasses import dataclass, replace
from itertools import pairwise
from pathlib import Path
from typing import Callable

from initaudit.config import Config
from initaudit.diagnostics import Applicability, Diagnostic, Edit, Fix
from initaudit.lint.files.reader import read_source
from initaudit.lint.files.source import SourceError, SourceText, line_starts
from initaudit.lint.fixes.apply import apply_edits, digest
from initaudit.lint.run.results import FileResult, InitUse

#: A run's unique id and the project roots of its paths.
Project = tuple[str, tuple[str, ...]]
#: Checks one file: (path, bytes, config, fix, unsafe fixes, project) -> its result.
Check = Callable[[tuple[str, "bytes | None", Config, bool, bool, "Project | None"]], FileResult]


@dataclass
class Landing:
    """A fix written in an init helper's file (already in its ``fixed_text``) and the findings
    at the calls applying the helper that it fixes."""

    helper: FileResult
    fixed: list[tuple[FileResult, Diagnostic]]

    def settle(self) -> int:
        """Once the helper's file is fixed: its appliers' findings are fixed too; how many."""
        for result, diagnostic in self.fixed:
            result.diagnostics = [d for d in result.diagnostics if d is not diagnostic]
            result.fixes_applied += 1
        return len(self.fixed)


#: An init operation's place: the rule, the file writing it, its range there (``InitUse.place``).
_Place = tuple[str, str, int, int, int, int]
#: Per helper's file, each edit offered there and the findings (file, diagnostic) carrying it.
_Offered = dict[int, tuple[FileResult, list[tuple[Edit, list[tuple[FileResult, Diagnostic]]]]]]


def share_fixes(results: list[FileResult], warnings: list[str], config: Config, project: Project | None,
                check: Check, *, fix: bool, unsafe: bool) -> list[Landing]:
    """A fix at an init operation written in one checked file and applied from others (a helper
    applied to models of other files), where every application of it the run saw wants the same
    rewrite: offered at each applying call whose finding relates that place, its edit in the
    helper's file; with ``fix`` and ``unsafe`` also applied there. Applications that disagree,
    or that the run could not all see, leave everything as it was."""
    if project is None or any(r.error is not None and not r.parsed for r in results):
        return []  # a file that was not analysed may apply any helper
    offered = _offer(results, config, fix=fix, unsafe=unsafe)
    return _land_all(warnings, offered, config, project, check) if fix and unsafe else []


def _offer(results: list[FileResult], config: Config, *, fix: bool, unsafe: bool) -> _Offered:
    """The places whose applications agree, their edit given to the findings relating them."""
    uses: dict[_Place, list[InitUse]] = {}
    checked = {os.path.abspath(result.path): result for result in results}
    for result in results:
        for use in result.uses:
            uses.setdefault(use.place, []).append(use)
    offered: _Offered = {}
    for place, found in _applying(results).items():
        group = uses.get(place, [])
        helper = checked.get(place[1])
        if helper is None or not group or {use.replacement for use in group} != {group[0].replacement} \
                or group[0].replacement is None or not _all_judged(results, helper, group[0], config):
            continue
        edit = _shared_edit(helper, group[0], results, config)
        if edit is None or (fix and helper.fixed_text is not None and not unsafe):
            continue  # the helper's own fixes, written without this one, would move its place
        shared = Fix(Applicability.UNSAFE, f"Replace with `{edit.text}` at {helper.path}:{group[0].line}", (edit,))
        fixed = []
        for result, diagnostic in found:
            if not any(d is diagnostic for d in result.diagnostics):
                continue  # it relates another place too, whose fix it took
            with_fix = replace(diagnostic, fix=shared)
            result.diagnostics = [with_fix if d is diagnostic else d for d in result.diagnostics]
            result.unfixed_diagnostics = [with_fix if d == diagnostic else d for d in result.unfixed_diagnostics]
            fixed.append((result, with_fix))
        offered.setdefault(id(helper), (helper, []))[1].append((edit, fixed))
    return offered


def _land_all(warnings: list[str], offered: _Offered, config: Config, project: Project,
              check: Check) -> list[Landing]:
    """Each helper's file with the edits offered there; where they cannot land, a warning, and
    the findings lose the fix (the file's own fixes may have moved the place)."""
    landings = []
    for helper, edits in offered.values():
        fixed = [pair for _, pairs in edits for pair in pairs]
        warning = _land(helper, [edit for edit, _ in edits], config, project, check)
        if warning is None:
            landings.append(Landing(helper, fixed))
            continue
        warnings.append(f"{helper.path}: {warning}")
        for result, with_fix in fixed:
            result.diagnostics = [replace(d, fix=None) if d is with_fix else d for d in result.diagnostics]
    return landings


def _all_judged(results: list[FileResult], helper: FileResult, use: InitUse, config: Config) -> bool:
    """Whether the rule ran on the helper's file and on every file whose analysis read it: the
    applications of the others are unknown."""
    return config.enabled(use.code, helper.path) and all(
        config.enabled(use.code, result.path) for result in results if use.file in result.reads)


def _applying(results: list[FileResult]) -> dict[_Place, list[tuple[FileResult, Diagnostic]]]:
    """The findings without a fix reported at a call that applies an init operation of another
    file (they relate its place), by that place."""
    found: dict[_Place, list[tuple[FileResult, Diagnostic]]] = {}
    for result in results:
        for diagnostic in result.diagnostics:
            if diagnostic.fix is not None:
                continue
            for place in diagnostic.related:
                key = (diagnostic.code, os.path.abspath(place.path), place.line, place.column - 1,
                       place.end_line, place.end_column - 1)
                found.setdefault(key, []).append((result, diagnostic))
    return found


def _shared_edit(helper: FileResult, use: InitUse, results: list[FileResult], config: Config) -> Edit | None:
    """The edit at ``use``'s place in the helper's text as the run read it; None where the file
    is no plain source file, or its bytes or that place's text are no longer what was analysed."""
    try:
        data = Path(helper.path).read_bytes()
        source = read_source(helper.path, data, config.extension)
    except (OSError, SourceError):
        return None
    now = digest(data)
    if type(source) is not SourceText or (helper.read_digest and helper.read_digest != now) \
            or any(result.reads.get(use.file, now) != now for result in results):
        return None
    starts = line_starts(source.text)
    if use.end_line > len(starts):
        return None
    start, end = starts[use.line - 1] + use.column, starts[use.end_line - 1] + use.end_column
    if source.text[start:end] != use.original:
        return None
    if helper.source is None:
        helper.source = source  # the text the edit's offsets count in, for reports and the diff
    assert use.replacement is not None
    return Edit(start, end, use.replacement, path=helper.path)


def _land(helper: FileResult, edits: list[Edit], config: Config, project: Project, check: Check) -> str | None:
    """Apply ``edits`` to the helper's text as read, then check it again with its own fixes on
    top (``helper.fixed_text``, ``diagnostics``); why not, where they cannot both land."""
    assert helper.source is not None
    not_applied = "the fix its init helpers' applications share was not applied"
    spans = sorted((edit.start, edit.end) for edit in edits)
    if any(end > start for (_, end), (start, _) in pairwise(spans)):
        return f"{not_applied}: its edits overlap"
    text = apply_edits(helper.source.text, [Edit(e.start, e.end, e.text) for e in edits])
    try:
        data = helper.source.encode(text)
    except UnicodeError:
        return f"{not_applied}: the file's encoding cannot hold it"
    again = check((helper.path, data, config, True, True, project))
    if again.error is not None or not again.parsed:
        return f"{not_applied}: {again.error or 'the fixed file does not parse'}"
    helper.fixed_text = again.fixed_text if again.fixed_text is not None else text
    helper.diagnostics, helper.fixes_applied = again.diagnostics, again.fixes_applied
    return None
