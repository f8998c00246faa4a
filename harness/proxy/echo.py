"""A loopback echo server and byte sink, to check and benchmark the proxy against.

    python -m harness.proxy.echo      prints `echo HOST:PORT sink HOST:PORT` once listening

The echo port sends every byte back and closes once the client has half-closed and the
echo is out. The sink port swallows everything and, at the client's EOF, answers with
the byte count (`12345\\n`) and closes: a one-way stream measured end to end.
"""

from __future__ import annotations

import asyncio
import signal
import sys

from harness.proxy.addresses import format_sockname
from harness.proxy.server import raise_descriptor_limit


class Echo(asyncio.Protocol):
    transport: asyncio.Transport

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        self.transport.write(data)

    def eof_received(self) -> bool:
        return False  # close once the echo is flushed

    # A client that sends faster than it reads is slowed down instead of filling our memory.
    def pause_writing(self) -> None:
        self.transport.pause_reading()

    def resume_writing(self) -> None:
        self.transport.resume_reading()


class Sink(asyncio.Protocol):
    transport: asyncio.Transport

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        self.received = 0

    def data_received(self, data: bytes) -> None:
        self.received += len(data)

    def eof_received(self) -> bool:
        self.transport.write(f"{self.received}\n".encode())
        return False


async def main(host: str = "127.0.0.1") -> None:
    raise_descriptor_limit()
    loop = asyncio.get_running_loop()
    echo = await loop.create_server(Echo, host, 0, backlog=4096)
    sink = await loop.create_server(Sink, host, 0, backlog=4096)
    addresses = [format_sockname(server.sockets[0].getsockname()) for server in (echo, sink)]
    print(f"echo {addresses[0]} sink {addresses[1]}", flush=True)
    stop = asyncio.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    await stop.wait()
    echo.close()
    sink.close()


if __name__ == "__main__":
    asyncio.run(main(*sys.argv[1:2]))
