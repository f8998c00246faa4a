"""The toxic contract, shaped like Toxiproxy's `toxics/toxic.go`.

A toxic is a frozen dataclass of attributes with one method, `pipe(stub)`: an async stage
that reads items from `stub.receive()` and passes them on with `stub.send()`. The link
interrupts a stage by cancelling its task (to update or remove the toxic); a toxic that
holds data when interrupted forwards it in a `finally`, it never drops it. Extra abilities
are separate optional protocols: per-connection state, cleanup on removal, validation.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable
from dataclasses import Field, field
from typing import Any, Protocol, TypeVar, runtime_checkable

from harness.proxy.stream import Channel, End, EndKind, Item


class Meter(Protocol):
    """The link's count of bytes in flight; a toxic that drops bytes says so."""

    def discarded(self, nbytes: int) -> None: ...


class Stub:
    """One toxic's place in one link: where it reads, where it writes, its per-link state."""

    __slots__ = ("_meter", "input", "output", "rng", "state")

    def __init__(self, input: Channel, output: Channel, rng: random.Random, meter: Meter) -> None:
        self.input = input
        self.output = output  # re-pointed when a toxic behind this one is added or removed
        self.rng = rng
        self.state: object | None = None
        self._meter = meter

    async def receive(self) -> Item:
        return await self.input.get()

    def send(self, item: Item) -> None:
        self.output.put(item)

    def end(self, kind: EndKind) -> None:
        self.output.put(End(kind))

    def discard(self, nbytes: int) -> None:
        """Account for bytes this toxic drops on purpose (timeout, limit_data, reset_peer)."""
        self._meter.discarded(nbytes)

    def now(self) -> float:
        return asyncio.get_running_loop().time()

    async def sleep_until(self, deadline: float) -> None:
        delay = deadline - self.now()
        if delay > 0:
            await asyncio.sleep(delay)


class Toxic(Protocol):
    async def pipe(self, stub: Stub) -> None:
        """Move items from `stub.input` to `stub.output` until an End has passed."""


@runtime_checkable
class StatefulToxic(Protocol):
    """State kept per link while the toxic stays on it (across updates)."""

    def new_state(self) -> object: ...


@runtime_checkable
class CleanupToxic(Protocol):
    """Called instead of flushing when the toxic is removed from a live link."""

    def cleanup(self, stub: Stub) -> None: ...


@runtime_checkable
class ValidatedToxic(Protocol):
    """Refuses attribute values the proxy cannot run (raises ValueError naming the field)."""

    def validate(self) -> None: ...


def wire(name: str, go_type: str = "int64") -> Any:
    """An integer attribute called `name` in Toxiproxy's JSON (default 0, like Go's zero value)."""
    return field(default=0, metadata={"wire": name, "go_type": go_type})


def wire_fields(cls: type) -> list[Field[Any]]:
    fields: dict[str, Field[Any]] = getattr(cls, "__dataclass_fields__", {})
    return [f for f in fields.values() if "wire" in f.metadata]


ToxicClass = TypeVar("ToxicClass", bound=type)
REGISTRY: dict[str, type] = {}


def register(type_name: str) -> Callable[[ToxicClass], ToxicClass]:
    """Class decorator: make a toxic available as `type_name` (its `type` in the API)."""

    def add(cls: ToxicClass) -> ToxicClass:
        REGISTRY[type_name] = cls
        return cls

    return add
