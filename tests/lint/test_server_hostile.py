"""``initaudit server`` driven with raw frames by a clumsy or hostile client: line breaks that only
``str.splitlines`` knows, frames that lie about their size, documents it was never given.

The client side is written here from the protocol's rules, not from the server's code: lines end
at ``\\n``, ``\\r\\n`` and ``\\r`` only, columns count code units of the negotiated encoding. Every
wait is on a message the server writes, with a generous timeout.
"""

from __future__ import annotations

import itertools
import json
import os
import queue
import re
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any, Callable

import pytest

pytest.importorskip("pygls")

from tests.lint.test_server import BAD, ROOT, WAIT  # noqa: E402

Message = dict[str, Any]
# The server, in an address space of 4 GiB: reading a device would end in a MemoryError there,
# not in the machine's memory.
SERVE = ("import resource, sys; resource.setrlimit(resource.RLIMIT_AS, (4 << 30, 4 << 30)); "
         "from initaudit.cli import main; main(sys.argv[1:])")
# Every break str.splitlines knows that LSP does not, and characters outside the BMP, above and
# before findings; lines end with \r\n, \r and \n, and the last has no end.
ODD = ("import torch.nn as nn\r\n"
       "# form feed \f vt \v fs \x1c gs \x1d rs \x1e nel \x85 ls \u2028 ps \u2029 \U0001f525\n"
       "s = 'ab\u2028\x85\f\U0001f525'; nn.init.xavier_uniform(a)\r"
       "\f\n"
       "t = '\U0001f525\U0001f525'  # \u2029\r\n"
       "nn.init.kaiming_normal(b)  # \U0001f525\n"
       "nn.init.normal(c)")


def _starts(text: str) -> list[int]:
    return [0] + [match.end() for match in re.finditer(r"\r\n|\r|\n", text)]


def _units(char: str, encoding: str) -> int:
    if encoding == "utf-8":
        return len(char.encode("utf-8", "surrogatepass"))
    return len(char.encode("utf-16-le", "surrogatepass")) // 2 if encoding == "utf-16" else 1


def _line_text(text: str, line: int) -> tuple[int, str]:
    starts = _starts(text)
    end = starts[line + 1] if line + 1 < len(starts) else len(text)
    return starts[line], text[starts[line]:end].rstrip("\r\n")


def client_offset(text: str, position: Message, encoding: str) -> int:
    """Where an LSP position falls in ``text``, as an editor reads it."""
    start, line = _line_text(text, position["line"])
    counted = 0
    for index, char in enumerate(line):
        if counted == position["character"]:
            return start + index
        counted += _units(char, encoding)
    assert counted == position["character"], f"{position} is not at a character's start"
    return start + len(line)


def client_position(text: str, offset: int, encoding: str) -> Message:
    starts = _starts(text)
    line = max(i for i, start in enumerate(starts) if start <= offset)
    return {"line": line, "character": sum(_units(c, encoding) for c in text[starts[line]:offset])}


def apply_edits(text: str, edits: list[Message], encoding: str) -> str:
    """A WorkspaceEdit's text edits applied together, as an editor applies them."""
    spans = sorted((client_offset(text, e["range"]["start"], encoding),
                    client_offset(text, e["range"]["end"], encoding), e["newText"]) for e in edits)
    for (_, end, _), (start, _, _) in itertools.pairwise(spans):
        assert end <= start, f"overlapping edits: {edits}"
    for start, end, new in reversed(spans):
        text = text[:start] + new + text[end:]
    return text


def check(text: str, *options: str) -> bytes:
    result = subprocess.run([sys.executable, "-m", "initaudit", "check", *options, "-"], input=text.encode(),
                            capture_output=True, env={**os.environ, "PYTHONPATH": str(ROOT)}, timeout=WAIT)
    return result.stdout


