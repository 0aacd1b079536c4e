"""Linting: a pure function of (path, source bytes, config) -> diagnostics, plus fixing.

The CLI, the pre-commit hook and the Python API all go through :func:`lint_file`.
"""

from __future__ import annotations

import ast
import dataclasses
import os
import re
from pathlib import Path
from typing import TYPE_CHECKING, Callable

import libcst as cst

from initaudit.config import Config
from initaudit.diagnostics import Diagnostic, RelatedLocation, Severity
from initaudit.lint.files.markdown import Document
from initaudit.lint.files.notebook import Notebook
from initaudit.lint.files.prefilter import (
    builds_layer_in_forward,
    has_own_suppression,
    may_have_findings,
    without_strings,
)
from initaudit.lint.files.reader import read_source
from initaudit.lint.files.source import (
    SourceError,
    SourceText,
    compiles,
    grammar_check,
    line_starts,
    syntax_error,
)
from initaudit.lint.fixes.apply import apply_fixes, digest
from initaudit.lint.model.file_model import FileModel
from initaudit.lint.parse.nesting import (
    NotAnalysed,
    check_depth,
    on_deep_stack,
    shallow_text,
)
from initaudit.lint.parse.reparse import PiecedPositions, Reparser
from initaudit.lint.parse.indentation import ExpandedColumns
from initaudit.lint.parse.screen import may_initialise
from initaudit.lint.parse.suppression import Suppressions, parse_suppressions
from initaudit.lint.parse.tree import parse_module
from initaudit.lint.rules import (
    KNOWN_CODES,
    RULES,
    SYNTAX_ERROR,
    UNUSED_NOQA,
    Finding,
    Rule,
)
from initaudit.lint.rules.base import Applied
from initaudit.lint.rules.unused_noqa import unused_codes
from initaudit.lint.run.results import FileResult, InitUse

if TYPE_CHECKING:
    from initaudit.lint.model.project import Links, Project

_MAX_FIX_ROUNDS = 10
#: Text -> its module and, where already known, its nodes' positions.
Parse = Callable[[str], tuple[cst.Module, "PiecedPositions | None"]]
#: The interpreter's limits (nesting, counts), which every Python version has.
_LIMIT = re.compile(r"too many|too deeply|too complex|nested too deeply", re.IGNORECASE)


def _parse_whole(text: str) -> tuple[cst.Module, PiecedPositions | None]:
    return parse_module(text), None


def _parser(reparser: Reparser | None, tree: ast.Module | None) -> Parse:
    if reparser is None:
        return _parse_whole
    return lambda text: reparser.parse(text, tree)


def lint_file(path: str, data: bytes, config: Config, *, fix: bool = False,
              unsafe_fixes: bool = False, prefilter: bool = True,
              project: Project | None = None) -> FileResult:
    """Check one file's bytes. Never raises for bad input: problems become IA000 or ``error``.

    A notebook (``.ipynb``) is checked as the virtual text of its code cells; its diagnostics
    then carry the cell and the line within it. A Markdown or reST document is checked the same
    way, its Python blocks as cells, its diagnostics at its own lines. With a ``project``, names
    imported from its other files are known (``result.reads`` lists the files read for them).
    """
    result = FileResult(path, read_digest=digest(data) if fix else "")
    try:
        result.source = read_source(path, data, config.extension)
    except SourceError as exc:
        result.diagnostics = _syntax_diagnostics(path, exc, config)
        return result
    if isinstance(result.source, Document):
        result.notes = result.source.notes
    writable = not fix or _writes_back(result.source, data)
    links = None
    if project is not None and not isinstance(result.source, Notebook):
        from initaudit.lint.model.project import Links

        links = Links(project, Path(os.path.abspath(path)), result.source.text)
    kept = len(result.notes)
    _check_source(result, result.source.text, config, fix and writable, unsafe_fixes, prefilter, links)
    if isinstance(result.source, Notebook):  # the analysis counts lines in the joined cells
        result.notes[kept:] = [(1, message) for _, message in result.notes[kept:]]
    if links is not None:
        result.reads, result.uses = links.reads(), links.uses
    if isinstance(result.source, Notebook) and result.error is None:
        _locate_in_cells(result, result.source)
    if not writable and result.error is None:
        result.error = ("not fixed: writing it back would change bytes that no fix touches (its "
                        "encoding or its notebook layout does not round-trip)")
    return result


