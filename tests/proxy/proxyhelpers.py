"""Helpers for the proxy tests: raw HTTP to the API, loopback sockets."""

from __future__ import annotations

import http.client
import json
import resource
import socket
from dataclasses import dataclass
from typing import Any

from harness.proxy.child import Child


def host_port(address: str) -> tuple[str, int]:
    host, _, port = address.rpartition(":")
    return host.strip("[]"), int(port)


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


class Api:
    """Raw HTTP to the proxy's API: every status code and body is visible."""

    def __init__(self, address: str) -> None:
        self.address = address
        self.host, self.port = host_port(address)

    def request(self, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None) -> Reply:
        data = body if isinstance(body, bytes | None) else json.dumps(body).encode()
        connection = http.client.HTTPConnection(self.host, self.port, timeout=30)
        try:
            connection.request(method, path, body=data, headers=headers or {})
            response = connection.getresponse()
            return Reply(response.status, {k.lower(): v for k, v in response.getheaders()}, response.read())
        finally:
            connection.close()

    def ok(self, method: str, path: str, body: Any = None) -> Any:
        reply = self.request(method, path, body)
        assert 200 <= reply.status < 300, (method, path, reply)
        return reply.json() if reply.body else None

    def create(self, name: str, upstream: str, **fields: Any) -> tuple[str, int]:
        """A proxy on a free loopback port; its (host, port)."""
        created = self.ok("POST", "/proxies", {"name": name, "listen": "127.0.0.1:0", "upstream": upstream, **fields})
        return host_port(created["listen"])

    def add_toxic(self, proxy: str, **toxic: Any) -> Any:
        return self.ok("POST", f"/proxies/{proxy}/toxics", toxic)


@dataclass
class Servers:
    proxy: Child
    echo: Child

    @property
    def echo_address(self) -> str:
        return self.echo.address

    @property
    def sink_address(self) -> str:
        assert self.echo.match is not None
        return self.echo.match.group(2)


def connect(address: tuple[str, int], timeout_s: float = 10.0) -> socket.socket:
    sock = socket.create_connection(address, timeout=timeout_s)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock


def receive_exactly(sock: socket.socket, size: int) -> bytes:
    data = bytearray()
    while len(data) < size:
        chunk = sock.recv(size - len(data))
        if not chunk:
            raise ConnectionError(f"closed after {len(data)} of {size} bytes")
        data += chunk
    return bytes(data)


def receive_all(sock: socket.socket) -> bytes:
    """Everything until the peer closes."""
    data = bytearray()
    while chunk := sock.recv(65536):
        data += chunk
    return bytes(data)


def raise_descriptor_limit(wanted: int) -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < wanted:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(wanted, hard), hard))
