"""``initaudit server``: a language server for editors (on pygls), over stdio.

It checks the editor's buffer as it is, unsaved changes included, when a Python document or a
notebook (LSP 3.17 notebook documents) is opened, changed or saved, and publishes the findings
as diagnostics. Each finding with a fix is offered as a quick fix (``--fix``'s edits; an unsafe
fix says so in its title); asked for ``source.fixAll``, the server offers every safe fix at once:
the buffer ``initaudit check --fix`` would make. A document inside the workspace gets the
settings ``initaudit check`` would use for it; any other document, the defaults.

Checks run on a worker thread (:mod:`initaudit.server_lint`), never on the thread that reads the
client's messages, and only for the newest text of a document. The server reads no document from
disk: it knows the documents the client opened, with the text the client sent, and answers
nothing about any other. Frames are read by :mod:`initaudit.server_frames`, documents kept by
:mod:`initaudit.server_documents`, settings looked up by :mod:`initaudit.server_settings`.

Only the ``server`` command imports this module: pygls is an optional dependency
(``pip install 'initaudit[lsp]'``).
"""

from __future__ import annotations

import asyncio
import logging
import sys
import threading
from collections.abc import Sequence
from typing import BinaryIO, cast

from lsprotocol import types
from pygls.exceptions import JsonRpcContentModified
from pygls.io_ import StdoutWriter
from pygls.lsp.server import LanguageServer
from pygls.uris import to_fs_path

from initaudit import __version__
from initaudit.diagnostics import Applicability, Diagnostic
from initaudit.server_documents import Document, Edits, NotebookDocument, TextDocument, lsp_diagnostic
from initaudit.server_frames import FrameReader, FramedProtocol, read_messages
from initaudit.server_lint import Linted, Linter
from initaudit.server_settings import Settings

FIX_ALL = f"{types.CodeActionKind.SourceFixAll.value}.initaudit"
#: Kept by the server itself (:mod:`initaudit.server_documents`), not by pygls.
_SYNC = (types.TEXT_DOCUMENT_DID_OPEN, types.TEXT_DOCUMENT_DID_CHANGE, types.TEXT_DOCUMENT_DID_CLOSE,
         types.NOTEBOOK_DOCUMENT_DID_OPEN, types.NOTEBOOK_DOCUMENT_DID_CHANGE, types.NOTEBOOK_DOCUMENT_DID_CLOSE)
_NOTEBOOKS = types.NotebookDocumentSyncOptions(notebook_selector=[types.NotebookDocumentFilterWithNotebook(
    notebook="jupyter-notebook", cells=[types.NotebookCellLanguage(language="python")])])
log = logging.getLogger(__name__)


class _Protocol(FramedProtocol):
    """Without pygls's own copy of each document, which splits lines where LSP does not and
    reads a document it was never sent from disk: the server keeps the documents itself."""

    def _register_builtin_features(self) -> None:
        super()._register_builtin_features()
        for method in _SYNC:
            del self.fm.builtin_features[method]


