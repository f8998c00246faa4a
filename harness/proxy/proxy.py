"""One proxy: listens, connects each client to the upstream, and applies its toxics.

The runtime side of Toxiproxy's `proxy.go` and `toxic_collection.go`. Its toxic chain
(one per direction) is the template every new connection starts with; a change to the
chain is applied to the live connections too.
"""

from __future__ import annotations

import asyncio
import errno
import logging
import os
import random
import socket
from dataclasses import dataclass

from harness.proxy.addresses import (
    AddressError,
    HostPort,
    format_sockname,
    is_loopback,
    listen_error_address,
    resolve,
)
from harness.proxy.connection import Connection
from harness.proxy.dataplane import DataPlane
from harness.proxy.errors import ApiError, bad_request_body, listen_failed
from harness.proxy.leases import Leases
from harness.proxy.model import ToxicSpec
from harness.proxy.stream import Direction
from harness.proxy.tasks import TaskSet, wake

log = logging.getLogger("harness.proxy")

ACCEPT_BATCH = 64  # accepts per readiness event
ACCEPT_PAUSE_S = 0.1  # back off when out of descriptors instead of spinning on the listener
DOWN = "down"  # the lease key of a proxy disabled with ttl_s


@dataclass(frozen=True)
class Runtime:
    """What every proxy of one server shares."""

    plane: DataPlane
    rng: random.Random
    half_close_idle_s: float = 5.0
    connect_timeout_s: float = 10.0


def toxic_key(name: str) -> str:
    return f"toxic:{name}"


def check_syntax(listen: str, upstream: str) -> HostPort:
    """Both addresses as `host:port`; the parsed listen address."""
    try:
        HostPort.parse(upstream)
    except AddressError as exc:
        raise bad_request_body(f"upstream: {exc}") from exc
    try:
        return HostPort.parse(listen)
    except AddressError as exc:
        raise ApiError(f"listen tcp: {exc}", 400) from exc  # the client's mistake (Toxiproxy: 500)


async def check_addresses(listen: str, upstream: str) -> tuple[socket.AddressFamily, tuple[str, int]]:
    """Everything about the addresses that can be known without binding: the syntax of both,
    and the listen host's lookup. The socket address to bind."""
    address = check_syntax(listen, upstream)
    try:
        return await resolve(address, passive=True)
    except AddressError as exc:
        raise ApiError(f"listen tcp: {exc}", 400) from exc


