"""1,000 concurrent connections through the proxy, toxics added and removed under that load.

Every connection keeps making 64-byte round trips while the test adds a latency and a
slicer toxic, lets every connection make two more trips under them, removes them, lets
every connection make one more and stops. Bounded: at most 40 trips per connection and
90 s in all; every socket is closed at the end and the proxy must let go of every
descriptor it opened for them.
"""

from __future__ import annotations

import asyncio
import os
import time

from proxyhelpers import Api, Servers, raise_descriptor_limit

from harness.waiting import wait_until

CONNECTIONS = 1000
MAX_TRIPS = 40  # per connection
LATENCY_MS = 40
MESSAGE_BYTES = 64


def open_descriptors(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/fd"))


class Load:
    def __init__(self) -> None:
        self.trips: list[tuple[float, float]] = []  # (began, ended) of every round trip
        self.stop = asyncio.Event()
        self._waiting: list[tuple[int, asyncio.Event]] = []

    async def reach(self, trips: int) -> None:
        """Until this many round trips in all have been made."""
        reached = asyncio.Event()
        self._waiting.append((trips, reached))
        self._check()
        await reached.wait()

    def _check(self) -> None:
        for trips, reached in self._waiting:
            if len(self.trips) >= trips:
                reached.set()

    async def client(self, number: int, streams: tuple[asyncio.StreamReader, asyncio.StreamWriter]) -> None:
        reader, writer = streams
        for trip in range(MAX_TRIPS):
            if self.stop.is_set():
                return
            message = f"{number}:{trip}:".encode().ljust(MESSAGE_BYTES, b".")
            began = time.monotonic()
            writer.write(message)
            await writer.drain()
            assert await reader.readexactly(MESSAGE_BYTES) == message  # byte for byte, in order
            self.trips.append((began, time.monotonic()))
            self._check()


async def drive(api: Api, address: tuple[str, int]) -> tuple[Load, tuple[float, float]]:
    load = Load()
    connecting = asyncio.Semaphore(100)

    async def open_one() -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        async with connecting:
            return await asyncio.open_connection(*address)

    streams = await asyncio.gather(*(open_one() for _ in range(CONNECTIONS)))
    try:
        clients = asyncio.gather(*(load.client(number, pair) for number, pair in enumerate(streams)))
        await load.reach(CONNECTIONS)
        await asyncio.to_thread(api.add_toxic, "echo", type="latency", attributes={"latency": LATENCY_MS})
        await asyncio.to_thread(
            api.add_toxic,
            "echo",
            type="slicer",
            stream="upstream",
            attributes={"average_size": 16, "size_variation": 4},
        )
        added = time.monotonic()
        await load.reach(len(load.trips) + 2 * CONNECTIONS)
        removing = time.monotonic()
        await asyncio.to_thread(api.request, "DELETE", "/proxies/echo/toxics/latency_downstream")
        await asyncio.to_thread(api.request, "DELETE", "/proxies/echo/toxics/slicer_upstream")
        await load.reach(len(load.trips) + CONNECTIONS)
        load.stop.set()
        await clients
    finally:
        for _, writer in streams:
            writer.close()
    return load, (added, removing)


def test_a_thousand_connections_with_toxics_coming_and_going(
    api: Api, servers: Servers, echo_proxy: tuple[str, int]
) -> None:
    raise_descriptor_limit(4 * CONNECTIONS)
    pid = servers.proxy.pid
    idle = open_descriptors(pid)

    async def bounded() -> tuple[Load, tuple[float, float]]:
        async with asyncio.timeout(90):
            return await drive(api, echo_proxy)

    load, (added, removing) = asyncio.run(bounded())

    # The toxics reached the live connections: every round trip made while they were in
    # place took at least the latency.
    under_toxics = [ended - began for began, ended in load.trips if added <= began and ended <= removing]
    assert len(under_toxics) >= CONNECTIONS, len(under_toxics)
    assert min(under_toxics) >= LATENCY_MS / 1000, min(under_toxics)
    assert api.ok("GET", "/proxies/echo/toxics") == []
    wait_until(
        lambda: open_descriptors(pid) <= idle + 4,
        timeout_s=30,
        what=f"the proxy to close its {2 * CONNECTIONS} sockets (had {idle} descriptors idle)",
    )
