"""limit_data: closes the connection once `bytes` bytes have passed (Toxiproxy's `toxics/limit_data.go`)."""

from __future__ import annotations

from dataclasses import dataclass

from harness.proxy.stream import Chunk, End, EndKind
from harness.proxy.toxics.base import Stub, register, wire


class Transmitted:
    """Bytes let through on one link so far; survives updates of the toxic."""

    def __init__(self) -> None:
        self.nbytes = 0


@register("limit_data")
@dataclass(frozen=True)
class LimitData:
    limit_bytes: int = wire("bytes")

    def new_state(self) -> Transmitted:
        return Transmitted()

    async def pipe(self, stub: Stub) -> None:
        transmitted = stub.state
        assert isinstance(transmitted, Transmitted)
        while True:
            item = await stub.receive()
            if isinstance(item, End):
                stub.send(item)
                return
            remaining = max(0, self.limit_bytes - transmitted.nbytes)
            if len(item.data) > remaining:
                stub.discard(len(item.data) - remaining)
                item = Chunk(item.data[:remaining], item.at)
            if item.data:
                stub.send(item)
                transmitted.nbytes += len(item.data)
            if transmitted.nbytes >= self.limit_bytes:
                stub.end(EndKind.CLOSE)
                return
