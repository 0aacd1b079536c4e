"""Reading the base protocol's frames (``Content-Length: N``, a blank line, N bytes of JSON) from
a client that may get them wrong, and answering what cannot be read.

A message is at most :data:`MAX_MESSAGE` bytes (64 MiB). A frame whose header cannot be read (no
``Content-Length``, one that is not a number or is over the limit, a header line or block too
long) is answered with a JSON-RPC error of id ``null`` (Invalid Request), and reading resumes at
the next ``Content-Length:`` after the frame's start: whatever the bad frame held is skipped, in
bounded chunks, nothing waits for the bytes it announced, and the client's next message is read.
A body that is not JSON (Parse error) was framed with a wrong length, so reading resumes at the
next ``Content-Length:`` after the body's start. JSON that is not a valid request is answered with
an error under its id, when it has one; other header lines are ignored. So is a request that
cannot be served: one before ``initialize`` (Server Not Initialized), one after ``shutdown`` and a
notification's method sent with an id (Invalid Request). A notification before ``initialize`` is
dropped.
"""

from __future__ import annotations

import asyncio
import io
import json
import logging
import select
import threading
from concurrent.futures import Executor
from typing import Any, BinaryIO

from lsprotocol.types import EXIT, INITIALIZE, METHOD_TO_TYPES
from pygls.exceptions import JsonRpcException, JsonRpcInvalidRequest, JsonRpcParseError, JsonRpcServerNotInitialized
from pygls.protocol import LanguageServerProtocol

MAX_MESSAGE = 64 * 1024 * 1024
_MAX_HEADER_LINE = 8192
_MAX_HEADER_LINES = 32
_CHUNK = 65536
_HEADER = b"Content-Length:"
log = logging.getLogger(__name__)


class FrameError(JsonRpcInvalidRequest):
    """A frame that cannot be read; the reader has moved on to look for the next one."""


class _End(Exception):
    """The client closed its end."""


class FrameReader:
    """Message bodies from a binary stream, never holding more than one message and its header."""

    def __init__(self, stream: BinaryIO) -> None:
        self._stream = stream
        self._data = bytearray()
        self._position = 0
        self._body = 0  # where the last body started
        self._lost = False  # after a bad frame: skip to the next header
        self._unreceived = False  # a body returned that the protocol has not been handed yet

    def read(self) -> bytes | None:
        """The next message's body; None once the input ends. Raises FrameError for a frame that
        cannot be read."""
        try:
            while True:
                del self._data[:self._position]
                self._position = 0
                if self._lost:
                    self._skip_to_header()
                start = self._position
                try:
                    length = self._content_length()
                except FrameError:
                    self._position, self._lost = start + 1, True
                    raise
                if length is not None:
                    self._body = self._position
                    self._need(length)
                    self._position += length
                    self._unreceived = True
                    return bytes(self._data[self._body:self._position])
        except _End:
            return None

    def received(self) -> None:
        """The last body has been handed to the protocol."""
        self._unreceived = False

    def pending(self) -> bool:
        """Whether the client has sent what the protocol has not been handed yet: a body read,
        bytes read after it, or bytes waiting in the stream."""
        return self._unreceived or len(self._data) > self._position or _readable(self._stream)

    def misframed(self) -> None:
        """The last body was not a message (its length was wrong): look for the next header
        from its first byte."""
        self._position, self._lost = self._body, True

    def _content_length(self) -> int | None:
        """The length a header block gives; None for a blank line alone (between frames)."""
        length, headers = None, False
        for _ in range(_MAX_HEADER_LINES):
            line = self._line()
            if not line.strip():
                if headers and length is None:
                    raise FrameError("a message without a Content-Length header")
                return length
            headers = True
            name, colon, value = line.partition(b":")
            if not colon or name.strip().lower() != b"content-length":
                continue  # another header, or a line that is none: ignored
            value = value.strip()
            if not value.isdigit():
                raise FrameError("a Content-Length that is not a number of bytes")
            if len(value) > len(str(MAX_MESSAGE)) or int(value) > MAX_MESSAGE:
                raise FrameError(f"a message of more than {MAX_MESSAGE} bytes (the limit)")
            if length is not None and length != int(value):
                raise FrameError("two different Content-Length headers")
            length = int(value)
        raise FrameError(f"more than {_MAX_HEADER_LINES} header lines")

    def _line(self) -> bytes:
        searched = self._position
        while True:
            end = self._data.find(b"\n", searched)
            if end >= 0:
                line = bytes(self._data[self._position:end + 1])
                self._position = end + 1
                return line
            if len(self._data) - self._position > _MAX_HEADER_LINE:
                raise FrameError(f"a header line longer than {_MAX_HEADER_LINE} bytes")
            searched = len(self._data)
            self._fill(_CHUNK)

    def _need(self, size: int) -> None:
        while len(self._data) - self._position < size:
            self._fill(min(size - (len(self._data) - self._position), 1024 * 1024))

    def _skip_to_header(self) -> None:
        while (found := self._data.find(_HEADER, self._position)) < 0:
            # Keep only what could be the start of a header cut by the chunk's end.
            del self._data[:max(self._position, len(self._data) - len(_HEADER) + 1)]
            self._position = 0
            self._fill(_CHUNK)
        self._position, self._lost = found, False

    def _fill(self, size: int) -> None:
        chunk = self._stream.read1(size)
        if not chunk:
            raise _End
        self._data += chunk