def _check_source(result: FileResult, text: str, config: Config, fix: bool, unsafe_fixes: bool,
                  prefilter: bool, links: Links | None = None, reparser: Reparser | None = None) -> None:
    """The interpreter decides whether the file is valid Python (IA000 iff its grammar rejects
    it); valid code that libcst cannot take is reported as not analysed, never as IA000."""
    path = result.path
    if prefilter and not may_have_findings(text) and not (links is not None and links.calls_initialiser(text)):
        error = syntax_error(text, path)
        if error is not None and _newer_syntax(text, error):
            error = None
        result.parsed = error is None
        result.diagnostics = [] if error is None else _syntax_diagnostics(path, error, config)
        return
    error, tree = grammar_check(text, path)
    if error is not None and not _may_be_newer_syntax(text, error):
        result.diagnostics = _syntax_diagnostics(path, error, config)
        return
    notes: list[tuple[int, str]] = []
    try:
        if tree is not None:
            check_depth(tree)
            if prefilter and not _worth_analysing(text, tree, links):
                result.parsed, result.diagnostics = True, []
                return
        unfixed, diagnostics, fixed_text, fixes_applied = on_deep_stack(
            lambda: _analyse_and_fix(path, text, config, fix, unsafe_fixes, links, notes,
                                     _parser(reparser, tree)))
    except NotAnalysed as exc:
        if error is not None:  # libcst rejects it too: not newer syntax, just invalid
            result.diagnostics = _syntax_diagnostics(path, error, config)
        else:
            result.error = str(exc)
        return
    except FixRejected as exc:
        result.error = str(exc)
        return
    except RecursionError:
        result.error = "not analysed: too deeply nested"
        return
    except Exception as exc:  # a bug in a rule must not stop the run
        result.error = f"internal error: {type(exc).__name__}: {exc}"
        return
    result.parsed = True
    result.diagnostics = diagnostics
    result.notes = [*result.notes, *notes]
    if fix:
        result.unfixed_diagnostics = unfixed
    if fixes_applied:
        result.fixed_text, result.fixes_applied = fixed_text, fixes_applied


def _worth_analysing(text: str, tree: ast.Module, links: Links | None) -> bool:
    """The text prefilter asked again of the syntax tree, which tells ``init`` the module from
    ``init`` a variable, and a copy of a tensor from a copy of a fresh one."""
    return (may_initialise(tree) or has_own_suppression(text)
            or ("forward" in text and builds_layer_in_forward(without_strings(text)))
            or (links is not None and links.calls_initialiser(text)))


def _writes_back(source: SourceText | Notebook, data: bytes) -> bool:
    """Whether the unchanged text encodes back to the very bytes read (``unicode_escape`` and
    ``idna`` cookies do not, nor a notebook with duplicate keys)."""
    try:
        return source.encode(source.text) == data
    except (UnicodeError, ValueError):
        return False


def _may_be_newer_syntax(text: str, error: SourceError) -> bool:
    """Rejected by this interpreter's grammar, but not for one of its limits, and shallow enough
    to hand to libcst, which decides: code for a newer Python (``type X = ...`` under 3.11)."""
    return not _LIMIT.search(error.message) and shallow_text(text)


def _newer_syntax(text: str, error: SourceError) -> bool:
    """Code for a newer Python than the one running, read by libcst."""
    return _may_be_newer_syntax(text, error) and on_deep_stack(lambda: _cst_parses(text))


def _cst_parses(text: str) -> bool:
    try:
        parse_module(text)
    except cst.ParserSyntaxError:
        return False
    return True


def _analyse_and_fix(path: str, text: str, config: Config, fix: bool, unsafe: bool, links: Links | None = None,
                     notes: list[tuple[int, str]] | None = None, parse: Parse = _parse_whole,
                     ) -> tuple[list[Diagnostic], list[Diagnostic], str, int]:
    """Diagnostics before and after fixing, the fixed text and how many fixes it took; ``notes``
    gains what the analysis of the text as read left out."""
    diagnostics = _analyse(path, text, config, links, notes, parse)
    if not fix:
        return diagnostics, diagnostics, text, 0
    fixed_text, fixed_diagnostics, applied = _fix(path, text, diagnostics, config, unsafe, links)
    return diagnostics, fixed_diagnostics, fixed_text, applied


def _locate_in_cells(result: FileResult, notebook: Notebook) -> None:
    found_in = notebook
    if isinstance(notebook, Document) and result.fixed_text is not None:
        found_in = notebook.fixed(result.fixed_text)  # a fix may have moved the document's lines
    result.diagnostics = found_in.locate(result.diagnostics)
    result.unfixed_diagnostics = notebook.locate(result.unfixed_diagnostics)
    if result.fixed_text is None:
        return
    try:
        notebook.cell_sources(result.fixed_text)
    except ValueError as exc:
        result.error = f"{exc}; file left unchanged"
        result.fixed_text, result.fixes_applied = None, 0


