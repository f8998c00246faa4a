"""The server: the API plus every proxy, started from settings, stopped on SIGTERM."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import resource
import signal
from dataclasses import dataclass

from harness.proxy.addresses import format_sockname, is_loopback
from harness.proxy.api import ToxiproxyApi
from harness.proxy.collection import PopulateError, ProxyCollection, ProxyEntry
from harness.proxy.dataplane import DataPlane
from harness.proxy.errors import ApiError
from harness.proxy.httpserver import serve
from harness.proxy.proxy import Runtime
from harness.proxy.zerocopy import make_mover

log = logging.getLogger("harness.proxy")


@dataclass(frozen=True)
class Settings:
    host: str = "127.0.0.1"
    port: int = 8474
    proxies: tuple[ProxyEntry, ...] = ()  # created before the API listens
    seed: int | None = None  # seeds toxicity and jitter, for repeatable runs
    half_close_idle_s: float = 5.0
    zero_copy: bool = True


class ProxyServer:
    """Create it inside the running loop: its data plane calls back into that loop."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._plane = DataPlane(make_mover(settings.zero_copy), asyncio.get_running_loop())
        runtime = Runtime(
            plane=self._plane,
            rng=random.Random(settings.seed),
            half_close_idle_s=settings.half_close_idle_s,
        )
        self.collection = ProxyCollection(runtime)
        self._http: asyncio.Server | None = None
        self.api_address = ""

    async def start(self) -> str:
        """Create the configured proxies, then listen for the API; returns `host:port` of the API."""
        await self.collection.populate(list(self.settings.proxies))
        self._http = await serve(ToxiproxyApi(self.collection), self.settings.host, self.settings.port)
        self.api_address = format_sockname(self._http.sockets[0].getsockname())
        if not is_loopback(self.settings.host):
            log.warning("the API listens on %s, not loopback: whoever reaches it can inject faults", self.api_address)
        log.info("API listening on http://%s", self.api_address)
        return self.api_address

    async def close(self) -> None:
        self.collection.close()
        self._plane.stop()  # after the closes it was sent: it runs them first
        if self._http is not None:
            self._http.close()
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(2):
                    await self._http.wait_closed()


def raise_descriptor_limit() -> None:
    """Two sockets per proxied connection add up; raise the soft limit to the hard one, as Go does."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != hard:
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


async def run(settings: Settings) -> int:
    """Serve until SIGTERM or SIGINT; the exit code."""
    raise_descriptor_limit()
    server = ProxyServer(settings)
    try:
        await server.start()
    except PopulateError as exc:
        log.error("cannot create the configured proxies: %s", exc.message)
        await server.close()
        return 1
    except (ApiError, OSError) as exc:
        log.error("cannot start: %s", exc.message if isinstance(exc, ApiError) else exc)
        await server.close()
        return 1
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    await stop.wait()
    log.info("shutting down")
    await server.close()
    return 0
