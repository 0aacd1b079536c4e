"""``initaudit server``: a language server for editors (on pygls), over stdio.

It lints the editor's buffer as it is, unsaved changes included, when a Python document is
opened, changed or saved, and publishes the findings as diagnostics. Each finding with a fix is
offered as a quick fix (``--fix``'s edits; an unsafe fix says so in its title); asked for
``source.fixAll``, the server offers every safe fix at once: the buffer ``initaudit check --fix``
would make. A document inside the workspace gets the settings ``initaudit check`` would use for
it; any other document, the defaults.

The server reads no document from disk: it knows the documents the client opened, with the text
the client sent, and answers nothing about any other. Frames are read by
:mod:`initaudit.server_frames`, positions counted by :mod:`initaudit.server_text`.

Only the ``server`` command imports this module: pygls is an optional dependency
(``pip install 'initaudit[lsp]'``).
"""

from __future__ import annotations

import asyncio
import logging
import os
import sys
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, cast

from lsprotocol import types
from pygls.io_ import StdoutWriter
from pygls.lsp.server import LanguageServer
from pygls.uris import to_fs_path

from initaudit import __version__
from initaudit.catalogue import entries
from initaudit.config import Config, load_config
from initaudit.diagnostics import Applicability, Diagnostic, Severity
from initaudit.lint.engine import check_text, fix_text
from initaudit.server_frames import FrameReader, FramedProtocol, read_messages
from initaudit.server_text import Buffer

SOURCE = "initaudit"
FIX_ALL = f"{types.CodeActionKind.SourceFixAll.value}.initaudit"
_SEVERITY = {Severity.ERROR: types.DiagnosticSeverity.Error, Severity.WARNING: types.DiagnosticSeverity.Warning,
             Severity.INFO: types.DiagnosticSeverity.Information}
_SYNC = (types.TEXT_DOCUMENT_DID_OPEN, types.TEXT_DOCUMENT_DID_CHANGE, types.TEXT_DOCUMENT_DID_CLOSE)
log = logging.getLogger(__name__)


class _Protocol(FramedProtocol):
    """Without pygls's own copy of each document, which splits lines where LSP does not and
    reads a document it was never sent from disk: the server keeps the documents itself."""

    def _register_builtin_features(self) -> None:
        super()._register_builtin_features()
        for method in _SYNC:
            del self.fm.builtin_features[method]


@dataclass
class Linted:
    """The findings for one text of a document, and what its safe fixes make of it."""

    text: str
    diagnostics: list[Diagnostic]
    fixed: str | None = None  # computed when first asked for


