"""bandwidth: limits a direction to `rate` KB/s, 1 KB being 1000 bytes (Toxiproxy's `toxics/bandwidth.go`)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from harness.proxy.stream import Chunk, End
from harness.proxy.toxics.base import Stub, register, wire

SLICE_S = 0.1  # a big chunk goes out in 100 ms slices, so a slow link trickles instead of stalling


@register("bandwidth")
@dataclass(frozen=True)
class Bandwidth:
    rate_kb_s: int = wire("rate")

    def validate(self) -> None:
        # Toxiproxy accepts a negative rate and then panics slicing the first chunk.
        if self.rate_kb_s < 0:
            raise ValueError(f"rate: must be 0 or more KB/s, got {self.rate_kb_s}")

    async def pipe(self, stub: Stub) -> None:
        bytes_per_s = self.rate_kb_s * 1000
        slice_bytes = max(1, int(bytes_per_s * SLICE_S))
        due = stub.now()  # when the bytes passed so far are allowed to have left
        while True:
            item = await stub.receive()
            if isinstance(item, End):
                stub.send(item)
                return
            data, sent = item.data, 0
            try:
                if bytes_per_s == 0:
                    # No bandwidth at all: hold the data until the toxic is updated or removed
                    # (Toxiproxy spins forever sending empty slices).
                    await asyncio.get_running_loop().create_future()
                due = max(due, stub.now())
                while sent < len(data):
                    end = min(len(data), sent + slice_bytes)
                    due += (end - sent) / bytes_per_s  # an absolute schedule: oversleeping does not add up
                    await stub.sleep_until(due)
                    stub.send(Chunk(data[sent:end], item.at))
                    sent = end
            finally:
                if sent < len(data):
                    stub.send(Chunk(data[sent:], item.at))  # interrupted: don't drop data on the floor
