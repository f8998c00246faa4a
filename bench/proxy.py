"""The fault proxy's cost against a direct connection to the same local echo server.

Prints, from one run, side by side:
  direct_rtt_p50_us, proxy_rtt_p50_us    64-byte round trips on a kept connection
  proxy_added_p50_us, proxy_added_p99_us what the proxy adds (difference of the percentiles)
  direct_mbps, proxy_mbps                one stream into a byte sink, no toxics (median of runs)
Targets: under 60 us added at the p50; at least 1,000 MB/s through the proxy.
Direct and proxied samples are interleaved in rounds, so a busy machine weighs on both alike.
"""

from __future__ import annotations

import json
import socket
import statistics
import tempfile
import time
import urllib.request
from pathlib import Path

from harness.proxy.child import echo_server, proxy_server

MESSAGE = b"x" * 64
ROUNDS = 10
TRIPS_PER_ROUND = 1000
WARMUP_TRIPS = 500
STREAM_BYTES = 256 << 20
STREAM_RUNS = 5
BLOCK = memoryview(b"\0" * (1 << 20))


def host_port(address: str) -> tuple[str, int]:
    host, _, port = address.rpartition(":")
    return host, int(port)


def create_proxy(api: str, name: str, upstream: str) -> tuple[str, int]:
    body = json.dumps({"name": name, "listen": "127.0.0.1:0", "upstream": upstream}).encode()
    request = urllib.request.Request(f"http://{api}/proxies", body, {"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as response:
        return host_port(json.load(response)["listen"])


def connect(address: tuple[str, int]) -> socket.socket:
    sock = socket.create_connection(address, timeout=10)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock


def round_trips(sock: socket.socket, count: int) -> list[float]:
    times: list[float] = []
    for _ in range(count):
        began = time.perf_counter()
        sock.sendall(MESSAGE)
        received = 0
        while received < len(MESSAGE):
            chunk = sock.recv(4096)
            if not chunk:
                raise ConnectionError("echo closed the connection")
            received += len(chunk)
        times.append(time.perf_counter() - began)
    return times


def stream_mbps(address: tuple[str, int]) -> float:
    with connect(address) as sock:
        began = time.perf_counter()
        for _ in range(STREAM_BYTES // len(BLOCK)):
            sock.sendall(BLOCK)
        sock.shutdown(socket.SHUT_WR)
        reply = sock.makefile("rb").readline()
        elapsed = time.perf_counter() - began
    if int(reply) != STREAM_BYTES:
        raise RuntimeError(f"the sink got {reply!r} bytes, expected {STREAM_BYTES}")
    return STREAM_BYTES / elapsed / 1e6


def percentile(samples: list[float], fraction: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def main() -> None:
    with (
        tempfile.TemporaryDirectory(prefix="gamedrill-bench-proxy-") as tmp,
        echo_server(Path(tmp) / "echo.log") as echo,
        proxy_server(Path(tmp) / "proxy.log") as proxy,
    ):
        assert echo.match is not None
        echo_address, sink_address = host_port(echo.address), host_port(echo.match.group(2))
        proxied_echo = create_proxy(proxy.address, "echo", echo.address)
        proxied_sink = create_proxy(proxy.address, "sink", echo.match.group(2))

        direct: list[float] = []
        proxied: list[float] = []
        with connect(echo_address) as direct_sock, connect(proxied_echo) as proxy_sock:
            round_trips(direct_sock, WARMUP_TRIPS)
            round_trips(proxy_sock, WARMUP_TRIPS)
            for _ in range(ROUNDS):
                direct += round_trips(direct_sock, TRIPS_PER_ROUND)
                proxied += round_trips(proxy_sock, TRIPS_PER_ROUND)

        direct_mbps: list[float] = []
        proxy_mbps: list[float] = []
        for _ in range(STREAM_RUNS):
            direct_mbps.append(stream_mbps(sink_address))
            proxy_mbps.append(stream_mbps(proxied_sink))

    us = 1e6
    print(f"direct_rtt_p50_us: {percentile(direct, 0.5) * us:.1f} us")
    print(f"proxy_rtt_p50_us: {percentile(proxied, 0.5) * us:.1f} us")
    print(f"proxy_added_p50_us: {(percentile(proxied, 0.5) - percentile(direct, 0.5)) * us:.1f} us")
    print(f"proxy_added_p99_us: {(percentile(proxied, 0.99) - percentile(direct, 0.99)) * us:.1f} us")
    print(f"direct_mbps: {statistics.median(direct_mbps):.0f} MB/s")
    print(f"proxy_mbps: {statistics.median(proxy_mbps):.0f} MB/s")


if __name__ == "__main__":
    main()
