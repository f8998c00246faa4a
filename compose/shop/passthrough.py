"""proxy: a plain TCP pass-through from PORT to UPSTREAM (`python3 -m shop.passthrough`).

It holds the fault slot between web and inventory; the Toxiproxy-compatible proxy takes
its place when faults are injected. Half-close aware: an EOF on one side is forwarded as
an EOF (shutdown SHUT_WR) to the other and the opposite direction keeps flowing.

Built on asyncio protocols rather than streams: every shop request crosses this hop on a
fresh connection, and protocols cost a fraction of the CPU per connection.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import time

from shop import httpkit

SERVICE = "proxy"
CONNECT_TIMEOUT_S = 2.0
# After one direction ended, the other may idle this long before we close both. Without it a
# peer that never closes (a leaked client socket) would pin two descriptors here forever.
LINGER_S = 5.0


class Side(asyncio.Protocol):
    """One socket of a link; whatever it receives goes to the other side's socket."""

    def __init__(self, link: Link) -> None:
        self.link = link
        self.transport: asyncio.Transport | None = None
        self.got_eof = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    @property
    def peer(self) -> asyncio.Transport:
        transport = self.link.other(self).transport
        assert transport is not None  # we only read once both sides are connected
        return transport

    def data_received(self, data: bytes) -> None:
        self.link.last_activity = time.monotonic()
        self.peer.write(data)

    def eof_received(self) -> bool:
        self.got_eof = True
        self.link.forward_eof(self)
        return True  # keep our writing half open: the other direction may still flow

    def connection_lost(self, exc: Exception | None) -> None:
        self.link.close(abort=exc is not None)

    # Backpressure: stop reading from the peer while our socket's buffer is full.
    def pause_writing(self) -> None:
        self.peer.pause_reading()

    def resume_writing(self) -> None:
        self.peer.resume_reading()


class ClientSide(Side):
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)
        assert isinstance(transport, asyncio.Transport)
        transport.pause_reading()  # until upstream is there
        self.link.start()


class Link:
    """A client connection and its upstream connection."""

    def __init__(self, proxy: Passthrough) -> None:
        self.proxy = proxy
        self.client: Side = ClientSide(self)
        self.upstream = Side(self)
        self.last_activity = time.monotonic()
        self.closed = False
        self._linger: asyncio.TimerHandle | None = None

    def other(self, side: Side) -> Side:
        return self.upstream if side is self.client else self.client

    def start(self) -> None:
        task = asyncio.get_running_loop().create_task(self.connect())
        self.proxy.tasks.add(task)  # asyncio keeps only weak references to tasks
        task.add_done_callback(self.proxy.tasks.discard)

    async def connect(self) -> None:
        loop = asyncio.get_running_loop()
        try:
            await asyncio.wait_for(loop.create_connection(lambda: self.upstream, *self.proxy.upstream),
                                   CONNECT_TIMEOUT_S)
        except OSError as exc:  # TimeoutError included
            self.proxy.upstream_failed(exc)
            self.close(abort=True)  # the client sees a reset, as it would without us
            return
        self.proxy.upstream_ok()
        upstream, client = self.upstream.transport, self.client.transport
        assert upstream is not None and client is not None
        if self.closed:  # the client left while we connected
            upstream.close()
        else:
            client.resume_reading()

    def forward_eof(self, side: Side) -> None:
        peer = self.other(side)
        if peer.transport is not None and peer.transport.can_write_eof() and not peer.transport.is_closing():
            with contextlib.suppress(OSError):
                peer.transport.write_eof()
        if self.client.got_eof and self.upstream.got_eof:
            self.close(abort=False)
        elif self._linger is None:
            self._linger = asyncio.get_running_loop().call_later(LINGER_S, self._check_idle)

    def _check_idle(self) -> None:
        idle = time.monotonic() - self.last_activity
        if idle >= LINGER_S:
            self.close(abort=False)
        else:
            self._linger = asyncio.get_running_loop().call_later(LINGER_S - idle, self._check_idle)

    def close(self, abort: bool) -> None:
        """Close both sockets; abort (RST) when one side failed, so the failure propagates."""
        if self.closed:
            return
        self.closed = True
        self.proxy.links.discard(self)
        if self._linger is not None:
            self._linger.cancel()
        for side in (self.client, self.upstream):
            if side.transport is not None and not side.transport.is_closing():
                if abort:
                    side.transport.abort()
                else:
                    side.transport.close()


class Passthrough:
    def __init__(self, upstream: tuple[str, int]) -> None:
        self.upstream = upstream
        self.links: set[Link] = set()
        self.failures = 0
        self.tasks: set[asyncio.Task[None]] = set()

    def accept(self) -> Side:
        """Protocol factory for the listening socket: one Link per client."""
        link = Link(self)
        self.links.add(link)
        return link.client

    def upstream_failed(self, exc: Exception) -> None:
        if self.failures == 0:  # the first failure of a streak, not every connection of it
            where = f"{self.upstream[0]}:{self.upstream[1]}"
            httpkit.log(SERVICE, f"upstream {where} unreachable: {exc!r}")
        self.failures += 1

    def upstream_ok(self) -> None:
        if self.failures:
            httpkit.log(SERVICE, f"upstream reachable again after {self.failures} failures")
            self.failures = 0


def parse_upstream(value: str) -> tuple[str, int]:
    host, _, port = value.rpartition(":")
    if not host or not port.isdigit():
        raise SystemExit(f"{SERVICE}: UPSTREAM must be host:port, got {value!r}")
    return host, int(port)


async def serve() -> None:
    bind, port = httpkit.bind_address()
    proxy = Passthrough(parse_upstream(httpkit.env_str("UPSTREAM", "")))
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    server = await loop.create_server(proxy.accept, bind, port, backlog=128, reuse_address=True)
    host, real_port = server.sockets[0].getsockname()[:2]
    httpkit.log(SERVICE, f"listening on {host}:{real_port} -> {proxy.upstream[0]}:{proxy.upstream[1]}")
    await stop.wait()
    server.close()
    for link in list(proxy.links):
        link.close(abort=True)
    for task in list(proxy.tasks):
        task.cancel()
    await asyncio.sleep(0)  # let the transports finish closing
    httpkit.log(SERVICE, "stopped")


def main() -> None:
    asyncio.run(serve())


if __name__ == "__main__":
    main()
