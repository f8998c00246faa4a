"""reset_peer: resets the connection (RST) `timeout` ms after the first data (Toxiproxy's `toxics/reset_peer.go`)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from harness.proxy.stream import Chunk, EndKind
from harness.proxy.toxics.base import Stub, register, wire


@register("reset_peer")
@dataclass(frozen=True)
class ResetPeer:
    timeout_ms: int = wire("timeout")

    async def pipe(self, stub: Stub) -> None:
        item = await stub.receive()
        try:
            # Interruptible: Toxiproxy's wait here is not, so removing the toxic hangs the API call.
            await asyncio.sleep(max(0, self.timeout_ms) / 1000)
        except asyncio.CancelledError:
            stub.send(item)  # interrupted: pass on what it took instead of dropping it
            raise
        if isinstance(item, Chunk):
            stub.discard(len(item.data))  # a reset discards unsent data, as a real RST does
        stub.end(EndKind.RESET)