class Server:
    """The server in a child process, written to in raw bytes; a thread reads what it writes."""

    def __init__(self, workspace: Path, capabilities: Message | None = None, *,
                 arguments: tuple[str, ...] = ("server",), initialize: bool = True) -> None:
        self.log = workspace.parent / f"{workspace.name}.server.log"
        with open(self.log, "wb") as log:
            self.process = subprocess.Popen([sys.executable, "-c", SERVE, *arguments], stdin=subprocess.PIPE,
                                            stdout=subprocess.PIPE, stderr=log, cwd=workspace,
                                            env={**os.environ, "PYTHONPATH": str(ROOT)})
        self._received: queue.Queue[Message | None] = queue.Queue()
        self._backlog: list[Message] = []
        self._ids = itertools.count(1)
        threading.Thread(target=self._read, daemon=True).start()
        if initialize:
            self.initialize(workspace, capabilities)

    def initialize(self, workspace: Path, capabilities: Message | None = None) -> None:
        result = self.request("initialize", {"processId": None, "rootUri": workspace.as_uri(),
                                             "capabilities": capabilities or {}})["result"]
        self.capabilities: Message = result["capabilities"]
        self.encoding = self.capabilities.get("positionEncoding", "utf-16")
        self.notify("initialized", {})

    def _read(self) -> None:
        stream = self.process.stdout
        assert stream is not None
        while True:
            length = None
            while (line := stream.readline()).strip():
                name, _, value = line.decode("ascii").partition(":")
                if name.lower() == "content-length":
                    length = int(value)
            if not line or length is None:
                self._received.put(None)
                return
            self._received.put(json.loads(stream.read(length)))

    def write(self, data: bytes) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(data)
        self.process.stdin.flush()

    def send(self, message: Message) -> None:
        body = json.dumps({"jsonrpc": "2.0", **message}).encode()
        self.write(b"Content-Length: %d\r\n\r\n%s" % (len(body), body))

    def notify(self, method: str, params: Message | None) -> None:
        self.send({"method": method, "params": params})

    def request(self, method: str, params: Message | None) -> Message:
        """Send a request and wait for its answer (a result or an error)."""
        msg_id = next(self._ids)
        self.send({"id": msg_id, "method": method, "params": params})
        return self.expect(lambda m: m.get("id") == msg_id and "method" not in m)

    def expect(self, wanted: Callable[[Message], bool]) -> Message:
        """The first message the server wrote, or writes next, that is ``wanted``."""
        for index, message in enumerate(self._backlog):
            if wanted(message):
                return self._backlog.pop(index)
        while True:
            try:
                message = self._received.get(timeout=WAIT)
            except queue.Empty:
                pytest.fail(f"no answer from the server in {WAIT} s")
            assert message is not None, f"the server stopped:\n{self.log.read_text(errors='replace')[-3000:]}"
            if wanted(message):
                return message
            self._backlog.append(message)

    def published(self) -> list[Message]:
        """The diagnostics published so far and not yet looked at."""
        return self._take(lambda m: m.get("method") == "textDocument/publishDiagnostics")

    def notified(self, method: str) -> list[Message]:
        """The notifications of ``method`` the server wrote before it answered a request sent now."""
        self.request("initaudit/nothing", None)
        return self._take(lambda m: m.get("method") == method)

    def answered(self) -> list[Message]:
        """The answers to no request of this client (errors of id null and the like) so far."""
        return self._take(lambda m: "method" not in m)

    def _take(self, wanted: Callable[[Message], bool]) -> list[Message]:
        found = [m for m in self._backlog if wanted(m)]
        self._backlog = [m for m in self._backlog if not wanted(m)]
        return found

    def diagnostics(self, uri: str) -> list[Message]:
        return self.expect(lambda m: m.get("method") == "textDocument/publishDiagnostics"
                           and m["params"]["uri"] == uri)["params"]["diagnostics"]

    def open(self, uri: str, text: str) -> list[Message]:
        self.notify("textDocument/didOpen", {"textDocument": {"uri": uri, "languageId": "python", "version": 1,
                                                              "text": text}})
        return self.diagnostics(uri)

    def actions(self, uri: str, start: Message, end: Message, only: list[str] | None = None) -> list[Message]:
        context: Message = {"diagnostics": []} | ({"only": only} if only else {})
        answer = self.request("textDocument/codeAction", {"textDocument": {"uri": uri},
                                                          "range": {"start": start, "end": end}, "context": context})
        return answer["result"]

    def close(self) -> int:
        """Shut the server down as a client does; its exit status."""
        answer = self.request("shutdown", None)
        assert "result" in answer and answer["result"] is None, answer
        self.notify("exit", None)
        assert self.process.stdin is not None
        self.process.stdin.close()
        return self.process.wait(timeout=WAIT)

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=WAIT)


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    folder = tmp_path / "workspace"
    folder.mkdir()
    return folder