def check_text(path: str, text: str, config: Config,
               reparser: Reparser | None = None) -> tuple[list[Diagnostic], bool]:
    """Diagnostics for decoded text (an editor's buffer), and whether it parsed. Raises
    RuntimeError, with the reason, for text that could not be analysed. ``reparser``: the one
    that parsed the buffer's earlier versions, to reuse what they share with this one."""
    result = FileResult(path)
    _check_source(result, text, config, fix=False, unsafe_fixes=False, prefilter=False, reparser=reparser)
    if result.error is not None:
        raise RuntimeError(result.error)
    return result.diagnostics, result.parsed


def fix_text(path: str, text: str, config: Config) -> str:
    """Decoded text with the safe fixes ``--fix`` would apply, round after round (an editor's
    fix-all). Raises RuntimeError, with the reason, for text that could not be analysed or that
    its fixes would break."""
    result = FileResult(path)
    _check_source(result, text, config, fix=True, unsafe_fixes=False, prefilter=False)
    if result.error is not None:
        raise RuntimeError(result.error)
    return text if result.fixed_text is None else result.fixed_text


def _analyse(path: str, text: str, config: Config, links: Links | None = None,
             notes: list[tuple[int, str]] | None = None, parse: Parse = _parse_whole) -> list[Diagnostic]:
    """Diagnostics for text the interpreter accepts; ``notes`` gains what the analysis left out
    (``lint/model/bounds.py``)."""
    try:
        module, positions = parse(text)
    except cst.ParserSyntaxError as exc:
        expanded = ExpandedColumns(text)
        try:
            if not expanded.changed or syntax_error(text, path) is not None:
                raise  # no tab to expand, or one the interpreter rejects too (TabError)
            module = parse_module(expanded.text)
        except cst.ParserSyntaxError:
            reason = " ".join(exc.message.split())
            raise NotAnalysed(f"not analysed: valid Python that libcst cannot parse ({reason})") from None
        # Analysed with its indentation's tabs expanded: the findings' columns are moved back,
        # and their fixes, written for the expanded text, are left out.
        return [dataclasses.replace(found, column=expanded.column(found.line, found.column),
                                    end_column=expanded.column(found.end_line, found.end_column), fix=None)
                for found in _diagnostics(path, module, expanded.text, None, config, links, notes)]
    return _diagnostics(path, module, text, positions, config, links, notes)


def _diagnostics(path: str, module: cst.Module, text: str, positions: PiecedPositions | None, config: Config,
                 links: Links | None, notes: list[tuple[int, str]] | None) -> list[Diagnostic]:
    model = FileModel(module, text, links, positions=positions)
    if notes is not None:
        notes.extend(model.notes())
    suppressions = parse_suppressions(text)
    diagnostics = []
    for rule in RULES:
        if rule in (SYNTAX_ERROR, UNUSED_NOQA) or not config.enabled(rule.info.code, path):
            continue
        for finding in rule.check(model):
            if isinstance(finding, Applied):
                if links is not None:
                    links.uses.append(_use(path, model, rule, finding))
                continue
            if model.location(finding.node) is not None:
                continue  # written in another file, reported there
            if id(finding.node) in model.imported_sites:
                # Reported at the call of another file's function: the fix belongs in that file.
                finding = dataclasses.replace(finding, fix=None)
            diagnostic = _diagnostic(path, model, rule, finding)
            if not suppressions.suppresses(diagnostic.code, (diagnostic.line, diagnostic.end_line)):
                diagnostics.append(diagnostic)
    if config.enabled(UNUSED_NOQA.info.code, path):
        diagnostics += _unused_noqa(path, text, suppressions, config)
    # The message breaks ties: two findings of one rule at one place keep one order on every run.
    return sorted(set(diagnostics), key=lambda d: (*d.sort_key, d.message))


def _unused_noqa(path: str, text: str, suppressions: Suppressions, config: Config) -> list[Diagnostic]:
    """IA100 for the directives whose initaudit codes suppressed nothing this run."""
    info, starts = UNUSED_NOQA.info, line_starts(text)
    found = []
    for directive, message, fix in unused_codes(text, suppressions, KNOWN_CODES,
                                                lambda code: config.enabled(code, path)):
        if suppressions.suppresses(info.code, (directive.line,)):
            continue
        column = directive.start - starts[directive.line - 1] + 1
        found.append(Diagnostic(path=path, line=directive.line, column=column, end_line=directive.line,
                                end_column=column + directive.end - directive.start, code=info.code,
                                name=info.name, severity=info.severity, message=message, fix=fix))
    return found