class Proxy:
    def __init__(self, name: str, listen: str, upstream: str, runtime: Runtime) -> None:
        self.name, self.listen, self.upstream = name, listen, upstream
        self.enabled = False
        self.chains: dict[Direction, list[ToxicSpec]] = {direction: [] for direction in Direction}
        self.lock = asyncio.Lock()  # one change at a time, like Toxiproxy's collection mutex
        self.leases = Leases()
        self._runtime = runtime
        self._loop = asyncio.get_running_loop()
        self._listener: socket.socket | None = None
        self._connections: set[Connection] = set()
        self._connecting = TaskSet()
        self._expiring = TaskSet()

    # ---- listening -----------------------------------------------------------------------

    async def start(self) -> None:
        if self.enabled:
            return
        family, sockaddr = await check_addresses(self.listen, self.upstream)
        listener = socket.socket(family, socket.SOCK_STREAM)
        try:
            listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            listener.bind(sockaddr)
            listener.listen(socket.SOMAXCONN)
        except OSError as exc:
            listener.close()
            address = listen_error_address(HostPort.parse(self.listen), sockaddr)
            raise listen_failed(address, (exc.strerror or str(exc)).lower()) from exc
        listener.setblocking(False)
        self._listener = listener
        self.listen = format_sockname(listener.getsockname())
        self.enabled = True
        self._loop.add_reader(listener.fileno(), self._accept)
        if not is_loopback(sockaddr[0]):
            log.warning("proxy %s listens on %s, which is not loopback", self.name, self.listen)
        log.info("started proxy %s: %s -> %s", self.name, self.listen, self.upstream)

    async def reconfigure(self, listen: str, upstream: str, enabled: bool) -> None:
        """Toxiproxy's update: a new listen or upstream address drops the connections and
        restarts the proxy there. A request that cannot be carried out changes nothing: bad
        addresses are refused before anything stops, and when the OS refuses the new listen
        address the proxy goes back to the old addresses (and up, if it was) before the error
        is raised."""
        moved = (listen, upstream) != (self.listen, self.upstream)
        if moved and enabled:
            await check_addresses(listen, upstream)
        elif moved:
            check_syntax(listen, upstream)  # a lease may start it later: no junk to fail on then
        before = (self.listen, self.upstream, self.enabled)
        if moved:
            self.stop()  # drops its connections, as documented by Toxiproxy
            self.listen, self.upstream = listen, upstream
        if not enabled:
            self.stop()
            return
        try:
            await self.start()
        except ApiError:
            await self._restore(*before)
            raise

    async def _restore(self, listen: str, upstream: str, enabled: bool) -> None:
        self.listen, self.upstream = listen, upstream
        if not enabled:
            return
        try:
            await self.start()
        except ApiError as exc:  # someone took the old port in the meantime
            log.error("proxy %s could not go back to %s: %s", self.name, listen, exc.message)

    def stop(self) -> None:
        """Stop listening and close every connection (Toxiproxy's `enabled: false`)."""
        if not self.enabled:
            return
        self.enabled = False
        if self._listener is not None:
            self._loop.remove_reader(self._listener.fileno())
            self._listener.close()
            self._listener = None
        self._connecting.cancel_all()
        for connection in list(self._connections):
            connection.close()
        log.info("stopped proxy %s", self.name)

    def _accept(self) -> None:
        listener = self._listener
        assert listener is not None
        for _ in range(ACCEPT_BATCH):
            try:
                client, _ = listener.accept()
            except BlockingIOError:
                return
            except OSError as exc:
                if exc.errno in (errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM):
                    log.warning("proxy %s cannot accept: %s; pausing %g s", self.name, exc, ACCEPT_PAUSE_S)
                    self._loop.remove_reader(listener.fileno())
                    self._loop.call_later(ACCEPT_PAUSE_S, self._resume_accepting, listener)
                    return
                continue  # the client gave up before we accepted it
            client.setblocking(False)
            client.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # as Go sets by default
            self._connecting.spawn(self._connect(client), name=f"{self.name} connect")

    def _resume_accepting(self, listener: socket.socket) -> None:
        if self._listener is listener:
            self._loop.add_reader(listener.fileno(), self._accept)

    async def _connect(self, client: socket.socket) -> None:
        upstream: socket.socket | None = None
        try:
            family, sockaddr = await resolve(HostPort.parse(self.upstream), passive=False)
            upstream = socket.socket(family, socket.SOCK_STREAM)
            upstream.setblocking(False)
            upstream.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            async with asyncio.timeout(self._runtime.connect_timeout_s):
                await self._connect_socket(upstream, sockaddr)
        except (OSError, AddressError, TimeoutError, asyncio.CancelledError) as exc:
            client.close()
            if upstream is not None:
                upstream.close()
            if isinstance(exc, asyncio.CancelledError):
                raise
            log.warning("proxy %s: unable to open connection to upstream %s: %s", self.name, self.upstream, exc)
            return
        connection = Connection(
            client,
            upstream,
            plane=self._runtime.plane,
            rng=self._runtime.rng,
            half_close_idle_s=self._runtime.half_close_idle_s,
            on_closed=self._connections.discard,
        )
        self._connections.add(connection)
        connection.start(self.chains)

    async def _connect_socket(self, sock: socket.socket, sockaddr: tuple[str, int]) -> None:
        error = sock.connect_ex(sockaddr)
        if error == errno.EINPROGRESS:
            ready: asyncio.Future[None] = self._loop.create_future()
            self._loop.add_writer(sock.fileno(), wake, ready)
            try:
                await ready
            finally:
                self._loop.remove_writer(sock.fileno())
            error = sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
        if error:
            raise OSError(error, os.strerror(error))

    # ---- toxics --------------------------------------------------------------------------

    def toxics(self) -> list[ToxicSpec]:
        """Upstream toxics first, then downstream, each in the order added (as Toxiproxy lists them)."""
        return [*self.chains[Direction.UPSTREAM], *self.chains[Direction.DOWNSTREAM]]

    def toxic(self, name: str) -> ToxicSpec | None:
        return next((spec for spec in self.toxics() if spec.name == name), None)

    async def add_toxic(self, spec: ToxicSpec) -> None:
        """Returns once the toxic applies to every live connection, as Toxiproxy's does."""
        self.chains[spec.direction].append(spec)
        links = [connection.links[spec.direction] for connection in self._connections]
        pending = [released for link in links if (released := link.add_toxic(spec)) is not None]
        if pending:
            await asyncio.gather(*pending)

    async def update_toxic(self, spec: ToxicSpec) -> None:
        chain = self.chains[spec.direction]
        chain[[old.name for old in chain].index(spec.name)] = spec
        links = [connection.links[spec.direction] for connection in self._connections]
        await asyncio.gather(*(link.update_toxic(spec) for link in links))

    async def remove_toxic(self, name: str) -> None:
        spec = self.toxic(name)
        if spec is None:
            return
        self.leases.cancel(toxic_key(name))
        self.chains[spec.direction].remove(spec)
        links = [connection.links[spec.direction] for connection in self._connections]
        await asyncio.gather(*(link.remove_toxic(name) for link in links))

    async def remove_all_toxics(self) -> None:
        for spec in self.toxics():
            await self.remove_toxic(spec.name)

    # ---- leases (gamedrill's ttl_s extension) --------------------------------------------

    def lease_toxic(self, name: str, ttl_s: float | None) -> None:
        """Remove the toxic after `ttl_s` unless leased again; None makes it permanent."""
        if ttl_s is None:
            self.leases.cancel(toxic_key(name))
            return
        self.leases.set(
            toxic_key(name),
            ttl_s,
            lambda: self._expiring.start(self._expire_toxic(name, ttl_s), name=f"expire toxic {name}"),
        )

    async def _expire_toxic(self, name: str, ttl_s: float) -> None:
        async with self.lock:
            if self.toxic(name) is not None:
                log.info("proxy %s: lease of toxic %s ran out (%g s); removing it", self.name, name, ttl_s)
                await self.remove_toxic(name)

    def lease_down(self, ttl_s: float | None) -> None:
        """Re-enable the (disabled) proxy after `ttl_s` unless leased again."""
        if ttl_s is None:
            self.leases.cancel(DOWN)
            return
        self.leases.set(DOWN, ttl_s, lambda: self._expiring.start(self._expire_down(ttl_s), name="expire down"))

    async def _expire_down(self, ttl_s: float) -> None:
        async with self.lock:
            if self.enabled:
                return
            log.info("proxy %s: lease of down ran out (%g s); enabling it", self.name, ttl_s)
            try:
                await self.start()
            except ApiError as exc:
                log.error("proxy %s could not be re-enabled: %s", self.name, exc.message)

    def close(self) -> None:
        """For good: stop, and drop every lease and pending expiry."""
        self.stop()
        self.leases.cancel_all()
        self._expiring.cancel_all()
