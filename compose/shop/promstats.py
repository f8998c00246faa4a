"""Prometheus text exposition for the shop, standard library only.

`RequestStats` counts requests by route and status code and keeps a latency histogram per
route, in int64 cells of one buffer: a bytearray for the threaded services, an anonymous
shared mmap for a prefork node, where each worker writes only its own slot and any worker
sums every slot to answer /metrics for the whole node. A slot is never reset when its
worker is respawned, so the node's counters stay monotonic, as Prometheus expects.

`Exposition` writes the text format (version 0.0.4): `# HELP`, `# TYPE`, then samples.
"""

from __future__ import annotations

import math
import mmap
import threading
from collections.abc import Iterable, Mapping

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
# The statuses the shop answers with; anything else is counted under code="other".
CODES = ("200", "201", "400", "404", "405", "409", "413", "422", "500", "502", "503", "504", "other")
BUCKETS_S = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)
OTHER_ROUTE = "other"


class Exposition:
    """Builds one scrape's body; label values are escaped as the format requires."""

    def __init__(self) -> None:
        self.lines: list[str] = []

    def family(self, name: str, kind: str, help_text: str) -> None:
        self.lines.append(f"# HELP {name} {help_text}")
        self.lines.append(f"# TYPE {name} {kind}")

    def sample(self, name: str, value: float | None, labels: Mapping[str, object] | None = None) -> None:
        if value is None:
            return  # unknown right now (a process gone, /proc unreadable): no sample beats a fake one
        text = ",".join(f'{key}="{_escape(str(val))}"' for key, val in (labels or {}).items())
        self.lines.append(f"{name}{{{text}}} {_number(value)}" if text else f"{name} {_number(value)}")

    def gauge(self, name: str, help_text: str, value: float | None, labels: Mapping[str, object] | None = None,
              kind: str = "gauge") -> None:
        """A family with a single sample."""
        self.family(name, kind, help_text)
        self.sample(name, value, labels)

    def body(self) -> bytes:
        return ("\n".join(self.lines) + "\n").encode()


class RequestStats:
    def __init__(self, routes: Iterable[str], slots: int = 1, shared: bool = False) -> None:
        self.routes = (*dict.fromkeys(routes), OTHER_ROUTE)
        self.slots = slots
        self._route_index = {route: i for i, route in enumerate(self.routes)}
        self._code_index = {code: i for i, code in enumerate(CODES)}
        n_routes = len(self.routes)
        self._counts_at = 0  # route x code request counts
        self._buckets_at = n_routes * len(CODES)  # route x (bucket..., +Inf) cumulative later
        self._sums_at = self._buckets_at + n_routes * (len(BUCKETS_S) + 1)  # route: latency sum in µs
        self._per_slot = self._sums_at + n_routes
        size = 8 * self._per_slot * slots
        self._buffer: mmap.mmap | bytearray = mmap.mmap(-1, size) if shared else bytearray(size)
        self._cells = memoryview(self._buffer).cast("q")
        self._lock = threading.Lock()  # the threaded services; a prefork worker is single-threaded

    def route_of(self, path: str) -> str:
        """`/product/sku-001?x=1` -> `product`; an unknown first segment is `other`."""
        first = path.split("?", 1)[0].lstrip("/").split("/", 1)[0]
        return first if first in self._route_index else OTHER_ROUTE

    def observe(self, route: str, status: int, seconds: float, slot: int = 0) -> None:
        r = self._route_index.get(route, self._route_index[OTHER_ROUTE])
        c = self._code_index.get(str(status), self._code_index["other"])
        bucket = next((i for i, bound in enumerate(BUCKETS_S) if seconds <= bound), len(BUCKETS_S))
        base = slot * self._per_slot
        with self._lock:
            self._cells[base + self._counts_at + r * len(CODES) + c] += 1
            self._cells[base + self._buckets_at + r * (len(BUCKETS_S) + 1) + bucket] += 1
            self._cells[base + self._sums_at + r] += max(0, round(seconds * 1e6))

    def _summed(self) -> list[int]:
        per = self._per_slot
        return [sum(self._cells[s * per + i] for s in range(self.slots)) for i in range(per)]

    def totals(self) -> tuple[int, int]:
        """(requests, responses >= 500) over every route."""
        cells, requests, errors = self._summed(), 0, 0
        for r in range(len(self.routes)):
            for c, code in enumerate(CODES):
                n = cells[self._counts_at + r * len(CODES) + c]
                requests += n
                errors += n if code != "other" and int(code) >= 500 else 0
        return requests, errors

    def render(self, out: Exposition) -> None:
        cells = self._summed()
        out.family("shop_requests_total", "counter", "Requests answered, by route and status code.")
        for r, route in enumerate(self.routes):
            for c, code in enumerate(CODES):
                if n := cells[self._counts_at + r * len(CODES) + c]:
                    out.sample("shop_requests_total", n, {"route": route, "code": code})
        name = "shop_request_duration_seconds"
        out.family(name, "histogram", "Time from request parsed to response written, by route.")
        width = len(BUCKETS_S) + 1
        for r, route in enumerate(self.routes):
            counts = cells[self._buckets_at + r * width: self._buckets_at + (r + 1) * width]
            if not any(counts):
                continue
            running = 0
            for bound, n in zip((*BUCKETS_S, math.inf), counts, strict=True):
                running += n
                out.sample(f"{name}_bucket", running, {"route": route, "le": _number(bound)})
            out.sample(f"{name}_sum", cells[self._sums_at + r] / 1e6, {"route": route})
            out.sample(f"{name}_count", running, {"route": route})


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _number(value: float) -> str:
    if value == math.inf:
        return "+Inf"
    if isinstance(value, bool):
        return str(int(value))
    if isinstance(value, int) or float(value).is_integer():
        return str(int(value))
    return repr(float(value))