class InitauditServer(LanguageServer):
    def __init__(self) -> None:
        super().__init__("initaudit", __version__, protocol_cls=_Protocol)
        self.documents: dict[str, Buffer] = {}
        self.linted: dict[str, Linted] = {}

    def open(self, document: types.TextDocumentItem) -> None:
        try:
            encoding = self.workspace.position_encoding or types.PositionEncodingKind.Utf16
        except RuntimeError:  # opened before initialisation: the protocol's default
            encoding = types.PositionEncodingKind.Utf16
        self.documents[document.uri] = Buffer(document.text, document.version, encoding)

    def findings(self, uri: str) -> Linted:
        """The findings for the document's current text: computed again whenever that text is
        not the one they were computed for, so that no fix is offered at a stale position."""
        text = self.documents[uri].text
        linted = self.linted.get(uri)
        if linted is None or linted.text != text:
            path = _path(uri)
            linted = self.linted[uri] = Linted(text, _check(path, text, self.settings(path)))
        return linted

    def fixed(self, uri: str) -> str:
        linted = self.findings(uri)
        if linted.fixed is None:
            path = _path(uri)
            linted.fixed = _fix(path, linted.text, self.settings(path))
        return linted.fixed

    def publish(self, uri: str) -> None:
        buffer = self.documents[uri]
        found = self.findings(uri).diagnostics
        self.text_document_publish_diagnostics(types.PublishDiagnosticsParams(
            uri=uri, version=buffer.version, diagnostics=[_to_lsp(buffer, d) for d in found]))

    def settings(self, path: str) -> Config:
        if not self._in_workspace(path):
            return Config()
        try:
            return load_config(None, Path(path))
        except Exception as error:  # a bad settings file, or a path the search cannot follow
            log.warning("initaudit: %s; using the default settings", error)
            return Config()

    def _in_workspace(self, path: str) -> bool:
        try:
            workspace = self.workspace
        except RuntimeError:  # not initialised: no workspace yet
            return False
        uris = [folder.uri for folder in workspace.folders.values()] + [workspace.root_uri]
        roots = [os.path.realpath(root) for uri in uris if uri and (root := to_fs_path(uri))]
        return os.path.isabs(path) and any(Path(os.path.realpath(path)).is_relative_to(root) for root in roots)

    def start_io(self, stdin: BinaryIO | None = None, stdout: BinaryIO | None = None) -> None:
        """pygls's stdio loop, with frames read by :class:`FrameReader`."""
        self._stop_event = threading.Event()
        self.protocol.set_writer(StdoutWriter(stdout or sys.stdout.buffer))
        reader = FrameReader(stdin or sys.stdin.buffer)
        try:
            asyncio.run(read_messages(cast(_Protocol, self.protocol), reader, self._stop_event, self.thread_pool))
        except BrokenPipeError:
            log.error("initaudit server: the client closed the connection")
        except KeyboardInterrupt:
            pass
        finally:
            self.shutdown()


server = InitauditServer()


@server.feature(types.TEXT_DOCUMENT_DID_OPEN)
def did_open(ls: InitauditServer, params: types.DidOpenTextDocumentParams) -> None:
    ls.open(params.text_document)
    ls.publish(params.text_document.uri)


@server.feature(types.TEXT_DOCUMENT_DID_CHANGE)
def did_change(ls: InitauditServer, params: types.DidChangeTextDocumentParams) -> None:
    uri = params.text_document.uri
    buffer = ls.documents.get(uri)
    if buffer is None:
        log.warning("initaudit server: a change to %s, which is not open, ignored", uri)
        return
    for change in params.content_changes:
        buffer.change(change)
    buffer.version = params.text_document.version
    ls.publish(uri)


@server.feature(types.TEXT_DOCUMENT_DID_SAVE)
def did_save(ls: InitauditServer, params: types.DidSaveTextDocumentParams) -> None:
    uri = params.text_document.uri
    if uri in ls.documents:
        ls.linted.pop(uri, None)  # the settings may have changed
        ls.publish(uri)


@server.feature(types.TEXT_DOCUMENT_DID_CLOSE)
def did_close(ls: InitauditServer, params: types.DidCloseTextDocumentParams) -> None:
    uri = params.text_document.uri
    ls.documents.pop(uri, None)
    ls.linted.pop(uri, None)
    ls.text_document_publish_diagnostics(types.PublishDiagnosticsParams(uri=uri, diagnostics=[]))


@server.feature(types.TEXT_DOCUMENT_CODE_ACTION,
                types.CodeActionOptions(code_action_kinds=[types.CodeActionKind.QuickFix, FIX_ALL]))
def code_action(ls: InitauditServer, params: types.CodeActionParams) -> list[types.CodeAction]:
    uri = params.text_document.uri
    buffer = ls.documents.get(uri)
    if buffer is None:
        return []
    fixable = [d for d in ls.findings(uri).diagnostics if d.fix is not None and d.fix.edits]
    actions = []
    if _wanted(params.context.only, types.CodeActionKind.QuickFix):
        for finding in fixable:
            diagnostic = _to_lsp(buffer, finding)
            if _overlaps(diagnostic.range, params.range):
                actions.append(_quick_fix(buffer, uri, finding, diagnostic))
    # Offered only when asked for by kind (on save, from a source menu): it costs a run of --fix.
    asked = params.context.only is not None and _wanted(params.context.only, FIX_ALL)
    if asked and any(d.fix is not None and d.fix.applicability is Applicability.SAFE for d in fixable):
        fixed = ls.fixed(uri)
        if fixed != buffer.text:
            actions.append(types.CodeAction(title="initaudit: apply every safe fix", kind=FIX_ALL,
                                            edit=types.WorkspaceEdit(changes={uri: [_replacement(buffer, fixed)]})))
    return actions


