"""Stack start-up time and healthy throughput of the sample shop.

Prints `local_up_s` (median of several up() -> all healthy), `healthy_rps` and
`healthy_p99_ms` (median over several bounded closed-loop bursts through lb), then
`docker_up_s` (median of up() -> all healthy on the docker backend, images built) when a
Docker engine answers, or a line saying why it was not measured.
Targets: local_up_s < 2 s; healthy_rps >= 300 with healthy_p99_ms < 50 ms; docker_up_s < 10 s.
"""

from __future__ import annotations

import statistics
import tempfile
import time
from pathlib import Path

from harness.burst import burst
from harness.stack import LocalBackend, load_compose
from harness.stack.factory import SHOP_COMPOSE

UP_RUNS = 5
DOCKER_UP_RUNS = 3  # each also pays a `compose down` (~2 s): three keep the bench under a minute
BURSTS = 3


def main() -> None:
    up_times: list[float] = []
    rps: list[float] = []
    p99: list[float] = []
    with tempfile.TemporaryDirectory(prefix="gamedrill-bench-") as tmp:
        for attempt in range(UP_RUNS):
            backend = LocalBackend(load_compose(SHOP_COMPOSE), Path(tmp) / f"run{attempt}", f"bench-{attempt}")
            try:
                began = time.monotonic()
                backend.up(timeout_s=30)
                up_times.append(time.monotonic() - began)
                if attempt == UP_RUNS - 1:
                    port = backend.endpoint("lb").port
                    burst(port, requests=300, max_s=5, concurrency=8)  # warm-up, not counted
                    for _ in range(BURSTS):
                        result = burst(port, requests=3000, max_s=6, concurrency=8)
                        if result.failures:
                            raise SystemExit(f"healthy stack failed {result.failures} requests")
                        rps.append(result.rps)
                        p99.append(result.p99_ms)
            finally:
                backend.down()
    print(f"local_up_s: {statistics.median(up_times):.3f} s")
    print(f"healthy_rps: {statistics.median(rps):.0f} requests/s")
    print(f"healthy_p99_ms: {statistics.median(p99):.1f} ms")
    docker_up()


def docker_up() -> None:
    from harness.stack.docker import DockerBackend
    from harness.stack.docker_engine import unavailable_reason

    reason = unavailable_reason(SHOP_COMPOSE)
    if reason is not None:
        print(f"docker_up_s not measured: {reason}")
        return
    up_times: list[float] = []
    with tempfile.TemporaryDirectory(prefix="gamedrill-bench-docker-") as tmp:
        for attempt in range(DOCKER_UP_RUNS):
            backend = DockerBackend(load_compose(SHOP_COMPOSE), Path(tmp) / f"run{attempt}", f"bench-{attempt}")
            try:
                began = time.monotonic()
                backend.up(timeout_s=60)
                up_times.append(time.monotonic() - began)
            finally:
                backend.down()
    print(f"docker_up_s: {statistics.median(up_times):.3f} s")


if __name__ == "__main__":
    main()