class InitauditServer(LanguageServer):
    def __init__(self) -> None:
        super().__init__("initaudit", __version__, protocol_cls=_Protocol, notebook_document_sync=_NOTEBOOKS)
        self.documents: dict[str, Document] = {}
        self._reader: FrameReader | None = None
        self.linter: Linter[Document] = Linter(self.publish, unread=self._unread)
        self.settings = Settings(self._roots, self._show_error)

    @property
    def encoding(self) -> str:
        return self.workspace.position_encoding or types.PositionEncodingKind.Utf16

    def open(self, document: Document) -> None:
        self.documents[document.uri] = document
        self.check(document)

    def check(self, document: Document) -> None:
        """Check what the document now is: its text changed, or its settings."""
        document.revision += 1
        self.linter.schedule(document, self.settings.of(document.path))

    def close(self, uri: str) -> None:
        document = self.documents.pop(uri, None)
        if document is not None:
            self.linter.forget(document)
            self.clear(list(document.buffers()))

    def clear(self, uris: list[str]) -> None:
        for uri in uris:
            self.text_document_publish_diagnostics(types.PublishDiagnosticsParams(uri=uri, diagnostics=[]))

    def settings_changed(self) -> None:
        self.settings.changed()
        for document in self.documents.values():
            self.check(document)

    def owner(self, uri: str) -> Document | None:
        """The document that ``uri`` is, or the notebook it is a cell of."""
        return self.documents.get(uri) or next(
            (d for d in self.documents.values() if isinstance(d, NotebookDocument) and uri in d.buffers()), None)

    def publish(self, document: Document, linted: Linted) -> None:
        buffers = document.buffers()
        found: dict[str, list[types.Diagnostic]] = {uri: [] for uri in buffers}  # a cell without any: cleared
        for uri, finding in document.located(linted):
            found[uri].append(lsp_diagnostic(buffers[uri], finding))
        for uri, diagnostics in found.items():
            self.text_document_publish_diagnostics(types.PublishDiagnosticsParams(
                uri=uri, version=buffers[uri].version, diagnostics=diagnostics))

    def _unread(self) -> bool:
        return self._reader is not None and self._reader.pending()

    def _roots(self) -> list[str]:
        workspace = self.workspace
        uris = [folder.uri for folder in workspace.folders.values()] + [workspace.root_uri]
        return [root for uri in uris if uri and (root := to_fs_path(uri))]

    def _show_error(self, message: str) -> None:
        self.window_show_message(types.ShowMessageParams(type=types.MessageType.Error, message=message))

    def start_io(self, stdin: BinaryIO | None = None, stdout: BinaryIO | None = None) -> None:
        """pygls's stdio loop, with frames read by :class:`FrameReader`."""
        self._stop_event = threading.Event()
        self.protocol.set_writer(StdoutWriter(stdout or sys.stdout.buffer))
        reader = self._reader = FrameReader(stdin or sys.stdin.buffer)
        try:
            asyncio.run(read_messages(cast(_Protocol, self.protocol), reader, self._stop_event, self.thread_pool))
        except BrokenPipeError:
            log.error("initaudit server: the client closed the connection")
        except KeyboardInterrupt:
            pass
        finally:
            self.linter.shutdown()
            self.shutdown()


server = InitauditServer()


@server.feature(types.INITIALIZED)
def initialized(ls: InitauditServer, params: types.InitializedParams) -> None:
    ls.linter.warm_up()
    workspace = ls.client_capabilities.workspace
    watched = workspace.did_change_watched_files if workspace is not None else None
    if watched is not None and watched.dynamic_registration:
        ls.client_register_capability(types.RegistrationParams(registrations=[types.Registration(
            id="initaudit-settings", method=types.WORKSPACE_DID_CHANGE_WATCHED_FILES,
            register_options=types.DidChangeWatchedFilesRegistrationOptions(
                watchers=[types.FileSystemWatcher(glob_pattern="**/*.toml")]))]))


@server.feature(types.TEXT_DOCUMENT_DID_OPEN)
def did_open(ls: InitauditServer, params: types.DidOpenTextDocumentParams) -> None:
    ls.open(TextDocument(params.text_document, ls.encoding))


@server.feature(types.TEXT_DOCUMENT_DID_CHANGE)
def did_change(ls: InitauditServer, params: types.DidChangeTextDocumentParams) -> None:
    uri = params.text_document.uri
    document = ls.documents.get(uri)
    if not isinstance(document, TextDocument):
        log.warning("initaudit server: a change to %s, which is not open, ignored", uri)
        return
    for change in params.content_changes:
        document.buffer.change(change)
    document.buffer.version = params.text_document.version
    ls.check(document)


@server.feature(types.TEXT_DOCUMENT_DID_SAVE)
def did_save(ls: InitauditServer, params: types.DidSaveTextDocumentParams) -> None:
    uri = params.text_document.uri
    if ls.settings.is_settings_file(to_fs_path(uri) or uri):
        ls.settings_changed()
    elif (document := ls.documents.get(uri)) is not None:
        ls.check(document)


@server.feature(types.TEXT_DOCUMENT_DID_CLOSE)
def did_close(ls: InitauditServer, params: types.DidCloseTextDocumentParams) -> None:
    ls.close(params.text_document.uri)


@server.feature(types.NOTEBOOK_DOCUMENT_DID_OPEN)
def notebook_did_open(ls: InitauditServer, params: types.DidOpenNotebookDocumentParams) -> None:
    ls.open(NotebookDocument(params.notebook_document, params.cell_text_documents, ls.encoding))


