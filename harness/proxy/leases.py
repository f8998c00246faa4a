"""Leases: a fault set with `ttl_s` undoes itself when the lease runs out unless renewed.

gamedrill's extension to the Toxiproxy API, enforced here rather than in the harness, so
a harness killed mid-drill cannot leave a fault behind.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable


class Lease:
    def __init__(self, ttl_s: float, on_expiry: Callable[[], None]) -> None:
        self._loop = asyncio.get_running_loop()
        self.ttl_s = ttl_s
        self.deadline = self._loop.time() + ttl_s
        self._timer = self._loop.call_at(self.deadline, on_expiry)

    def left_s(self) -> float:
        return max(0.0, self.deadline - self._loop.time())

    def cancel(self) -> None:
        self._timer.cancel()


class Leases:
    """Leases by key; setting a key again renews it (the old timer never fires)."""

    def __init__(self) -> None:
        self._leases: dict[str, Lease] = {}

    def set(self, key: str, ttl_s: float, on_expiry: Callable[[], None]) -> None:
        self.cancel(key)
        self._leases[key] = Lease(ttl_s, lambda: self._expire(key, on_expiry))

    def _expire(self, key: str, on_expiry: Callable[[], None]) -> None:
        del self._leases[key]
        on_expiry()

    def cancel(self, key: str) -> None:
        lease = self._leases.pop(key, None)
        if lease is not None:
            lease.cancel()

    def cancel_all(self) -> None:
        for key in list(self._leases):
            self.cancel(key)

    def left_s(self, key: str) -> float | None:
        lease = self._leases.get(key)
        return None if lease is None else lease.left_s()