@pytest.fixture
def start(workspace: Path):
    started: list[Server] = []

    def make(capabilities: Message | None = None, **options: Any) -> Server:
        started.append(Server(workspace, capabilities, **options))
        return started[-1]

    yield make
    for server in started:
        server.kill()


def _range_text(text: str, lsp_range: Message, encoding: str) -> str:
    return text[client_offset(text, lsp_range["start"], encoding):client_offset(text, lsp_range["end"], encoding)]


def _ranges(diagnostics: list[Message]) -> list[tuple[str, Message, Message]]:
    return [(d["code"], d["range"]["start"], d["range"]["end"]) for d in diagnostics]


def _expected_ranges(text: str, encoding: str) -> list[tuple[str, Message, Message]]:
    """``initaudit check``'s findings (1-based lines, columns in characters) as LSP ranges."""
    found = json.loads(check(text, "--output-format", "json"))["diagnostics"]
    starts = _starts(text)
    return [(d["code"], client_position(text, starts[d["line"] - 1] + d["column"] - 1, encoding),
             client_position(text, starts[d["end_line"] - 1] + d["end_column"] - 1, encoding)) for d in found]


def _changes(edits: list[Message]) -> list[Message]:
    """A WorkspaceEdit's edits as didChange events: applied one after another, so the last first."""
    order = sorted(edits, key=lambda e: (e["range"]["start"]["line"], e["range"]["start"]["character"]), reverse=True)
    return [{"range": e["range"], "text": e["newText"]} for e in order]


@pytest.mark.parametrize("offered", [None, ["utf-8"], ["utf-32"]], ids=["utf-16", "utf-8", "utf-32"])
def test_fixes_applied_as_an_editor_applies_them_make_what_check_fix_makes(start, workspace, offered):
    server = start({"general": {"positionEncodings": offered}} if offered else None)
    encoding = server.encoding
    assert encoding == (offered[0] if offered else "utf-16")
    uri = (workspace / "odd.py").as_uri()
    expected = check(ODD, "--fix")
    assert expected != ODD.encode()

    # The diagnostics sit where check puts them, counted as the client counts.
    diagnostics = server.open(uri, ODD)
    assert _ranges(diagnostics) == _expected_ranges(ODD, encoding)
    assert [_range_text(ODD, d["range"], encoding) for d in diagnostics] == [
        "nn.init.xavier_uniform", "nn.init.kaiming_normal", "nn.init.normal"]

    # Fix all at once...
    end = client_position(ODD, len(ODD), encoding)
    [fix_all] = server.actions(uri, {"line": 0, "character": 0}, end, only=["source.fixAll"])
    assert fix_all["kind"] == "source.fixAll.initaudit"
    assert apply_edits(ODD, fix_all["edit"]["changes"][uri], encoding).encode() == expected

    # ... or one quick fix after another, each sent back as the editor's incremental change.
    text, version = ODD, 1
    while True:
        actions = server.actions(uri, {"line": 0, "character": 0}, client_position(text, len(text), encoding))
        preferred = [action for action in actions if action.get("isPreferred")]
        if not preferred:
            break
        edits = preferred[0]["edit"]["changes"][uri]
        text, version = apply_edits(text, edits, encoding), version + 1
        server.notify("textDocument/didChange", {"textDocument": {"uri": uri, "version": version},
                                                 "contentChanges": _changes(edits)})
        assert [d["code"] for d in server.diagnostics(uri)] == ["IA104"] * (3 - (version - 1))
    assert version == 4 and text.encode() == expected

    # The server's copy followed every change: findings typed around the odd characters sit where
    # check puts them in the client's text, and fixing them all makes what check makes of it.
    inserts = [(client_position(text, len(text), encoding), "\r\nnn.init.uniform(z)  # \u2028"),
               (client_position(text, text.index("\x85"), encoding), "\rnn.init.constant(k, 1)\n#"),
               ({"line": 0, "character": 0}, "nn.init.xavier_normal(y)\f\r\n")]
    for position, new in inserts:
        text = apply_edits(text, [{"range": {"start": position, "end": position}, "newText": new}], encoding)
        version += 1
        server.notify("textDocument/didChange", {"textDocument": {"uri": uri, "version": version},
                                                 "contentChanges": [{"range": {"start": position, "end": position},
                                                                     "text": new}]})
        diagnostics = server.diagnostics(uri)
    assert _ranges(diagnostics) == _expected_ranges(text, encoding) and len(diagnostics) == 3
    end = client_position(text, len(text), encoding)
    [fix_all] = server.actions(uri, {"line": 0, "character": 0}, end, only=["source"])
    assert apply_edits(text, fix_all["edit"]["changes"][uri], encoding).encode() == check(text, "--fix")
    assert server.close() == 0


