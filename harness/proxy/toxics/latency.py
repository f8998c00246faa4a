"""latency: delays all data by `latency` ± `jitter` milliseconds (Toxiproxy's `toxics/latency.go`)."""

from __future__ import annotations

import random
from dataclasses import dataclass

from harness.proxy.stream import End
from harness.proxy.toxics.base import Stub, register, wire


@register("latency")
@dataclass(frozen=True)
class Latency:
    latency_ms: int = wire("latency")
    jitter_ms: int = wire("jitter")

    def delay_s(self, rng: random.Random) -> float:
        delay_ms = self.latency_ms
        if self.jitter_ms > 0:
            delay_ms += rng.randrange(2 * self.jitter_ms) - self.jitter_ms
        return delay_ms / 1000

    async def pipe(self, stub: Stub) -> None:
        while True:
            item = await stub.receive()
            if isinstance(item, End):
                stub.send(item)
                return
            # Counted from when the proxy read the chunk, so back-to-back chunks are not
            # delayed one after the other.
            release = item.at + self.delay_s(stub.rng)
            try:
                await stub.sleep_until(release)
                item.at = max(item.at, release)  # a second latency toxic adds to this one
            finally:
                stub.send(item)  # interrupted too: don't drop any data on the floor
