"""A proxied connection: the client's socket, the upstream socket and the two links between them."""

from __future__ import annotations

import asyncio
import random
import socket
from collections.abc import Callable, Mapping, Sequence

from harness.proxy.dataplane import DataPlane
from harness.proxy.link import Link
from harness.proxy.model import ToxicSpec
from harness.proxy.stream import Direction


class Connection:
    """Closes when both directions have ended, when a toxic says so, or on a socket error.

    An EOF travels as a half-close and the other direction keeps flowing. Once one direction
    has ended, the other may idle `half_close_idle_s` (up to twice that, as it is checked
    every period) before both sockets are closed, so a peer that never closes cannot pin
    descriptors here forever.
    """

    def __init__(
        self,
        client: socket.socket,
        upstream: socket.socket,
        *,
        plane: DataPlane,
        rng: random.Random,
        half_close_idle_s: float,
        on_closed: Callable[[Connection], None],
    ) -> None:
        self._loop = asyncio.get_running_loop()
        self._sockets = (client, upstream)
        self._plane = plane
        self._idle_s = half_close_idle_s
        self._on_closed = on_closed
        self._idle_timer: asyncio.TimerHandle | None = None
        self._ended: set[Direction] = set()
        self.closed = False
        self.links = {
            Direction.UPSTREAM: Link(self, Direction.UPSTREAM, client, upstream, plane, rng),
            Direction.DOWNSTREAM: Link(self, Direction.DOWNSTREAM, upstream, client, plane, rng),
        }

    def start(self, chains: Mapping[Direction, Sequence[ToxicSpec]]) -> None:
        for direction, link in self.links.items():
            link.start(chains[direction])

    def eof_delivered(self, link: Link) -> None:
        if self.closed:
            return
        self._ended.add(link.direction)
        if len(self._ended) == len(self.links):
            self.close()
        elif self._idle_timer is None:
            self._watch_idle()

    def _still_open(self) -> Link:
        (link,) = (link for link in self.links.values() if link.direction not in self._ended)
        return link

    def _watch_idle(self) -> None:
        seen = self._still_open().route.moved
        self._idle_timer = self._loop.call_later(self._idle_s, self._close_if_idle, seen)

    def _close_if_idle(self, seen: int) -> None:
        link = self._still_open()
        if link.quiet and link.route.moved == seen:
            self.close()
        else:
            self._watch_idle()

    def close(self, *, reset: bool = False) -> None:
        if self.closed:
            return
        self.closed = True
        if self._idle_timer is not None:
            self._idle_timer.cancel()
        for link in self.links.values():
            link.close()
        for sock in self._sockets:
            # This loop lets go of the descriptors now; the plane closes them once it has too.
            self._loop.remove_reader(sock.fileno())
            self._loop.remove_writer(sock.fileno())
        self._plane.close(self._sockets, tuple(link.route for link in self.links.values()), reset)
        self._on_closed(self)
