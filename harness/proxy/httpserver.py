"""A small HTTP/1.1 server on asyncio streams: keep-alive, Content-Length or chunked bodies.

Enough for a JSON API on loopback, and the only kind of HTTP the proxy speaks. Timeouts
follow Toxiproxy's Go server: 15 s to read a request, 60 s idle between requests.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from email.utils import formatdate
from http import HTTPStatus

log = logging.getLogger("harness.proxy")

READ_TIMEOUT_S = 15.0
IDLE_TIMEOUT_S = 60.0
MAX_HEAD_BYTES = 64 * 1024
MAX_BODY_BYTES = 8 << 20


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
    pass


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
        except (BadRequest, ValueError) as exc:  # ValueError: a line over the stream's limit, a bad number
            await write_response(writer, Response(400, f"400 Bad Request: {exc}".encode(), "text/plain"), False)
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
    while line := (await reader.readline()).decode("latin-1").rstrip("\r\n"):
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
        parts: list[bytes] = []
        while size := int((await reader.readline()).split(b";")[0].strip() or b"0", 16):
            parts.append(await reader.readexactly(size))
            await reader.readline()
            if sum(map(len, parts)) > MAX_BODY_BYTES:
                raise BadRequest("body too large")
        while (await reader.readline()).strip():  # trailers
            pass
        return b"".join(parts)
    length_text = headers.get("content-length", "0")
    if not length_text.isdigit() or int(length_text) > MAX_BODY_BYTES:
        raise BadRequest(f"bad Content-Length {length_text!r}")
    return await reader.readexactly(int(length_text))


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
