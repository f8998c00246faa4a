"""What flows through a link: chunks of bytes, an end marker, and the FIFO between stages."""

from __future__ import annotations

import asyncio
from collections import deque
from dataclasses import dataclass
from enum import Enum


class Direction(Enum):
    UPSTREAM = "upstream"  # client -> server
    DOWNSTREAM = "downstream"  # server -> client

    @classmethod
    def parse(cls, text: str) -> Direction | None:
        """Toxiproxy accepts the stream name in any case."""
        try:
            return cls(text.lower())
        except ValueError:
            return None


@dataclass(slots=True)
class Chunk:
    data: bytes
    # Loop time the proxy read it; a delaying toxic moves it to when it let the chunk go, so
    # chained latencies add up (Toxiproxy's StreamChunk.Timestamp).
    at: float


class EndKind(Enum):
    EOF = "eof"  # the source finished sending: half-close the destination
    CLOSE = "close"  # a toxic ends the connection
    RESET = "reset"  # a toxic resets the connection (RST, not FIN)


@dataclass(frozen=True, slots=True)
class End:
    kind: EndKind


Item = Chunk | End


class Channel:
    """An unbounded FIFO between two stages (the link meters bytes in flight for backpressure).

    Cancelling a `get()` never loses an item, so a toxic can be interrupted at any await.
    """

    __slots__ = ("_items", "_waiter")

    def __init__(self) -> None:
        self._items: deque[Item] = deque()
        self._waiter: asyncio.Future[None] | None = None

    def __len__(self) -> int:
        return len(self._items)

    def put(self, item: Item) -> None:
        self._items.append(item)
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(None)

    async def get(self) -> Item:
        while not self._items:
            self._waiter = asyncio.get_running_loop().create_future()
            try:
                await self._waiter
            finally:
                self._waiter = None
        return self._items.popleft()

    def move_all_to(self, other: Channel) -> None:
        """Hand every queued item, in order, to `other` (a toxic leaving the chain)."""
        while self._items:
            other.put(self._items.popleft())
