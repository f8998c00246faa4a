"""What a Prometheus scrape of the sample shop costs.

Prints, per service, `scrape_<service>_p50_ms` (median time of a GET /metrics in the text
format, after some traffic so every route and histogram has series) and
`scrape_<service>_bytes` (the body's size), plus `exporter_scrape_p50_ms` for the
harness's load exporter with three nodes' worth of series. Target: every scrape well under
a 1 s scrape interval (< 20 ms) and under 20 kB.
"""

from __future__ import annotations

import http.client
import statistics
import tempfile
import time
from pathlib import Path

from harness.burst import burst
from harness.observability import LoadExporter
from harness.stack import LocalBackend, load_compose
from harness.stack.factory import SHOP_COMPOSE

SCRAPES = 30
SERVICES = ("lb", "web-1", "inventory", "config")


def scrape(port: int) -> tuple[float, int]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        began = time.perf_counter()
        conn.request("GET", "/metrics")
        response = conn.getresponse()
        body = response.read()
        elapsed_ms = (time.perf_counter() - began) * 1000
        if response.status != 200:
            raise SystemExit(f"/metrics on port {port} answered {response.status}")
        return elapsed_ms, len(body)
    finally:
        conn.close()


def measure(port: int) -> tuple[float, int]:
    runs = [scrape(port) for _ in range(SCRAPES)]
    return statistics.median(ms for ms, _ in runs), runs[-1][1]


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="gamedrill-bench-") as tmp:
        backend = LocalBackend(load_compose(SHOP_COMPOSE), Path(tmp) / "run", "bench-scrape")
        try:
            backend.up(timeout_s=30)
            burst(backend.endpoint("lb").port, requests=1000, max_s=5, concurrency=8)
            for service in SERVICES:
                p50_ms, size = measure(backend.endpoint(service).port)
                name = service.replace("-", "_")
                print(f"scrape_{name}_p50_ms: {p50_ms:.2f} ms")
                print(f"scrape_{name}_bytes: {size} bytes")
        finally:
            backend.down()
    exporter = LoadExporter("bench", 50.0)
    for i in range(3000):
        exporter.observe(f"web-{i % 3 + 1}", i % 17 != 0, 5.0 + i % 200)
    exporter.start()
    try:
        p50_ms, size = measure(exporter.port)
    finally:
        exporter.stop()
    print(f"exporter_scrape_p50_ms: {p50_ms:.2f} ms")
    print(f"exporter_scrape_bytes: {size} bytes")


if __name__ == "__main__":
    main()