def _frame(body: bytes, length: int | None = None) -> bytes:
    return b"Content-Length: %d\r\n\r\n%s" % (len(body) if length is None else length, body)


def _json(message: Message) -> bytes:
    return json.dumps({"jsonrpc": "2.0", **message}).encode()


def _padded(size: int) -> bytes:
    """A notification of ``size`` bytes."""
    start, end = b'{"jsonrpc": "2.0", "method": "initaudit/padding", "params": "', b'"}'
    return start + b"x" * (size - len(start) - len(end)) + end


SHUTDOWN = _json({"id": 90, "method": "shutdown"})
LIMIT = 64 * 1024 * 1024
INVALID_REQUEST, PARSE_ERROR = -32600, -32700
# What a client may write, and the errors (id, code) the server answers it with before it goes on.
MALFORMED = {
    "a length of 1 TiB, then a little body": (b"Content-Length: 1099511627776\r\n\r\n" + SHUTDOWN[:20],
                                             [(None, INVALID_REQUEST)]),
    "a length just over the limit": (b"Content-Length: %d\r\n\r\n" % (LIMIT + 1) + SHUTDOWN, [(None, INVALID_REQUEST)]),
    "a negative length": (b"Content-Length: -5\r\n\r\n" + SHUTDOWN, [(None, INVALID_REQUEST)]),
    "a length that is no number": (b"Content-Length: ten\r\n\r\n" + SHUTDOWN, [(None, INVALID_REQUEST)]),
    "a length of 5000 digits": (b"Content-Length: " + b"9" * 5000 + b"\r\n\r\n{}", [(None, INVALID_REQUEST)]),
    # Reading goes on at the next header after the bad one: here the second length, with 3 bytes.
    "two lengths": (b"Content-Length: 2\r\nContent-Length: 3\r\n\r\n{}", [(None, INVALID_REQUEST),
                                                                          (None, PARSE_ERROR)]),
    "no length": (b"Content-Type: application/vscode-jsonrpc; charset=utf-8\r\n\r\n" + SHUTDOWN,
                  [(None, INVALID_REQUEST)]),
    "a header line of 1 MiB": (b"X-Long: " + b"a" * (1 << 20) + b"\r\n", [(None, INVALID_REQUEST)]),
    "a header block without end": (b"X-Header: y\r\n" * 1000, [(None, INVALID_REQUEST)]),
    "bytes that are no header": (b"\x00\xff\xfe no header at all\r\n\r\n" + SHUTDOWN, [(None, INVALID_REQUEST)]),
    "blank lines between frames": (b"\r\n\r\n\n", []),
    "an empty body": (b"Content-Length: 0\r\n\r\n", [(None, PARSE_ERROR)]),
    "a body that is not UTF-8": (_frame(b"\xff\xfe\xfd{"), [(None, PARSE_ERROR)]),
    "a length 5 bytes short": (_frame(SHUTDOWN, len(SHUTDOWN) - 5), [(None, PARSE_ERROR)]),
    "a length 10 bytes long": (_frame(SHUTDOWN, len(SHUTDOWN) + 10), [(None, PARSE_ERROR)]),
    "JSON nested too deep": (_frame(b"[" * 200_000), [(None, PARSE_ERROR)]),
    "JSON that is not an object": (_frame(b"[1, 2]"), [(None, INVALID_REQUEST)]),
    "another JSON-RPC version": (_frame(json.dumps({"jsonrpc": "1.0", "id": 7, "method": "shutdown"}).encode()),
                                 [(7, INVALID_REQUEST)]),
    "a method that is no string": (_frame(_json({"id": 10, "method": 5})), [(10, INVALID_REQUEST)]),
    "neither a method nor an id": (_frame(_json({"params": {}})), [(None, INVALID_REQUEST)]),
    "an id that is an object": (_frame(_json({"id": {"a": 1}, "method": "shutdown"})), [(None, INVALID_REQUEST)]),
    "params of the wrong shape": (_frame(_json({"id": 8, "method": "textDocument/codeAction",
                                                "params": {"textDocument": 5}})), [(8, -32602)]),
    "an unknown method": (_frame(_json({"id": 9, "method": "initaudit/nothing"})), [(9, -32601)]),
    "a notification with bad params": (_frame(_json({"method": "textDocument/didOpen",
                                                     "params": {"textDocument": {}}})), []),
    "a response to nothing": (_frame(_json({"id": 55, "result": 1})), []),
}


