"""slicer: cuts data into pieces of about `average_size` bytes (Toxiproxy's `toxics/slicer.go`).

Each piece is `average_size` ± `size_variation` bytes, sent `delay` microseconds apart, to
look like TCP data arriving in small segments.
"""

from __future__ import annotations

import asyncio
import random
from dataclasses import dataclass

from harness.proxy.stream import Chunk, End
from harness.proxy.toxics.base import Stub, register, wire


@register("slicer")
@dataclass(frozen=True)
class Slicer:
    average_size: int = wire("average_size", "int")
    size_variation: int = wire("size_variation", "int")
    delay_us: int = wire("delay", "int")

    def validate(self) -> None:
        # Toxiproxy accepts these and then recurses forever or panics on the first chunk.
        if self.average_size <= 0:
            raise ValueError(f"average_size: must be at least 1 byte, got {self.average_size}")
        if not 0 <= self.size_variation < self.average_size:
            raise ValueError(
                f"size_variation: must be 0 or more and less than average_size ({self.average_size}),"
                f" got {self.size_variation}"
            )

    def cut_points(self, start: int, end: int, rng: random.Random) -> list[int]:
        """Ends of the pieces of data[start:end]: halve, give or take the variation, until small."""
        if (end - start) - self.average_size <= self.size_variation:
            return [end]
        shift = rng.randrange(2 * self.size_variation) - self.size_variation if self.size_variation else 0
        middle = start + (end - start) // 2 + shift
        return self.cut_points(start, middle, rng) + self.cut_points(middle, end, rng)

    async def pipe(self, stub: Stub) -> None:
        while True:
            item = await stub.receive()
            if isinstance(item, End):
                stub.send(item)
                return
            data, sent = item.data, 0
            try:
                for end in self.cut_points(0, len(data), stub.rng):
                    stub.send(Chunk(data[sent:end], item.at))
                    sent = end
                    if self.delay_us > 0:
                        await asyncio.sleep(self.delay_us / 1_000_000)
            finally:
                if sent < len(data):
                    stub.send(Chunk(data[sent:], item.at))  # interrupted: don't drop data on the floor
