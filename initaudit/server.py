"""``initaudit server``: a language server for editors (on pygls), over stdio.

It lints the editor's buffer as it is, unsaved changes included, when a Python document is
opened, changed or saved, and publishes the findings as diagnostics. Each finding with a fix is
offered as a quick fix (``--fix``'s edits; an unsafe fix says so in its title). Settings come
from the configuration that ``initaudit check`` would use for the file.

Only the ``server`` command imports this module: pygls is an optional dependency
(``pip install 'initaudit[lsp]'``).
"""

from __future__ import annotations

import logging
from pathlib import Path

from lsprotocol import types
from pygls.lsp.server import LanguageServer
from pygls.uris import to_fs_path
from pygls.workspace import TextDocument
from pygls.workspace.position_codec import ServerTextPosition

from initaudit import __version__
from initaudit.catalogue import entries
from initaudit.config import Config, ConfigError, load_config
from initaudit.diagnostics import Applicability, Diagnostic, Severity
from initaudit.lint.engine import check_text

SOURCE = "initaudit"
_SEVERITY = {Severity.ERROR: types.DiagnosticSeverity.Error, Severity.WARNING: types.DiagnosticSeverity.Warning,
             Severity.INFO: types.DiagnosticSeverity.Information}
log = logging.getLogger(__name__)


class InitauditServer(LanguageServer):
    def __init__(self) -> None:
        super().__init__("initaudit", __version__)
        #: The findings last published per document, for code actions.
        self.findings: dict[str, list[Diagnostic]] = {}

    def lint(self, uri: str) -> None:
        document = self.workspace.get_text_document(uri)
        found = _check(document)
        self.findings[uri] = found
        self.text_document_publish_diagnostics(types.PublishDiagnosticsParams(
            uri=uri, version=document.version, diagnostics=[_to_lsp(document, d) for d in found]))


server = InitauditServer()


@server.feature(types.TEXT_DOCUMENT_DID_OPEN)
def did_open(ls: InitauditServer, params: types.DidOpenTextDocumentParams) -> None:
    ls.lint(params.text_document.uri)


@server.feature(types.TEXT_DOCUMENT_DID_CHANGE)
def did_change(ls: InitauditServer, params: types.DidChangeTextDocumentParams) -> None:
    ls.lint(params.text_document.uri)


@server.feature(types.TEXT_DOCUMENT_DID_SAVE)
def did_save(ls: InitauditServer, params: types.DidSaveTextDocumentParams) -> None:
    ls.lint(params.text_document.uri)


@server.feature(types.TEXT_DOCUMENT_DID_CLOSE)
def did_close(ls: InitauditServer, params: types.DidCloseTextDocumentParams) -> None:
    ls.findings.pop(params.text_document.uri, None)
    ls.text_document_publish_diagnostics(types.PublishDiagnosticsParams(uri=params.text_document.uri,
                                                                        diagnostics=[]))


@server.feature(types.TEXT_DOCUMENT_CODE_ACTION,
                types.CodeActionOptions(code_action_kinds=[types.CodeActionKind.QuickFix]))
def code_action(ls: InitauditServer, params: types.CodeActionParams) -> list[types.CodeAction]:
    uri = params.text_document.uri
    document = ls.workspace.get_text_document(uri)
    actions = []
    for finding in ls.findings.get(uri, []):
        if finding.fix is None or not finding.fix.edits:
            continue
        diagnostic = _to_lsp(document, finding)
        if not _overlaps(diagnostic.range, params.range):
            continue
        safe = finding.fix.applicability is Applicability.SAFE
        edits = [types.TextEdit(range=types.Range(start=document.client_position_at_offset(edit.start),
                                                  end=document.client_position_at_offset(edit.end)),
                                new_text=edit.text) for edit in finding.fix.edits]
        actions.append(types.CodeAction(
            title=f"{finding.code}: {finding.fix.message}" + ("" if safe else " (unsafe fix)"),
            kind=types.CodeActionKind.QuickFix,
            diagnostics=[diagnostic],
            is_preferred=safe,
            edit=types.WorkspaceEdit(changes={uri: edits}),
        ))
    return actions


def _check(document: TextDocument) -> list[Diagnostic]:
    path = to_fs_path(document.uri) or document.uri
    try:
        config = load_config(None, Path(path))
    except ConfigError as error:
        log.warning("initaudit: %s; using the default settings", error)
        config = Config()
    if path.endswith(".ipynb"):
        return []  # a notebook's cells arrive as notebook documents, which this server does not take
    try:
        diagnostics, _ = check_text(path, document.source, config)
    except Exception as error:  # a bug or a pathological buffer (RecursionError): log it, go on
        log.error("initaudit: cannot check %s: %s: %s", path, type(error).__name__, error)
        return []
    return diagnostics


def _to_lsp(document: TextDocument, d: Diagnostic) -> types.Diagnostic:
    start = document.position_to_client_units(ServerTextPosition(d.line - 1, d.column - 1))
    end = document.position_to_client_units(ServerTextPosition(d.end_line - 1, d.end_column - 1))
    entry = entries().get(d.code)
    return types.Diagnostic(
        range=types.Range(start=start, end=end),
        severity=_SEVERITY[d.severity],
        code=d.code,
        code_description=types.CodeDescription(href=entry.url) if entry is not None else None,
        source=SOURCE,
        message=f"{d.message} [{d.name}]",
    )


def _overlaps(a: types.Range, b: types.Range) -> bool:
    def key(position: types.Position) -> tuple[int, int]:
        return position.line, position.character

    return key(a.start) <= key(b.end) and key(b.start) <= key(a.end)


def serve() -> None:
    server.start_io()
