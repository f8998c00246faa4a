"""The data plane: a thread that moves bytes for every link with no toxic in the way.

asyncio costs tens of microseconds per readiness event on a busy machine; a bare
selector loop in its own thread costs a fraction of that, and the bytes themselves move
with `os.splice` (zero-copy). The asyncio side hands a link's direct path (a `Route`) to
the plane with `adopt`, takes it back with `release` before running toxics on it, and
has the plane close the sockets, so only this thread ever touches a route's descriptors
while it owns them. Both sides talk through FIFO queues: commands here, callbacks there
(`call_soon_threadsafe`), so events keep their order.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import select
import socket
import struct
import threading
from collections import deque
from collections.abc import Callable

from harness.proxy.zerocopy import Backlog, Mover

log = logging.getLogger("harness.proxy")

ROUNDS = 16  # moves per readiness event before other sockets get a turn
FULL_ROUND = 64 * 1024  # a move this big suggests the socket has more right away
LINGER_RESET = struct.pack("ii", 1, 0)  # SO_LINGER on, 0 s: close() sends RST, not FIN
# select.POLL* and select.EPOLL* share their values on Linux.
READABLE, WRITABLE = select.POLLIN, select.POLLOUT
READ_EVENTS = select.POLLIN | select.POLLERR | select.POLLHUP  # an error or hang-up shows on the next read
WRITE_EVENTS = select.POLLOUT | select.POLLERR | select.POLLHUP


class Route:
    """One link's direct path from `src` to `dst`; its methods run on the plane's thread.

    `on_end` (the source sent EOF, passed on as a half-close) and `on_error` are called on
    the asyncio loop.
    """

    def __init__(
        self,
        src: socket.socket,
        dst: socket.socket,
        on_end: Callable[[], None],
        on_error: Callable[[], None],
    ) -> None:
        self.src, self.dst = src, dst
        self.src_fd, self.dst_fd = src.fileno(), dst.fileno()
        self.on_end, self.on_error = on_end, on_error
        # Bytes moved (the toxic path counts its reads and writes here too, as the link is one
        # side's at a time); the asyncio side only watches it change, to tell idleness.
        self.moved = 0
        self.backlog: Backlog | None = None
        self.ended = False
        self.release_then: Callable[[], None] | None = None


class DataPlane:
    def __init__(self, mover: Mover, loop: asyncio.AbstractEventLoop) -> None:
        self._mover, self._loop = mover, loop
        # epoll on Linux, poll elsewhere: the same calls, and no per-event objects as selectors makes.
        self._poller = select.epoll() if hasattr(select, "epoll") else select.poll()
        self._registered: dict[int, int] = {}  # fd -> the events it is registered for
        self._wake_read, self._wake_write = os.pipe()
        for fd in (self._wake_read, self._wake_write):
            os.set_blocking(fd, False)
        self._poller.register(self._wake_read, READABLE)
        self._commands: deque[Callable[[], None]] = deque()
        self._readers: dict[int, Route] = {}  # fd -> the route reading it
        self._writers: dict[int, Route] = {}  # fd -> the route draining a backlog into it
        self._running = True
        self._thread = threading.Thread(target=self._run, name="proxy data plane", daemon=True)
        self._thread.start()

    # ---- called from the asyncio side --------------------------------------------------

    def adopt(self, route: Route) -> None:
        self._call(lambda: self._watch(route.src, reading=route))

    def release(self, route: Route, then: Callable[[], None]) -> None:
        """Stop moving `route`; `then` runs on the loop once its backlog has gone out."""
        self._call(lambda: self._release(route, then))

    def close(self, sockets: tuple[socket.socket, ...], routes: tuple[Route, ...], reset: bool) -> None:
        self._call(lambda: self._close(sockets, routes, reset))

    def stop(self) -> None:
        def halt() -> None:
            self._running = False

        self._call(halt)
        self._thread.join(timeout=5)
        if isinstance(self._poller, select.epoll):
            self._poller.close()
        os.close(self._wake_read)
        os.close(self._wake_write)

    def _call(self, command: Callable[[], None]) -> None:
        self._commands.append(command)
        with contextlib.suppress(BlockingIOError):  # a full pipe already means "wake up"
            os.write(self._wake_write, b"\0")

    # ---- the thread --------------------------------------------------------------------

    def _run(self) -> None:
        poll, readers, writers, wake = self._poller.poll, self._readers, self._writers, self._wake_read
        while self._running:
            for fd, events in poll():
                try:
                    if events & READ_EVENTS and (route := readers.get(fd)) is not None:
                        self._readable(route)
                    if events & WRITE_EVENTS and (route := writers.get(fd)) is not None:
                        self._writable(route)
                    if fd == wake:
                        with contextlib.suppress(BlockingIOError):
                            os.read(wake, 4096)
                except Exception:
                    log.exception("data plane failed on descriptor %d", fd)
            while self._commands:
                try:
                    self._commands.popleft()()
                except Exception:
                    log.exception("data plane command failed")

    def _readable(self, route: Route) -> None:
        try:
            for _ in range(ROUNDS):
                nread, backlog = self._mover.move(route.src_fd, route.dst_fd)
                if nread == 0:
                    self._end(route)
                    return
                route.moved += nread
                if backlog is not None:
                    route.backlog = backlog  # the destination is full: stop reading until it drained
                    route.moved -= backlog.size
                    self._unwatch(route.src, reading=True)
                    self._watch(route.dst, writing=route)
                    return
                if nread < FULL_ROUND:
                    return
        except BlockingIOError:
            return
        except OSError:
            self._fail(route)

    def _writable(self, route: Route) -> None:
        backlog = route.backlog
        assert backlog is not None
        try:
            size = backlog.size
            done = backlog.drain(route.dst_fd)
            route.moved += size - backlog.size
        except OSError:
            self._fail(route)
            return
        if not done:
            return
        route.backlog = None
        self._unwatch(route.dst, writing=True)
        if route.release_then is not None:
            self._loop.call_soon_threadsafe(route.release_then)
            route.release_then = None
        else:
            self._watch(route.src, reading=route)

    def _end(self, route: Route) -> None:
        """EOF: pass it on as a half-close; the other direction keeps flowing."""
        route.ended = True
        self._unwatch(route.src, reading=True)
        try:
            route.dst.shutdown(socket.SHUT_WR)
        except OSError:
            self._fail(route)
            return
        self._loop.call_soon_threadsafe(route.on_end)

    def _fail(self, route: Route) -> None:
        self._unwatch(route.src, reading=True)
        self._unwatch(route.dst, writing=True)
        self._loop.call_soon_threadsafe(route.on_error)

    def _release(self, route: Route, then: Callable[[], None]) -> None:
        self._unwatch(route.src, reading=True)
        if route.backlog is None:
            self._loop.call_soon_threadsafe(then)
        else:
            route.release_then = then

    def _close(self, sockets: tuple[socket.socket, ...], routes: tuple[Route, ...], reset: bool) -> None:
        for route in routes:
            if route.backlog is not None:
                route.backlog.close()
                route.backlog = None
        for sock in sockets:
            self._unwatch(sock, reading=True)
            self._unwatch(sock, writing=True)
            if reset:
                with contextlib.suppress(OSError):
                    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, LINGER_RESET)
            sock.close()

    # ---- registrations (one selector key per descriptor, for both directions) ---------

    def _watch(self, sock: socket.socket, reading: Route | None = None, writing: Route | None = None) -> None:
        fd = sock.fileno()
        if fd < 0:
            return  # closed meanwhile
        if reading is not None:
            self._readers[fd] = reading
        if writing is not None:
            self._writers[fd] = writing
        self._sync(fd)

    def _unwatch(self, sock: socket.socket, reading: bool = False, writing: bool = False) -> None:
        fd = sock.fileno()
        if fd < 0:
            return
        if reading:
            self._readers.pop(fd, None)
        if writing:
            self._writers.pop(fd, None)
        self._sync(fd)

    def _sync(self, fd: int) -> None:
        events = (READABLE if fd in self._readers else 0) | (WRITABLE if fd in self._writers else 0)
        registered = self._registered.get(fd)
        if registered is None:
            if events:
                self._poller.register(fd, events)
                self._registered[fd] = events
        elif not events:
            self._poller.unregister(fd)
            del self._registered[fd]
        elif registered != events:
            self._poller.modify(fd, events)
            self._registered[fd] = events