def test_malformed_frames_are_answered_and_the_next_request_is_served(start, workspace):
    server = start()
    uri = (workspace / "net.py").as_uri()
    assert [d["code"] for d in server.open(uri, BAD)] == ["IA104"]
    everywhere = ({"line": 0, "character": 0}, {"line": 9, "character": 0})
    for name, (data, errors) in MALFORMED.items():
        server.write(data)
        actions = server.actions(uri, *everywhere)  # none of the above shut the server down
        assert [action["title"] for action in actions] == ["IA104: Rename to `xavier_uniform_`"], name
        answered = server.answered()
        assert [(e["id"], e["error"]["code"]) for e in answered] == errors, name
    assert "the limit" in server.log.read_text()
    server.write(_frame(_padded(LIMIT)))  # a message of the limit's size is read
    assert server.actions(uri, *everywhere) and server.answered() == []
    assert server.close() == 0


def test_documents_it_was_not_given_are_never_read(start, workspace, tmp_path):
    fifo = workspace / "pipe.py"
    os.mkfifo(fifo)
    on_disk = workspace / "on_disk.py"
    on_disk.write_text(BAD)
    server = start()
    here = {"line": 0, "character": 0}
    for uri in ("file:///dev/zero", fifo.as_uri(), on_disk.as_uri()):
        server.notify("textDocument/didSave", {"textDocument": {"uri": uri}})
        server.notify("textDocument/didChange", {"textDocument": {"uri": uri, "version": 2}, "contentChanges": [
            {"range": {"start": here, "end": here}, "text": "x = 1\n"}]})
        assert server.actions(uri, here, {"line": 9, "character": 0}) == []
    assert server.published() == []  # nothing was checked

    # Given its text, a document is that text, whatever its name.
    assert [d["code"] for d in server.open("file:///dev/zero", BAD)] == ["IA104"]
    # Settings are read for documents inside the workspace only.
    settings = '[tool.initaudit]\nignore = ["IA104"]\n'
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "pyproject.toml").write_text(settings)
    (workspace / "pyproject.toml").write_text(settings)
    assert [d["code"] for d in server.open((outside / "net.py").as_uri(), BAD)] == ["IA104"]
    assert server.open((workspace / "net.py").as_uri(), BAD) == []
    assert server.close() == 0


def test_fixes_are_offered_for_the_text_they_were_computed_on(start, workspace):
    folder = workspace / "models"
    folder.mkdir()
    uri = (folder / "net.py").as_uri()
    server = start()
    assert [d["code"] for d in server.open(uri, BAD)] == ["IA104"]
    # From now on the document's settings cannot be looked up (its folder is a symlink loop)...
    folder.rmdir()
    folder.symlink_to(folder.name)
    # ... and the finding moves two lines down.
    text = "import os\n\n" + BAD
    server.notify("textDocument/didChange", {"textDocument": {"uri": uri, "version": 2},
                                             "contentChanges": [{"text": text}]})
    [action] = server.actions(uri, {"line": 0, "character": 0}, {"line": 9, "character": 0})
    assert apply_edits(text, action["edit"]["changes"][uri], server.encoding).encode() == check(text, "--fix")
    assert server.close() == 0