@server.feature(types.NOTEBOOK_DOCUMENT_DID_CHANGE)
def notebook_did_change(ls: InitauditServer, params: types.DidChangeNotebookDocumentParams) -> None:
    uri = params.notebook_document.uri
    document = ls.documents.get(uri)
    if not isinstance(document, NotebookDocument):
        log.warning("initaudit server: a change to notebook %s, which is not open, ignored", uri)
        return
    ls.clear(document.change(params))
    ls.check(document)


@server.feature(types.NOTEBOOK_DOCUMENT_DID_CLOSE)
def notebook_did_close(ls: InitauditServer, params: types.DidCloseNotebookDocumentParams) -> None:
    ls.close(params.notebook_document.uri)


@server.feature(types.WORKSPACE_DID_CHANGE_WATCHED_FILES)
def did_change_watched_files(ls: InitauditServer, params: types.DidChangeWatchedFilesParams) -> None:
    if any(ls.settings.is_settings_file(to_fs_path(change.uri) or change.uri) for change in params.changes):
        ls.settings_changed()


@server.feature(types.WORKSPACE_DID_CHANGE_WORKSPACE_FOLDERS)
def did_change_workspace_folders(ls: InitauditServer, params: types.DidChangeWorkspaceFoldersParams) -> None:
    ls.settings_changed()  # a document may have moved into the workspace, or out of it


@server.feature(types.TEXT_DOCUMENT_CODE_ACTION,
                types.CodeActionOptions(code_action_kinds=[types.CodeActionKind.QuickFix, FIX_ALL]))
async def code_action(ls: InitauditServer, params: types.CodeActionParams) -> list[types.CodeAction]:
    uri, only = params.text_document.uri, params.context.only
    # Fix-all is offered only when asked for by kind (on save, from a source menu): it costs a run of --fix.
    quick_fixes, fix_all = _wanted(only, types.CodeActionKind.QuickFix), only is not None and _wanted(only, FIX_ALL)
    document = ls.owner(uri)
    if document is None or not (quick_fixes or fix_all):
        return []
    linted = await ls.linter.findings(document, ls.settings.of(document.path))
    actions = []
    if quick_fixes:
        buffer = document.buffers()[uri]
        for where, finding in document.located(linted):
            if where != uri or finding.fix is None or not finding.fix.edits:
                continue
            diagnostic = lsp_diagnostic(buffer, finding)
            edits = document.edits(linted, finding.fix) if _overlaps(diagnostic.range, params.range) else None
            if edits:
                actions.append(_quick_fix(finding, diagnostic, edits))
    if fix_all and any(d.fix is not None and d.fix.applicability is Applicability.SAFE and d.fix.edits
                       for d in linted.diagnostics):
        revision = document.revision
        fixed = await ls.linter.fixed(linted)
        if document.revision != revision:
            raise JsonRpcContentModified(f"{uri} changed")
        edits = document.replacements(linted, fixed)
        if edits:
            actions.append(types.CodeAction(title="initaudit: apply every safe fix", kind=FIX_ALL,
                                            edit=types.WorkspaceEdit(changes=edits)))
    return actions


def _quick_fix(finding: Diagnostic, diagnostic: types.Diagnostic, edits: Edits) -> types.CodeAction:
    assert finding.fix is not None
    safe = finding.fix.applicability is Applicability.SAFE
    return types.CodeAction(
        title=f"{finding.code}: {finding.fix.message}" + ("" if safe else " (unsafe fix)"),
        kind=types.CodeActionKind.QuickFix,
        diagnostics=[diagnostic],
        is_preferred=safe,
        edit=types.WorkspaceEdit(changes=edits),
    )


def _wanted(only: Sequence[str] | None, kind: str) -> bool:
    """Whether the client asks for actions of ``kind`` (``only`` names kinds or their parents)."""
    return only is None or any(kind == asked or kind.startswith(f"{asked}.") for asked in only)


def _overlaps(a: types.Range, b: types.Range) -> bool:
    def key(position: types.Position) -> tuple[int, int]:
        return position.line, position.character

    return key(a.start) <= key(b.end) and key(b.start) <= key(a.end)


def serve() -> None:
    server.start_io()
