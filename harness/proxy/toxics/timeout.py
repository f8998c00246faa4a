"""timeout: stops all data, and closes the connection after `timeout` ms (Toxiproxy's `toxics/timeout.go`).

With `timeout` 0 the connection stays open and data is dropped until the toxic is removed.
The clock starts when the toxic starts on the link; Toxiproxy restarts it on every chunk,
so a chatty client there is never closed.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from harness.proxy.stream import End, EndKind
from harness.proxy.toxics.base import Stub, register, wire


@register("timeout")
@dataclass(frozen=True)
class Timeout:
    timeout_ms: int = wire("timeout")

    async def pipe(self, stub: Stub) -> None:
        deadline = stub.now() + self.timeout_ms / 1000 if self.timeout_ms > 0 else None
        try:
            async with asyncio.timeout_at(deadline):
                while True:
                    item = await stub.receive()
                    if isinstance(item, End):
                        stub.send(item)
                        return
                    stub.discard(len(item.data))  # the point of this toxic: the data is lost
        except TimeoutError:
            stub.end(EndKind.CLOSE)

    def cleanup(self, stub: Stub) -> None:
        # Removing the toxic closes the connections it held: their data is already lost.
        stub.end(EndKind.CLOSE)