def _diagnostic(path: str, model: FileModel, rule: Rule, finding: Finding) -> Diagnostic:
    span = model.position(finding.node)
    return Diagnostic(
        related=_related(path, model, finding),
        path=path,
        line=span.start.line,
        column=span.start.column + 1,
        end_line=span.end.line,
        end_column=span.end.column + 1,
        code=rule.info.code,
        name=rule.info.name,
        severity=finding.severity or rule.info.severity,
        message=_naming_related(model, finding),
        fix=finding.fix,
    )


def _use(path: str, model: FileModel, rule: Rule, applied: Applied) -> InitUse:
    """The application as plain data: the operation's place in the file that writes it."""
    written = applied.op.as_written
    span = model.position(written)
    return InitUse(code=rule.info.code, file=os.fspath(model.written_file(written) or os.path.abspath(path)),
                   line=span.start.line, column=span.start.column, end_line=span.end.line,
                   end_column=span.end.column, original=model.source(written), replacement=applied.replacement)


def _naming_related(model: FileModel, finding: Finding) -> str:
    """The message, naming each related place of another file it does not name yet:
    ``... (written at utils/init.py:5)``, as IA103 names an imported helper's init."""
    message = finding.message
    for node, _ in finding.related:
        location = model.location(node)
        if location is not None and location not in message:
            message += f" (written at {location})"
    return message


def _related(path: str, model: FileModel, finding: Finding) -> tuple[RelatedLocation, ...]:
    """The places of ``finding.related`` written in other project files (an imported helper's
    init line), their paths written as ``path`` is: absolute, or relative to the working directory."""
    found = []
    for node, message in finding.related:
        other = model.written_file(node)
        if other is None:
            continue
        span = model.position(node)
        shown = os.fspath(other) if os.path.isabs(path) else _relative(other, path.startswith(os.pardir))
        location = RelatedLocation(path=shown, line=span.start.line, column=span.start.column + 1,
                                   end_line=span.end.line, end_column=span.end.column + 1, message=message)
        if location not in found:
            found.append(location)
    return tuple(found)


def _relative(path: Path, outside: bool) -> str:
    """``path`` relative to the working directory, named either way (resolved or not); absolute
    where it lies outside it (unless ``outside``: the checked file's path leads out of it too)
    or on another drive."""
    for base in (os.getcwd(), os.path.realpath(os.getcwd())):
        try:
            relative = os.path.relpath(path, base)
        except ValueError:
            continue
        if outside or (relative != os.pardir and not relative.startswith(os.pardir + os.sep)):
            return relative
    return os.fspath(path)


def _syntax_diagnostics(path: str, error: SourceError, config: Config) -> list[Diagnostic]:
    info = SYNTAX_ERROR.info
    if not config.enabled(info.code, path):
        return []
    return [Diagnostic(path=path, line=error.line, column=error.column, end_line=error.line,
                       end_column=error.column + 1, code=info.code, name=info.name,
                       severity=Severity.ERROR, message=error.message)]


def _fix(path: str, text: str, diagnostics: list[Diagnostic], config: Config,
         unsafe: bool, links: Links | None = None) -> tuple[str, list[Diagnostic], int]:
    """Apply fixes round after round until none applies; every round must still parse, and code
    the interpreter compiled must still compile (a rename could break a scope rule)."""
    original, total = text, 0
    # Code for a newer Python is held to libcst's grammar (``_analyse``), the rest to this one's.
    interpreter_grammar = grammar_check(original, path)[0] is None
    for _ in range(_MAX_FIX_ROUNDS):
        new_text, applied = apply_fixes(text, diagnostics, unsafe)
        if not applied or new_text == text:
            break
        if interpreter_grammar and grammar_check(new_text, path)[0] is not None:
            raise FixRejected("a fix produced code that does not parse; file left unchanged")
        new_links = None if links is None else dataclasses.replace(links, text=new_text, _resolved={}, _read=set())
        new_diagnostics = _analyse(path, new_text, config, new_links)
        text, diagnostics, total = new_text, new_diagnostics, total + applied
    if total and not compiles(text, path) and compiles(original, path):
        raise FixRejected("a fix produced code that does not compile; file left unchanged")
    return text, diagnostics, total


class FixRejected(Exception):
    """The fixes of a file would break it; the message says how (one line)."""


def lint_source(code: str | bytes, path: str = "<string>", config: Config | None = None) -> list[Diagnostic]:
    """Diagnostics for one piece of source code (the editor and test entry point)."""
    data = code.encode("utf-8") if isinstance(code, str) else code
    result = lint_file(path, data, config or Config())
    if result.error is not None:
        raise RuntimeError(result.error)
    return result.diagnostics