def _quick_fix(buffer: Buffer, uri: str, finding: Diagnostic, diagnostic: types.Diagnostic) -> types.CodeAction:
    assert finding.fix is not None
    safe = finding.fix.applicability is Applicability.SAFE
    edits = [types.TextEdit(range=types.Range(start=buffer.position(edit.start), end=buffer.position(edit.end)),
                            new_text=edit.text) for edit in finding.fix.edits]
    return types.CodeAction(
        title=f"{finding.code}: {finding.fix.message}" + ("" if safe else " (unsafe fix)"),
        kind=types.CodeActionKind.QuickFix,
        diagnostics=[diagnostic],
        is_preferred=safe,
        edit=types.WorkspaceEdit(changes={uri: edits}),
    )


def _path(uri: str) -> str:
    return to_fs_path(uri) or uri


def _check(path: str, text: str, config: Config) -> list[Diagnostic]:
    if path.endswith(".ipynb"):
        return []  # a notebook's cells arrive as notebook documents, which this server does not take
    try:
        diagnostics, _ = check_text(path, text, config)
    except Exception as error:  # a bug or a pathological buffer (RecursionError): log it, go on
        log.error("initaudit: cannot check %s: %s: %s", path, type(error).__name__, error)
        return []
    return diagnostics


def _fix(path: str, text: str, config: Config) -> str:
    try:
        return fix_text(path, text, config)
    except Exception as error:  # as for _check: the buffer is then left as it is
        log.error("initaudit: cannot fix %s: %s: %s", path, type(error).__name__, error)
        return text


def _replacement(buffer: Buffer, new: str) -> types.TextEdit:
    """One edit that turns the buffer's text into ``new``: the part between what the two share at
    their start and at their end, widened where it would split a ``\\r\\n``."""
    old = buffer.text
    start = _shared_prefix(old, new)
    kept = _shared_prefix(old[start:][::-1], new[start:][::-1])  # shared at the end
    end = len(old) - kept
    if buffer.splits_line_break(start):
        start -= 1
    if buffer.splits_line_break(end):
        end, kept = end + 1, kept - 1
    return types.TextEdit(range=types.Range(start=buffer.position(start), end=buffer.position(end)),
                          new_text=new[start:len(new) - kept])


def _shared_prefix(a: str, b: str) -> int:
    """The length of the longest common prefix, found by comparing slices (not characters)."""
    low, high = 0, min(len(a), len(b))
    while low < high:
        middle = (low + high + 1) // 2
        if a[:middle] == b[:middle]:
            low = middle
        else:
            high = middle - 1
    return low


def _to_lsp(buffer: Buffer, d: Diagnostic) -> types.Diagnostic:
    start = buffer.position(buffer.offset_of(d.line, d.column))
    end = buffer.position(buffer.offset_of(d.end_line, d.end_column))
    entry = entries().get(d.code)
    return types.Diagnostic(
        range=types.Range(start=start, end=end),
        severity=_SEVERITY[d.severity],
        code=d.code,
        code_description=types.CodeDescription(href=entry.url) if entry is not None else None,
        source=SOURCE,
        message=f"{d.message} [{d.name}]",
    )


def _wanted(only: list[str] | None, kind: str) -> bool:
    """Whether the client asks for actions of ``kind`` (``only`` names kinds or their parents)."""
    return only is None or any(kind == asked or kind.startswith(f"{asked}.") for asked in only)


def _overlaps(a: types.Range, b: types.Range) -> bool:
    def key(position: types.Position) -> tuple[int, int]:
        return position.line, position.character

    return key(a.start) <= key(b.end) and key(b.start) <= key(a.end)


def serve() -> None:
    server.start_io()
