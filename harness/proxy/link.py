"""One direction of a proxied connection: read the source, run the toxics, write the destination.

With no toxic on the link and nothing in flight, the link is DIRECT: the data plane
thread moves its bytes socket to socket (zero-copy). Once a toxic arrives the plane hands
the link back and it is CHAINED: this loop cuts the stream into chunks and queues them
through a chain of stages, one task per toxic, ending in the writer task. Toxics are
added, updated and removed on live links; the chain is re-plumbed between two stages
without losing or reordering a byte, and the link goes back to DIRECT when the last toxic
has gone and the last byte it held is out.
"""

from __future__ import annotations

import asyncio
import logging
import random
import socket
from collections.abc import Iterable
from dataclasses import dataclass
from enum import Enum
from typing import Protocol

from harness.proxy.dataplane import DataPlane, Route
from harness.proxy.model import ToxicSpec
from harness.proxy.stream import Channel, Chunk, Direction, End, EndKind
from harness.proxy.tasks import wake
from harness.proxy.toxics import NOOP, CleanupToxic, StatefulToxic, Stub, Toxic

log = logging.getLogger("harness.proxy")

CHUNK_BYTES = 64 * 1024  # one read on the toxic path
HIGH_WATER = 1 << 20  # stop reading the source with this much in flight...
LOW_WATER = 256 * 1024  # ...until it is down to this


class LinkOwner(Protocol):
    def eof_delivered(self, link: Link) -> None: ...

    def close(self, *, reset: bool = False) -> None: ...


class Mode(Enum):
    DIRECT = "direct"  # the data plane moves the bytes
    RELEASING = "releasing"  # a toxic came: waiting for the data plane to hand the link over
    CHAINED = "chained"  # this loop reads, runs the toxics and writes


@dataclass(eq=False)
class Stage:
    spec: ToxicSpec
    stub: Stub
    running: Toxic = NOOP  # the toxic itself, or noop when this link's toxicity roll said no
    task: asyncio.Task[None] | None = None


