"""``initaudit server`` at typing speed: checks off the reader, only for the newest text, settings
looked up once, and every request answered.

The scheduler's tests hold its worker on an event, so that which check runs, and which findings
are published, does not depend on how fast the machine is; the others drive the server process
with raw frames (``test_server_hostile.Server``).
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import threading
from dataclasses import dataclass
from pathlib import Path

import pytest

pytest.importorskip("pygls")
from pygls.exceptions import JsonRpcContentModified  # noqa: E402

from initaudit.config import Config  # noqa: E402
from initaudit.server_lint import Linted, Linter, Source  # noqa: E402
from initaudit.server_settings import Settings  # noqa: E402
from tests.lint.test_server import BAD, ROOT, WAIT  # noqa: E402
from tests.lint.test_server_hostile import Message, Server, check, start, workspace  # noqa: E402, F401


@dataclass
class Document:
    uri: str
    revision: int
    text: str

    def source(self) -> Source:
        return Source("/nowhere/model.py", self.text)


class HeldChecks:
    """A check that waits for ``release`` once it has started the first one."""

    def __init__(self) -> None:
        self.started, self.release = threading.Event(), threading.Event()
        self.checked: list[str] = []

    def __call__(self, source: Source, config: Config) -> Linted:
        self.checked.append(source.text)
        self.started.set()
        assert self.release.wait(WAIT)
        return Linted(source, config, [])


async def _burst(count: int) -> tuple[list[str], list[tuple[int, str]], Linted]:
    checks, published = HeldChecks(), []
    linter = Linter(lambda document, linted: published.append((document.revision, linted.source.text)), checks)
    document = Document("file:///nowhere/model.py", 1, "v1")
    linter.schedule(document, Config())
    assert await asyncio.to_thread(checks.started.wait, WAIT)  # v1 is being checked
    for revision in range(2, count + 1):
        document.revision, document.text = revision, f"v{revision}"
        linter.schedule(document, Config())
    checks.release.set()
    final = await linter.findings(document, Config())
    linter.shutdown()
    return checks.checked, published, final


def test_a_burst_of_changes_checks_and_publishes_only_the_newest_text() -> None:
    checked, published, final = asyncio.run(_burst(20))
    # The check running when the burst came finished, unpublished; the ones between never ran.
    assert checked == ["v1", "v20"]
    assert published == [(20, "v20")] and final.source.text == "v20"


async def _changed_while_asked() -> None:
    checks = HeldChecks()
    linter = Linter(lambda document, linted: None, checks)
    document = Document("file:///nowhere/model.py", 1, "v1")
    linter.schedule(document, Config())
    asked = asyncio.ensure_future(linter.findings(document, Config()))
    assert await asyncio.to_thread(checks.started.wait, WAIT)
    document.revision, document.text = 2, "v2"
    linter.schedule(document, Config())
    checks.release.set()
    with pytest.raises(JsonRpcContentModified):
        await asyncio.wait_for(asked, WAIT)
    assert (await linter.findings(document, Config())).source.text == "v2"
    linter.shutdown()


def test_a_request_for_findings_of_text_that_changed_meanwhile_is_refused() -> None:
    asyncio.run(_changed_while_asked())


def test_settings_are_looked_up_once_per_directory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import initaudit.server_settings as server_settings

    loads: list[Path] = []

    def load_config(config_file: None, start: Path) -> Config:
        loads.append(start)
        return Config(ignore=("IA104",))

    monkeypatch.setattr(server_settings, "load_config", load_config)
    settings = Settings(lambda: [str(tmp_path)], lambda message: None)
    for name in ("a.py", "b.py", "a.py"):
        assert settings.of(str(tmp_path / "models" / name)).ignore == ("IA104",)
    assert settings.of(str(tmp_path.parent / "outside.py")) == Config()  # outside: no lookup
    assert loads == [tmp_path / "models" / "a.py"]
    assert settings.is_settings_file(str(tmp_path / "models" / "pyproject.toml"))
    assert not settings.is_settings_file(str(tmp_path / "models" / "a.py"))
    settings.changed()
    settings.of(str(tmp_path / "models" / "b.py"))
    assert len(loads) == 2


def _typed(server: Server, uri: str, text: str, version: int) -> None:
    """A character typed at the end of the text (its last line has no line break)."""
    line = text.count("\n")
    position = {"line": line, "character": len(text) - text.rfind("\n") - 1}
    server.notify("textDocument/didChange", {"textDocument": {"uri": uri, "version": version}, "contentChanges": [
        {"range": {"start": position, "end": position}, "text": "x"}]})


def test_a_burst_of_edits_ends_with_the_final_versions_diagnostics(start, workspace):
    server = start(arguments=("server", "--stdio"))  # as VS Code's client starts it
    uri = (workspace / "net.py").as_uri()
    text = BAD + "# a comment typed fast: "
    server.open(uri, text)
    for version in range(2, 22):
        _typed(server, uri, text, version)
        text += "x"
    final = server.expect(lambda m: m.get("method") == "textDocument/publishDiagnostics"
                          and m["params"]["version"] == 21)
    versions = [m["params"]["version"] for m in server.published()] + [21]
    assert versions == sorted(set(versions))  # never an older version after a newer one
    expected = json.loads(check(text, "--output-format", "json"))["diagnostics"]
    assert [d["code"] for d in final["params"]["diagnostics"]] == [d["code"] for d in expected] == ["IA104"]
    assert server.close() == 0


def test_only_stdio_is_accepted_as_a_transport() -> None:
    def run(*arguments: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "initaudit", "server", *arguments], capture_output=True,
                              text=True, stdin=subprocess.DEVNULL, cwd=ROOT, timeout=WAIT)

    assert "--stdio" in run("--help").stdout
    refused = run("--node-ipc")
    assert refused.returncode == 2 and "No such option" in refused.stderr


def test_the_server_module_answers_initialize_without_the_linter() -> None:
    script = "import sys, initaudit.server; print(sorted({'libcst', 'initaudit.lint.run.engine'} & set(sys.modules)))"
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=ROOT, timeout=WAIT)
    assert result.stdout.strip() == "[]", result.stderr


def _diagnostics(server: Server, uri: str, version: int) -> list[Message]:
    """The next diagnostics published for ``version`` of the document."""
    return server.expect(lambda m: m.get("method") == "textDocument/publishDiagnostics"
                         and m["params"]["uri"] == uri and m["params"]["version"] == version)["params"]["diagnostics"]


def test_a_broken_settings_file_is_shown_once_and_the_last_good_settings_stay(start, workspace):
    pyproject = workspace / "pyproject.toml"
    pyproject.write_text('[tool.initaudit]\nignore = ["IA104"]\n')
    server = start({"workspace": {"didChangeWatchedFiles": {"dynamicRegistration": True}}})
    registration = server.expect(lambda m: m.get("method") == "client/registerCapability")
    [watched] = registration["params"]["registrations"]
    assert watched["registerOptions"]["watchers"] == [{"globPattern": "**/*.toml"}]
    server.send({"id": registration["id"], "result": None})
    uri = (workspace / "net.py").as_uri()
    text = BAD + "# notes: "
    assert server.open(uri, text) == []  # IA104 ignored

    pyproject.write_text('[tool.initaudit]\nignore = ["IA104"\n')  # no closing bracket
    server.notify("workspace/didChangeWatchedFiles", {"changes": [{"uri": pyproject.as_uri(), "type": 2}]})
    for version in range(2, 5):
        _typed(server, uri, text, version)
        text += "x"
        assert _diagnostics(server, uri, version) == []  # still checked, IA104 still ignored
    shown = server.notified("window/showMessage")
    assert len(shown) == 1 and str(pyproject) in shown[0]["params"]["message"]
    assert "last good settings" in shown[0]["params"]["message"]

    # Saved with its fix: read again, and the document checked with it.
    pyproject.write_text("[tool.initaudit]\nignore = []\n")
    server.notify("textDocument/didSave", {"textDocument": {"uri": pyproject.as_uri()}})
    assert [d["code"] for d in _diagnostics(server, uri, 4)] == ["IA104"]
    assert server.close() == 0


def test_a_settings_file_broken_from_the_start_gives_the_defaults(start, workspace):
    (workspace / "pyproject.toml").write_text('[tool.initaudit]\nselect = ["IA999"]\n')
    server = start()
    uri = (workspace / "net.py").as_uri()
    text = BAD
    assert [d["code"] for d in server.open(uri, text)] == ["IA104"]
    for version in range(2, 4):
        _typed(server, uri, text, version)
        text += "x"
        assert [d["code"] for d in _diagnostics(server, uri, version)] == ["IA104"]
    shown = server.notified("window/showMessage")
    assert len(shown) == 1 and "default settings" in shown[0]["params"]["message"]
    assert server.close() == 0


def test_every_request_is_answered(start, workspace):
    server = start(initialize=False)
    here = {"line": 0, "character": 0}
    uri = (workspace / "net.py").as_uri()
    actions = {"textDocument": {"uri": uri}, "range": {"start": here, "end": here}, "context": {"diagnostics": []}}

    def error(method: str, params: Message | None) -> int:
        return server.request(method, params)["error"]["code"]

    assert error("textDocument/codeAction", actions) == -32002  # before initialize
    server.notify("textDocument/didOpen", {"textDocument": {"uri": uri, "languageId": "python", "version": 1,
                                                            "text": BAD}})  # dropped
    server.initialize(workspace)
    assert server.request("textDocument/codeAction", actions)["result"] == []  # was never opened
    assert error("textDocument/codeAction", None) == -32602
    assert error("textDocument/codeAction", {**actions, "range": {"start": here}}) == -32602
    # Notifications sent as requests: pygls would handle them and never answer.
    assert error("$/cancelRequest", {"id": 1}) == -32600
    assert error("textDocument/didClose", {"textDocument": {"uri": uri}}) == -32600
    assert server.request("shutdown", None)["result"] is None
    assert error("textDocument/codeAction", actions) == -32600  # after shutdown
    assert server.published() == []
    server.notify("exit", None)
    assert server.process.wait(timeout=WAIT) == 0


async def _ready_while_a_message_waits() -> list[int]:
    published: list[int] = []
    document = Document("file:///nowhere/model.py", 1, "v1")
    linter: Linter[Document]

    def newer_version_arrives() -> None:
        document.revision, document.text = 2, "v2"
        linter.schedule(document, Config())

    calls = []

    def unread() -> bool:
        """The client's didChange for v2 is waiting when v1's findings are ready: the first
        ask sees it unread, and it is handled on the loop right after."""
        calls.append(document.revision)
        if len(calls) == 1:
            asyncio.get_running_loop().call_soon(newer_version_arrives)
            return True
        return False

    done = asyncio.Event()

    def publish(doc: Document, linted: Linted) -> None:
        published.append(doc.revision)
        done.set()

    linter = Linter(publish, lambda source, config: Linted(source, config, []), unread)
    linter.schedule(document, Config())
    await asyncio.wait_for(done.wait(), WAIT)
    linter.shutdown()
    return published


def test_findings_wait_for_a_message_the_client_already_sent() -> None:
    assert asyncio.run(_ready_while_a_message_waits()) == [2]


def test_the_reader_knows_what_the_client_sent_and_was_not_handled() -> None:
    import os

    from initaudit.server_frames import FrameReader

    def frame(text: str) -> bytes:
        body = json.dumps({"jsonrpc": "2.0", "method": "x", "params": text}).encode()
        return b"Content-Length: %d\r\n\r\n%s" % (len(body), body)

    read_end, write_end = os.pipe()
    with os.fdopen(read_end, "rb") as stream, os.fdopen(write_end, "wb", buffering=0) as client:
        reader = FrameReader(stream)
        client.write(frame("a") + frame("b"))
        assert json.loads(reader.read())["params"] == "a"
        assert reader.pending()  # a body not yet handed over
        reader.received()
        assert reader.pending()  # "b" is buffered or in the pipe
        assert json.loads(reader.read())["params"] == "b"
        reader.received()
        assert not reader.pending()
        client.write(frame("c"))
        assert reader.pending()  # waiting in the pipe
