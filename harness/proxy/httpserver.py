"""A small HTTP/1.1 server on asyncio streams: keep-alive, Content-Length or chunked bodies.

Enough for a JSON API on loopback, and the only kind of HTTP the proxy speaks. Timeouts
follow Toxiproxy's Go server: 15 s to read a request, 60 s idle between requests. A body
is checked against MAX_BODY_BYTES before it is read: a declared Content-Length or chunk
size past the limit is answered 413 at once (a malformed one 400), and the connection is
closed, so a client cannot make the server buffer what it declares.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from email.utils import formatdate
from http import HTTPStatus

log = logging.getLogger("harness.proxy")

READ_TIMEOUT_S = 15.0
IDLE_TIMEOUT_S = 60.0
MAX_HEAD_BYTES = 64 * 1024
MAX_BODY_BYTES = 8 << 20
LINGER_S = 0.5  # after an error answer, time for the client to read it before the close (Go waits as long)
_HEX = re.compile(rb"[0-9A-Fa-f]+")


@dataclass(frozen=True)
class Request:
    method: str
    target: str  # path and query, as sent
    headers: dict[str, str]  # names lower-cased
    body: bytes

    @property
    def path(self) -> str:
        return self.target.split("?", 1)[0]


@dataclass(frozen=True)
class Response:
    status: int
    body: bytes = b""
    content_type: str | None = None
    headers: dict[str, str] = field(default_factory=dict)


Handler = Callable[[Request], Awaitable[Response]]


class BadRequest(Exception):
    """The request cannot be served: answered with `status` and the connection closed."""

    status = 400
    phrase = "Bad Request"


class TooLarge(BadRequest):
    status = 413
    phrase = "Request Entity Too Large"


class HeadTooLarge(BadRequest):
    status = 431
    phrase = "Request Header Fields Too Large"


async def serve(handler: Handler, host: str, port: int) -> asyncio.Server:
    """Listening when it returns; the bound port is in `server.sockets`."""

    async def connection(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            await serve_connection(handler, reader, writer)
        except (ConnectionError, asyncio.IncompleteReadError, TimeoutError):
            pass
        finally:
            writer.close()
            with contextlib.suppress(ConnectionError):
                await writer.wait_closed()

    return await asyncio.start_server(connection, host, port, reuse_address=True, limit=MAX_HEAD_BYTES)


async def serve_connection(handler: Handler, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    while True:
        async with asyncio.timeout(IDLE_TIMEOUT_S):
            first = await reader.readline()
        if not first:
            return
        try:
            async with asyncio.timeout(READ_TIMEOUT_S):
                request, keep_alive = await read_request(first, reader, writer)
        except (BadRequest, ValueError) as exc:  # ValueError: a line over the stream's limit
            error = exc if isinstance(exc, BadRequest) else BadRequest(str(exc))
            body = f"{error.status} {error.phrase}: {error}".encode()
            await write_response(writer, Response(error.status, body, "text/plain"), False)
            await linger(reader, writer)
            return
        try:
            response = await handler(request)
        except Exception:
            log.exception("%s %s failed", request.method, request.target)
            response = Response(500, b'{"error":"internal error","status":500}\n', "application/json")
        await write_response(writer, response, keep_alive)
        if not keep_alive:
            return


async def read_request(
    first: bytes, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
) -> tuple[Request, bool]:
    try:
        method, target, version = first.decode("latin-1").rstrip("\r\n").split(" ")
    except ValueError as exc:
        raise BadRequest("malformed request line") from exc
    if not version.startswith("HTTP/1."):
        raise BadRequest(f"unsupported version {version}")
    headers: dict[str, str] = {}
    head_bytes = len(first)
    while line := (await reader.readline()).decode("latin-1").rstrip("\r\n"):
        head_bytes += len(line) + 2
        if head_bytes > MAX_HEAD_BYTES:
            raise HeadTooLarge(f"request head over the limit of {MAX_HEAD_BYTES} bytes")
        name, sep, value = line.partition(":")
        if not sep:
            raise BadRequest("malformed header line")
        headers[name.strip().lower()] = value.strip()
    if headers.get("expect", "").lower() == "100-continue":
        writer.write(b"HTTP/1.1 100 Continue\r\n\r\n")
    body = await read_body(headers, reader)
    connection = headers.get("connection", "").lower()
    keep_alive = connection != "close" if version == "HTTP/1.1" else connection == "keep-alive"
    return Request(method, target, headers, body), keep_alive


async def read_body(headers: dict[str, str], reader: asyncio.StreamReader) -> bytes:
    if "chunked" in headers.get("transfer-encoding", "").lower():
        return await read_chunked(reader)
    length_text = headers.get("content-length", "0")
    if not length_text.isdigit():
        raise BadRequest(f"bad Content-Length {length_text!r}")
    if int(length_text) > MAX_BODY_BYTES:
        raise TooLarge(f"Content-Length {length_text} is over the limit of {MAX_BODY_BYTES} bytes")
    return await reader.readexactly(int(length_text))


async def read_chunked(reader: asyncio.StreamReader) -> bytes:
    """Each chunk's declared size is checked against what the limit has left before a byte of it is read."""
    body = bytearray()
    while size := chunk_size(await reader.readline()):
        if size > MAX_BODY_BYTES - len(body):
            raise TooLarge(f"chunked body over the limit of {MAX_BODY_BYTES} bytes (a chunk of {size} bytes "
                           f"after {len(body)})")
        body += await reader.readexactly(size)
        if (await reader.readline()).rstrip(b"\r\n"):
            raise BadRequest("malformed chunked encoding: no line end after a chunk")
    trailers = 0
    while line := (await reader.readline()).rstrip(b"\r\n"):  # trailers: read and dropped
        trailers += len(line)
        if trailers > MAX_HEAD_BYTES:
            raise BadRequest("chunked trailers too large")
    return bytes(body)


def chunk_size(line: bytes) -> int:
    """A chunk-size line: hex digits, then optional `;extensions`."""
    if not line.endswith(b"\n"):
        raise BadRequest("unexpected EOF in a chunked body")
    digits = line.split(b";", 1)[0].strip()
    if not _HEX.fullmatch(digits):
        raise BadRequest(f"malformed chunk size {digits[:32]!r}")
    if len(digits.lstrip(b"0")) > 16:  # past any int64; the limit check would refuse it anyway
        raise TooLarge(f"chunk size {digits[:32]!r}... is over the limit of {MAX_BODY_BYTES} bytes")
    return int(digits, 16)


async def write_response(writer: asyncio.StreamWriter, response: Response, keep_alive: bool) -> None:
    status = HTTPStatus(response.status)
    lines = [f"HTTP/1.1 {status.value} {status.phrase}", f"Date: {formatdate(usegmt=True)}"]
    if response.content_type:
        lines.append(f"Content-Type: {response.content_type}")
    lines += [f"{name}: {value}" for name, value in response.headers.items()]
    if status != HTTPStatus.NO_CONTENT:
        lines.append(f"Content-Length: {len(response.body)}")
    if not keep_alive:
        lines.append("Connection: close")
    writer.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + response.body)
    await writer.drain()


async def linger(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Half-close, then drop what the client still sends for a moment before the connection closes:
    closing with unread data would reset the connection and could destroy the answer in flight."""
    with contextlib.suppress(OSError, RuntimeError):
        if writer.can_write_eof():
            writer.write_eof()
    with contextlib.suppress(TimeoutError, ConnectionError):
        async with asyncio.timeout(LINGER_S):
            while await reader.read(65536):
                pass
