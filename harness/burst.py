"""A short, bounded burst of shop traffic on loopback, with its latency figures.

For smoke checks and benchmarks, where starting Locust would cost more than the burst.
Drills use Locust (harness.load). Bounded both in request count and in time.
"""

from __future__ import annotations

import http.client
import random
import statistics
import threading
import time
from collections import Counter
from dataclasses import dataclass, field


@dataclass(frozen=True)
class BurstResult:
    requests: int
    failures: int
    elapsed_s: float
    latencies_ms: tuple[float, ...]
    served_by: dict[str, int]
    statuses: dict[str, int] = field(default_factory=dict)  # "200", "404", "502", or "no answer": count

    @property
    def rps(self) -> float:
        return self.requests / self.elapsed_s if self.elapsed_s > 0 else 0.0

    def percentile_ms(self, q: float) -> float:
        if not self.latencies_ms:
            return float("nan")
        ordered = sorted(self.latencies_ms)
        return ordered[min(len(ordered) - 1, int(q / 100 * len(ordered)))]

    @property
    def p50_ms(self) -> float:
        return statistics.median(self.latencies_ms) if self.latencies_ms else float("nan")

    @property
    def p99_ms(self) -> float:
        return self.percentile_ms(99)


def shop_path(rng: random.Random) -> str:
    """The healthy shop mix: browse, product pages (known skus), a few unknown skus."""
    roll = rng.random()
    if roll < 0.2:
        return "/products"
    if roll < 0.97:
        return f"/product/sku-{rng.randint(1, 50):03d}"
    return f"/product/sku-{rng.randint(900, 999):03d}"  # delisted: a 404, part of normal life


def burst(port: int, *, requests: int = 1000, max_s: float = 10.0, concurrency: int = 8,
          rate_per_s: float | None = None, seed: int = 1, host: str = "127.0.0.1") -> BurstResult:
    """Send up to `requests` GETs (at most `max_s` seconds) from `concurrency` keep-alive clients."""
    lock = threading.Lock()
    latencies: list[float] = []
    served: Counter[str] = Counter()
    statuses: Counter[str] = Counter()
    counts = {"sent": 0, "failed": 0}
    start = time.monotonic()
    deadline = start + max_s
    interval_s = concurrency / rate_per_s if rate_per_s else 0.0

    def client(index: int) -> None:
        rng = random.Random(seed * 1000 + index)
        conn = http.client.HTTPConnection(host, port, timeout=2.0)
        next_at = time.monotonic()
        try:
            while time.monotonic() < deadline:
                with lock:
                    if counts["sent"] >= requests:
                        return
                    counts["sent"] += 1
                if interval_s:
                    next_at += interval_s
                    pause = next_at - time.monotonic()
                    if pause > 0:
                        time.sleep(pause)  # pacing an open-loop rate, not synchronisation
                began = time.perf_counter()
                try:
                    conn.request("GET", shop_path(rng))
                    response = conn.getresponse()
                    response.read()
                    ok, node = response.status < 500, response.getheader("X-Served-By", "?")
                    status = str(response.status)
                except (OSError, http.client.HTTPException):
                    conn.close()
                    conn = http.client.HTTPConnection(host, port, timeout=2.0)
                    ok, node, status = False, "?", "no answer"
                elapsed_ms = (time.perf_counter() - began) * 1000
                with lock:
                    latencies.append(elapsed_ms)
                    served[node] += 1
                    statuses[status] += 1
                    counts["failed"] += 0 if ok else 1
        finally:
            conn.close()

    threads = [threading.Thread(target=client, args=(i,), daemon=True) for i in range(concurrency)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=max_s + 5)
    elapsed = time.monotonic() - start
    return BurstResult(len(latencies), counts["failed"], elapsed, tuple(latencies), dict(served),
                       dict(sorted(statuses.items())))
