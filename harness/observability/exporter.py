"""The load's view as Prometheus metrics, served by the harness on loopback.

What customers got, per node as the load generator saw it: offered rate, requests that
completed, failed, and their latency. A per-run registry (never the client library's global
one), so drills in one process (a pytest session) do not mix figures.
"""

from __future__ import annotations

from wsgiref.simple_server import WSGIServer

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, start_http_server

LATENCY_BUCKETS_S = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 5.0)
NO_NODE = "none"  # a request that failed before any node answered (timeout, refused at the edge)


class LoadExporter:
    def __init__(self, run_id: str, offered_rate_per_s: float) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        labels = ("node",)
        self.requests = Counter("gamedrill_load_requests", "Requests the load finished, by the node that served "
                                "them.", labels, registry=self.registry)
        self.failed = Counter("gamedrill_load_failed_requests", "Of those, the failed ones (>= 500, timeout, "
                              "refused).", labels, registry=self.registry)
        self.latency = Histogram("gamedrill_load_request_duration_seconds", "Latency the load saw, by node.",
                                 labels, buckets=LATENCY_BUCKETS_S, registry=self.registry)
        offered = Gauge("gamedrill_load_offered_rate_per_second", "The request rate the drill's load offers.",
                        ("run_id",), registry=self.registry)
        offered.labels(run_id).set(offered_rate_per_s)
        self._server: WSGIServer | None = None
        self.port = 0

    def observe(self, node: str | None, ok: bool, latency_ms: float) -> None:
        label = node or NO_NODE
        self.requests.labels(label).inc()
        if not ok:
            self.failed.labels(label).inc()
        self.latency.labels(label).observe(latency_ms / 1000)

    def start(self, host: str = "127.0.0.1") -> int:
        """Serve /metrics on a free port of `host`; returns the port."""
        self._server, _ = start_http_server(0, addr=host, registry=self.registry)
        self.port = int(self._server.server_port)
        return self.port

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
