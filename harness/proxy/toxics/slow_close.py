"""slow_close: delays the close of the stream by `delay` milliseconds (Toxiproxy's `toxics/slow_close.go`)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from harness.proxy.stream import End
from harness.proxy.toxics.base import Stub, register, wire


@register("slow_close")
@dataclass(frozen=True)
class SlowClose:
    delay_ms: int = wire("delay")

    async def pipe(self, stub: Stub) -> None:
        while True:
            item = await stub.receive()
            if not isinstance(item, End):
                stub.send(item)
                continue
            try:
                await asyncio.sleep(max(0, self.delay_ms) / 1000)
            finally:
                # Interrupted too: the close goes on. Toxiproxy drops it here, and the
                # connection then never closes.
                stub.send(item)
            return
