"""noop: passes everything through unchanged (Toxiproxy's `toxics/noop.go`)."""

from __future__ import annotations

from dataclasses import dataclass

from harness.proxy.stream import End
from harness.proxy.toxics.base import Stub, register


@register("noop")
@dataclass(frozen=True)
class Noop:
    """Also what a link runs in place of a toxic that its toxicity roll skipped."""

    async def pipe(self, stub: Stub) -> None:
        while True:
            item = await stub.receive()
            stub.send(item)
            if isinstance(item, End):
                return


NOOP = Noop()
