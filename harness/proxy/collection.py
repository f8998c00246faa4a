"""Every proxy of the server by name: create, populate, update, delete, reset.

Toxiproxy's `proxy_collection.go` and the proxy half of `api.go`, including gamedrill's
lease on a disabled proxy: `{"enabled": false, "ttl_s": N}` re-enables it after N s.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

from harness.proxy import wire
from harness.proxy.addresses import DEFAULT_LISTEN, AddressError, HostPort
from harness.proxy.errors import ApiError, bad_request_body, missing_field, proxy_exists, proxy_not_found
from harness.proxy.proxy import Proxy, Runtime

STRUCT = "Proxy"


@dataclass(frozen=True)
class ProxyEntry:
    """A proxy as given to /proxies, /populate, -config or --proxy."""

    name: str
    listen: str
    upstream: str
    enabled: bool = True

    @classmethod
    def from_json(cls, obj: wire.JsonObject, where: str = "") -> ProxyEntry:
        """`where` (" at proxy 2") completes /populate's missing-field messages."""
        entry = cls(
            name=wire.get_str(obj, "name", STRUCT, ""),
            listen=wire.get_str(obj, "listen", STRUCT, "") or DEFAULT_LISTEN,
            upstream=wire.get_str(obj, "upstream", STRUCT, ""),
            enabled=wire.get_bool(obj, "enabled", STRUCT, True),
        )
        if not entry.name:
            raise missing_field(f"name{where}")
        if not entry.upstream:
            raise missing_field(f"upstream{where}")
        return entry

    def check_addresses(self) -> None:
        """Syntax only: an upstream may be a name that resolves later."""
        for field, address in (("listen", self.listen), ("upstream", self.upstream)):
            try:
                HostPort.parse(address)
            except AddressError as exc:
                raise bad_request_body(f"{field}: {exc}") from exc


class PopulateError(ApiError):
    """A populate that stopped part way: the proxies it did create or keep are reported too."""

    def __init__(self, error: ApiError, proxies: list[Proxy]) -> None:
        super().__init__(error.message, error.status)
        self.proxies = proxies


class ProxyCollection:
    def __init__(self, runtime: Runtime) -> None:
        self._runtime = runtime
        self._proxies: dict[str, Proxy] = {}
        self._lock = asyncio.Lock()

    def all(self) -> list[Proxy]:
        return [self._proxies[name] for name in sorted(self._proxies)]  # Go marshals a map sorted

    def get(self, name: str) -> Proxy:
        proxy = self._proxies.get(name)
        if proxy is None:
            raise proxy_not_found()
        return proxy

    async def create(self, body: Any) -> Proxy:
        obj = wire.expect_object(body, "toxiproxy.Proxy")
        entry = ProxyEntry.from_json(obj)
        lease = wire.get_ttl_s(obj)
        check_down_lease(lease, entry.enabled)
        async with self._lock:
            if entry.name in self._proxies:
                raise proxy_exists()
            proxy = await self._started(entry)
            self._proxies[entry.name] = proxy
        if not isinstance(lease, wire.Missing):
            proxy.lease_down(lease)
        return proxy

    async def populate(self, entries: list[ProxyEntry]) -> list[Proxy]:
        """Create or replace each proxy; one whose listen and upstream are unchanged is kept."""
        done: list[Proxy] = []
        async with self._lock:
            for entry in entries:
                existing = self._proxies.get(entry.name)
                if existing is not None and (existing.listen, existing.upstream) == (entry.listen, entry.upstream):
                    done.append(existing)
                    continue
                if existing is not None:
                    existing.close()
                try:
                    proxy = await self._started(entry)
                except ApiError as exc:
                    raise PopulateError(exc, done) from exc
                self._proxies[entry.name] = proxy
                done.append(proxy)
        return done

    async def _started(self, entry: ProxyEntry) -> Proxy:
        proxy = Proxy(entry.name, entry.listen, entry.upstream, self._runtime)
        if entry.enabled:
            await proxy.start()
        return proxy

    async def update(self, name: str, body: Any) -> Proxy:
        proxy = self.get(name)
        async with proxy.lock:
            obj = wire.expect_object(body, "toxiproxy.Proxy")
            wire.get_str(obj, "name", STRUCT, "")  # type-checked, then ignored: a rename needs delete + create
            listen = wire.get_str(obj, "listen", STRUCT, proxy.listen)
            upstream = wire.get_str(obj, "upstream", STRUCT, proxy.upstream)
            enabled = wire.get_bool(obj, "enabled", STRUCT, proxy.enabled)
            lease = wire.get_ttl_s(obj)
            check_down_lease(lease, enabled)
            await proxy.reconfigure(listen, upstream, enabled)  # on an error, the proxy is as it was
            if enabled:
                proxy.lease_down(None)
            elif not isinstance(lease, wire.Missing):
                proxy.lease_down(lease)
        return proxy

    async def delete(self, name: str) -> None:
        async with self._lock:
            proxy = self.get(name)
            del self._proxies[name]
            proxy.close()

    async def reset(self) -> None:
        """Enable every proxy and remove every toxic (and every lease with them)."""
        for proxy in self.all():
            async with proxy.lock:
                proxy.lease_down(None)
                if not proxy.enabled:
                    await proxy.start()
                await proxy.remove_all_toxics()

    def close(self) -> None:
        for proxy in self._proxies.values():
            proxy.close()


def check_down_lease(lease: float | wire.Missing | None, enabled: bool) -> None:
    if isinstance(lease, float) and enabled:
        raise bad_request_body('ttl_s: a proxy lease takes "enabled": false (the proxy comes back up when it ends)')


def entries_from_json(body: Any) -> list[ProxyEntry]:
    """A /populate body, checked whole before anything changes."""
    if not isinstance(body, list):
        kind = wire.json_kind(body).split()[0]
        raise bad_request_body(f"json: cannot unmarshal {kind} into Go value of type []toxiproxy.Proxy")
    entries: list[ProxyEntry] = []
    for number, item in enumerate(body, start=1):
        entry = ProxyEntry.from_json(wire.expect_object(item, "toxiproxy.Proxy"), f" at proxy {number}")
        if entry.name in {seen.name for seen in entries}:
            raise bad_request_body(f"duplicate proxy name {entry.name!r} at proxy {number}")
        if entry.enabled:
            entry.check_addresses()
        entries.append(entry)
    return entries
