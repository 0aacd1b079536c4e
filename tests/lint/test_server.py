"""``initaudit server``: a scripted LSP client drives the real server process over stdio."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

pytest.importorskip("pygls")
from lsprotocol import types  # noqa: E402
from pygls.lsp.client import LanguageClient  # noqa: E402

from tests.conftest import XAVIER_BEFORE_RELU  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
WAIT = 30  # seconds any one answer may take
BAD = "import torch.nn as nn\n\nnn.init.xavier_uniform(w)\n"


class Client(LanguageClient):
    def __init__(self) -> None:
        super().__init__("initaudit-test", "1")
        self.published: asyncio.Queue[types.PublishDiagnosticsParams] = asyncio.Queue()

        @self.feature(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
        def publish(params: types.PublishDiagnosticsParams) -> None:
            self.published.put_nowait(params)

    async def next_diagnostics(self) -> types.PublishDiagnosticsParams:
        return await asyncio.wait_for(self.published.get(), WAIT)


async def session(tmp_path: Path) -> None:
    client = Client()
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    await client.start_io(sys.executable, "-m", "initaudit", "server", env=env, cwd=str(tmp_path))
    try:
        await drive(client, tmp_path)
    finally:
        await asyncio.wait_for(client.shutdown_async(None), WAIT)
        client.exit(None)
        await asyncio.wait_for(client.stop(), WAIT)


async def drive(client: Client, tmp_path: Path) -> None:
    result = await asyncio.wait_for(client.initialize_async(types.InitializeParams(
        capabilities=types.ClientCapabilities(), root_uri=tmp_path.as_uri())), WAIT)
    assert result.server_info.name == "initaudit"
    sync = result.capabilities.text_document_sync
    assert sync.open_close and sync.save and result.capabilities.code_action_provider
    client.initialized(types.InitializedParams())
    uri = (tmp_path / "net.py").as_uri()  # never written: the buffer is what is checked

    client.text_document_did_open(types.DidOpenTextDocumentParams(text_document=types.TextDocumentItem(
        uri=uri, language_id="python", version=1, text=BAD)))
    published = await client.next_diagnostics()
    [diagnostic] = published.diagnostics
    assert published.uri == uri and diagnostic.code == "IA104" and diagnostic.source == "initaudit"
    assert diagnostic.severity == types.DiagnosticSeverity.Warning
    assert diagnostic.range == types.Range(start=types.Position(2, 0), end=types.Position(2, 22))
    assert diagnostic.code_description.href.endswith("/rules/IA104-deprecated-init-function.md")

    # An edit above moves the finding; a non-BMP character before it counts as two UTF-16 units.
    client.text_document_did_change(types.DidChangeTextDocumentParams(
        text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=2),
        content_changes=[types.TextDocumentContentChangePartial(
            range=types.Range(start=types.Position(1, 0), end=types.Position(1, 0)),
            text="# 🔥 init\nx = '🔥'; nn.init.xavier_uniform(v)\n")]))
    published = await client.next_diagnostics()
    assert published.version == 2
    assert [(d.code, d.range.start.line, d.range.start.character) for d in published.diagnostics] == [
        ("IA104", 2, 10), ("IA104", 4, 0)]

    actions = await asyncio.wait_for(client.text_document_code_action_async(types.CodeActionParams(
        text_document=types.TextDocumentIdentifier(uri=uri),
        range=types.Range(start=types.Position(2, 12), end=types.Position(2, 12)),
        context=types.CodeActionContext(diagnostics=list(published.diagnostics)))), WAIT)
    [action] = actions
    assert action.kind == types.CodeActionKind.QuickFix and action.is_preferred
    assert action.title == "IA104: Rename to `xavier_uniform_`"
    [edit] = action.edit.changes[uri]
    assert edit.new_text == "xavier_uniform_"
    assert edit.range == types.Range(start=types.Position(2, 18), end=types.Position(2, 32))

    # The fixed buffer has no finding left on that line.
    client.text_document_did_change(types.DidChangeTextDocumentParams(
        text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=3),
        content_changes=[types.TextDocumentContentChangePartial(range=edit.range, text=edit.new_text)]))
    published = await client.next_diagnostics()
    assert [(d.code, d.range.start.line) for d in published.diagnostics] == [("IA104", 4)]

    # A syntax error is a diagnostic too, and closing the document clears them.
    client.text_document_did_change(types.DidChangeTextDocumentParams(
        text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=4),
        content_changes=[types.TextDocumentContentChangeWholeDocument(text="def f(:\n")]))
    assert [d.code for d in (await client.next_diagnostics()).diagnostics] == ["IA000"]
    client.text_document_did_save(types.DidSaveTextDocumentParams(
        text_document=types.TextDocumentIdentifier(uri=uri)))
    assert [d.code for d in (await client.next_diagnostics()).diagnostics] == ["IA000"]
    client.text_document_did_close(types.DidCloseTextDocumentParams(
        text_document=types.TextDocumentIdentifier(uri=uri)))
    assert not (await client.next_diagnostics()).diagnostics

    # An unsafe fix is offered, not preferred, and says so.
    uri = (tmp_path / "model.py").as_uri()
    text = "import torch.nn as nn\nimport torch.nn.functional as F\n" + XAVIER_BEFORE_RELU
    client.text_document_did_open(types.DidOpenTextDocumentParams(text_document=types.TextDocumentItem(
        uri=uri, language_id="python", version=1, text=text)))
    [diagnostic] = (await client.next_diagnostics()).diagnostics
    [action] = await asyncio.wait_for(client.text_document_code_action_async(types.CodeActionParams(
        text_document=types.TextDocumentIdentifier(uri=uri), range=diagnostic.range,
        context=types.CodeActionContext(diagnostics=[diagnostic]))), WAIT)
    assert action.title.endswith("(unsafe fix)") and not action.is_preferred

    # The project's settings apply, as for `initaudit check`.
    uri = (tmp_path / "generated" / "old.py").as_uri()
    client.text_document_did_open(types.DidOpenTextDocumentParams(text_document=types.TextDocumentItem(
        uri=uri, language_id="python", version=1, text=BAD)))
    assert not (await client.next_diagnostics()).diagnostics


def test_language_server_session(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[tool.initaudit]\nper-file-ignores = { "generated/*" = ["IA104"] }\n')
    asyncio.run(asyncio.wait_for(session(tmp_path), WAIT * 4))


def test_server_module_is_imported_only_by_the_server_command() -> None:
    script = textwrap.dedent("""
        import sys
        from click.testing import CliRunner
        from initaudit.cli import main
        CliRunner().invoke(main, ["check", "--help"])
        CliRunner().invoke(main, ["rules"])
        assert "initaudit.server" not in sys.modules and "pygls" not in sys.modules
        print("ok")
    """)
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                            env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert result.stdout.strip() == "ok", result.stderr


def test_without_pygls_the_command_says_what_to_install() -> None:
    script = textwrap.dedent("""
        import sys
        sys.modules["pygls"] = None  # as if it were not installed
        from click.testing import CliRunner
        from initaudit.cli import main
        result = CliRunner().invoke(main, ["server"])
        print(result.exit_code, result.output.strip())
    """)
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                            env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert result.stdout.startswith("2 initaudit: error: the language server needs pygls: "
                                    "pip install 'initaudit[lsp]'"), result.stderr