class Link:
    def __init__(
        self,
        owner: LinkOwner,
        direction: Direction,
        src: socket.socket,
        dst: socket.socket,
        plane: DataPlane,
        rng: random.Random,
    ) -> None:
        self.direction = direction
        self._owner, self._src, self._dst = owner, src, dst
        self._plane, self._rng = plane, rng
        self.route = Route(src, dst, on_end=self._direct_ended, on_error=self._failed)
        self._loop = asyncio.get_running_loop()
        self._stages: list[Stage] = []
        self._tail = Channel()  # what the writer task sends
        self._writer: asyncio.Task[None] | None = None
        self._in_flight = 0  # bytes read on the toxic path and not yet written or discarded
        self._reading = False
        self._pressure = False
        self.mode = Mode.DIRECT
        self._released: asyncio.Future[None] | None = None  # done once the data plane let go
        self.source_ended = False
        self.closed = False

    @property
    def quiet(self) -> bool:
        """Nothing in flight and the source still open: only a peer's silence keeps it alive."""
        return self._in_flight == 0 and self.route.backlog is None and not (self.source_ended or self.route.ended)

    def start(self, chain: Iterable[ToxicSpec]) -> None:
        for spec in chain:
            self._append(spec)
        if self._stages:
            self._enter_chained()
        else:
            self._plane.adopt(self.route)

    def close(self) -> None:
        """Stop everything here; the owner unregisters the sockets and has the plane close them."""
        self.closed = True
        self._reading = False
        for stage in self._stages:
            if stage.task is not None:
                stage.task.cancel()
        if self._writer is not None:
            self._writer.cancel()
        self._settle_release()

    def _settle_release(self) -> None:
        if self._released is not None and not self._released.done():
            self._released.set_result(None)

    def _failed(self) -> None:
        self._owner.close()

    def _direct_ended(self) -> None:
        if not self.closed:
            self.source_ended = True
            self._owner.eof_delivered(self)

    def _enter_chained(self) -> None:
        """The data plane has let go (or never had the link): read and write here."""
        self._settle_release()
        if self.closed:
            return
        self.mode = Mode.CHAINED
        self._sync_reader()
        self._ensure_writer()
        self._maybe_direct()

    def _maybe_direct(self) -> None:
        """Hand the link to the data plane once no toxic and no byte of theirs is left."""
        if self.mode is Mode.CHAINED and not (self._stages or self._in_flight or self.source_ended or self.closed):
            self.mode = Mode.DIRECT
            self._sync_reader()
            self._plane.adopt(self.route)

    # ---- reading on the toxic path -----------------------------------------------------

    def _sync_reader(self) -> None:
        want = self.mode is Mode.CHAINED and not (self.closed or self.source_ended or self._pressure)
        if want and not self._reading:
            self._loop.add_reader(self._src.fileno(), self._read_chunk)
        elif self._reading and not want:
            self._loop.remove_reader(self._src.fileno())
        self._reading = want

    def _read_chunk(self) -> None:
        try:
            data = self._src.recv(CHUNK_BYTES)
        except BlockingIOError:
            return
        except OSError:
            self._end_chained(EndKind.CLOSE)  # what was read before still goes out first
            return
        if not data:
            self._end_chained(EndKind.EOF)
            return
        self._in_flight += len(data)
        self.route.moved += len(data)
        self._head().put(Chunk(data, self._loop.time()))
        if self._in_flight >= HIGH_WATER:
            self._pressure = True
            self._sync_reader()

    def _end_chained(self, kind: EndKind) -> None:
        self.source_ended = True
        self._sync_reader()
        self._head().put(End(kind))

    def _head(self) -> Channel:
        return self._stages[0].stub.input if self._stages else self._tail

    # ---- writing on the toxic path -----------------------------------------------------

    def discarded(self, nbytes: int) -> None:
        """Bytes that left the link, written or dropped (the Meter a toxic reports to)."""
        self._in_flight -= nbytes
        if self._pressure and self._in_flight <= LOW_WATER:
            self._pressure = False
            self._sync_reader()
        if not self._in_flight:
            self._maybe_direct()

    def _ensure_writer(self) -> None:
        if self._writer is None and not self.closed:
            self._writer = self._loop.create_task(self._write_loop(), name=f"{self.direction.value} writer")

    async def _write_loop(self) -> None:
        while True:
            item = await self._tail.get()
            if isinstance(item, End):
                self._finish(item.kind)
                return
            if not await self._send_all(item.data):
                return
            self.route.moved += len(item.data)
            self.discarded(len(item.data))

    async def _send_all(self, data: bytes) -> bool:
        view = memoryview(data)
        while view:
            try:
                view = view[self._dst.send(view) :]
            except BlockingIOError:
                await self._writable()
            except OSError:
                self._owner.close()
                return False
        return True

    async def _writable(self) -> None:
        ready: asyncio.Future[None] = self._loop.create_future()
        self._loop.add_writer(self._dst.fileno(), wake, ready)
        try:
            await ready
        finally:
            if not self.closed:  # once closed, the owner has unregistered the descriptor
                self._loop.remove_writer(self._dst.fileno())

    def _finish(self, kind: EndKind) -> None:
        if kind is not EndKind.EOF:
            self._owner.close(reset=kind is EndKind.RESET)
            return
        try:  # an EOF travels as a half-close: the other direction keeps flowing
            self._dst.shutdown(socket.SHUT_WR)
        except OSError:
            self._owner.close()
            return
        self._owner.eof_delivered(self)

    # ---- the toxic chain ---------------------------------------------------------------

    def add_toxic(self, spec: ToxicSpec) -> asyncio.Future[None] | None:
        """Append a stage: data already past the old end of the chain is not affected.

        The future (None if there is nothing to wait for) is done once every byte read from
        then on goes through the toxic: a DIRECT link must first be released by the data plane.
        """
        self._append(spec)
        if self.mode is Mode.DIRECT:
            self.mode = Mode.RELEASING
            self._released = self._loop.create_future()
            self._plane.release(self.route, self._enter_chained)
        return self._released if self.mode is Mode.RELEASING else None

    def _append(self, spec: ToxicSpec) -> None:
        stub = Stub(Channel(), self._tail, self._rng, self)
        if isinstance(spec.toxic, StatefulToxic):
            stub.state = spec.toxic.new_state()
        if self._stages:
            self._stages[-1].stub.output = stub.input
        stage = Stage(spec, stub)
        self._stages.append(stage)
        self._run(stage)

    async def update_toxic(self, spec: ToxicSpec) -> None:
        stage = self._stage(spec.name)
        if stage is None:
            return
        await self._interrupt(stage)  # it forwards what it held, as Toxiproxy's toxics do
        if not self.closed:
            stage.spec = spec
            self._run(stage)

    async def remove_toxic(self, name: str) -> None:
        stage = self._stage(name)
        if stage is None:
            return
        await self._interrupt(stage)
        if self.closed:
            return
        if isinstance(stage.running, CleanupToxic):
            stage.running.cleanup(stage.stub)
        stage.stub.input.move_all_to(stage.stub.output)
        index = self._stages.index(stage)
        if index > 0:
            self._stages[index - 1].stub.output = stage.stub.output
        del self._stages[index]
        self._maybe_direct()

    def _stage(self, name: str) -> Stage | None:
        return next((stage for stage in self._stages if stage.spec.name == name), None)

    def _run(self, stage: Stage) -> None:
        stage.running = stage.spec.toxic if self._rng.random() < stage.spec.toxicity else NOOP
        stage.task = self._loop.create_task(self._guard(stage), name=f"toxic {stage.spec.name}")

    async def _guard(self, stage: Stage) -> None:
        try:
            await stage.running.pipe(stage.stub)
        except Exception:
            log.exception("toxic %s failed; closing its connection", stage.spec.name)
            self._owner.close()

    async def _interrupt(self, stage: Stage) -> None:
        task = stage.task
        if task is not None and not task.done():
            task.cancel()
            await asyncio.wait([task])