def _readable(stream: BinaryIO) -> bool:
    try:
        return bool(select.select([stream], [], [], 0)[0])
    except (OSError, ValueError, io.UnsupportedOperation):  # not a file (a test's buffer), or closed
        return False


class FramedProtocol(LanguageServerProtocol):
    """pygls's protocol, fed message bodies by :func:`read_messages` instead of pygls's reader
    (which allocates whatever a Content-Length says and stops at a malformed header), and
    answering every request it does not pass on (pygls leaves some unanswered)."""

    _initialize_received = False

    def receive(self, body: bytes, reader: FrameReader) -> None:
        try:
            data = json.loads(body)
        except (ValueError, RecursionError):
            reader.misframed()
            self.refuse(None, JsonRpcParseError("a message that is not JSON"))
            return
        problem = _problem(data)
        if problem is not None:
            self._invalid(data, JsonRpcInvalidRequest(problem))
            return
        if "method" in data:
            data.setdefault("params", None)  # may be left out; pygls's fallback type requires it
            if not self._admitted(data):
                return
        try:
            message = self.structure_message(data)
        except JsonRpcException as error:
            self._invalid(data, error)
            return
        try:
            self.handle_message(message)
        except Exception:  # a bug in a handler must not end the session
            log.exception("initaudit server: cannot handle a message")

    def _admitted(self, data: dict[str, Any]) -> bool:
        """Whether a request or notification is passed on: a request that cannot be served now
        is answered with an error, and a notification before ``initialize`` dropped (as LSP says)."""
        method, request = data["method"], "id" in data
        if method == INITIALIZE:
            self._initialize_received = True
        known = METHOD_TO_TYPES.get(method)
        error: JsonRpcException | None = None
        if request and known is not None and known[1] is None:
            error = JsonRpcInvalidRequest(f"{method} is a notification: it takes no id")
        elif not self._initialize_received and method not in (INITIALIZE, EXIT):
            if not request:
                log.error("initaudit server: %s before initialize, dropped", method)
                return False
            error = JsonRpcServerNotInitialized(f"{method} before initialize")
        elif request and self._shutdown:
            error = JsonRpcInvalidRequest(f"{method} after shutdown")
        if error is not None:
            self.refuse(data["id"], error)
        return error is None

    def refuse(self, msg_id: int | str | None, error: JsonRpcException) -> None:
        log.error("initaudit server: %s", error.message)
        # Written as is: pygls's converter leaves out an id of null, which JSON-RPC requires.
        self._send_data({"jsonrpc": "2.0", "id": msg_id, "error": {"code": error.code, "message": error.message}})

    def _invalid(self, data: Any, error: JsonRpcException) -> None:
        """Answer a message that is not valid, unless it is a notification or a response."""
        if isinstance(data, dict) and ("method" in data) != ("id" in data):
            log.error("initaudit server: %s (not answered: a notification or a response)", error.message)
            return
        msg_id = data.get("id") if isinstance(data, dict) else None
        self.refuse(msg_id if _valid_id(msg_id) else None, error)


def _problem(data: Any) -> str | None:
    """What makes ``data`` no JSON-RPC 2.0 message (pygls takes any id or method and fails on
    some later, answering Internal Error or nothing)."""
    if not isinstance(data, dict) or data.get("jsonrpc") != "2.0":
        return "not a JSON-RPC 2.0 message"
    if "id" in data and not _valid_id(data["id"]):
        return "an id that is neither a number nor a string"
    if "method" in data:
        return None if isinstance(data["method"], str) else "a method name that is not a string"
    return None if "id" in data else "a message with neither a method nor an id"


def _valid_id(msg_id: object) -> bool:
    return isinstance(msg_id, (int, str)) and not isinstance(msg_id, bool)


async def read_messages(protocol: FramedProtocol, reader: FrameReader, stop: threading.Event,
                        executor: Executor) -> None:
    """Hand each message to ``protocol`` until the input ends or the server stops."""
    loop = asyncio.get_running_loop()
    while not stop.is_set():
        try:
            body = await loop.run_in_executor(executor, reader.read)
        except FrameError as error:
            protocol.refuse(None, error)
            continue
        if body is None:
            return
        protocol.receive(body, reader)
        reader.received()
