"""lb: the edge, smooth weighted round robin over the web nodes (`python3 -m shop.lb`).

UPSTREAMS is "web-1=127.0.0.1:18011,web-2=...". Clients get HTTP/1.1 keep-alive; each
forwarded request uses a fresh upstream connection (web workers serve one request per
connection), so a stuck node costs one timeout, not a poisoned pool.
"""

from __future__ import annotations

import http.client
import json
import threading
import time
from typing import Any

from shop import httpkit
from shop.httpkit import JSON_TYPE, HTTPError
from shop.promstats import Exposition, RequestStats

SERVICE = "lb"
LOCAL_PREFIXES = ("/admin/", "/healthz", "/metrics")
FORWARDED_HEADERS = ("Content-Type", "Accept", "X-Request-Id")


class Upstream:
    __slots__ = ("current", "errors", "host", "name", "port", "requests", "weight")

    def __init__(self, name: str, host: str, port: int) -> None:
        self.name, self.host, self.port = name, host, port
        self.weight, self.current = 1, 0
        self.requests = self.errors = 0


class Balancer:
    """nginx's smooth weighted round robin: spreads a node's share evenly over time."""

    def __init__(self, upstreams: list[Upstream]) -> None:
        self.upstreams = {u.name: u for u in upstreams}
        self._lock = threading.Lock()

    def pick(self) -> Upstream | None:
        with self._lock:
            total, best = 0, None
            for up in self.upstreams.values():
                if up.weight <= 0:
                    continue
                up.current += up.weight
                total += up.weight
                if best is None or up.current > best.current:
                    best = up
            if best is not None:
                best.current -= total
            return best

    def record(self, up: Upstream, status: int) -> None:
        with self._lock:
            up.requests += 1
            if status >= 500:
                up.errors += 1

    def set_weight(self, name: str, weight: int) -> int:
        with self._lock:
            up = self.upstreams.get(name)
            if up is None:
                raise HTTPError(404, f"unknown node {name!r}")
            previous, up.weight = up.weight, weight
            for other in self.upstreams.values():
                other.current = 0  # like nginx on reconfiguration: restart the rotation
        httpkit.log(SERVICE, f"weight of {name}: {previous} -> {weight}")
        return previous

    def snapshot(self) -> dict[str, dict[str, int]]:
        with self._lock:
            return {u.name: {"requests": u.requests, "errors": u.errors, "weight": u.weight}
                    for u in self.upstreams.values()}


def parse_upstreams(value: str) -> list[Upstream]:
    upstreams = []
    for item in filter(None, (part.strip() for part in value.split(","))):
        name, _, address = item.partition("=")
        host, _, port = address.rpartition(":")
        if not name or not host or not port.isdigit():
            raise SystemExit(f"{SERVICE}: bad UPSTREAMS entry {item!r} (want name=host:port)")
        upstreams.append(Upstream(name, host, int(port)))
    if not upstreams:
        raise SystemExit(f"{SERVICE}: UPSTREAMS is empty")
    return upstreams


class LBHandler(httpkit.JSONHandler):
    protocol_version = "HTTP/1.1"  # keep-alive towards clients
    timeout = 60  # idle keep-alive connections give their thread back eventually
    balancer: Balancer
    counters: httpkit.Counters
    started: float
    upstream_timeout_s: float

    def route(self) -> None:
        if self.path.startswith(LOCAL_PREFIXES):
            self.local(self.path.split("?", 1)[0], self.read_body())
        else:
            self.forward()

    def forward(self) -> None:
        body = self.read_body()
        up = self.balancer.pick()
        if up is None:
            self.send_json(503, {"error": "no upstream has weight > 0"}, {"X-Served-By": "none"})
            return
        headers = {k: v for k in FORWARDED_HEADERS if (v := self.headers.get(k)) is not None}
        conn = http.client.HTTPConnection(up.host, up.port, timeout=self.upstream_timeout_s)
        extra = {"X-Served-By": up.name}
        try:
            conn.request(self.command, self.path, body=body or None, headers=headers)
            resp = conn.getresponse()
            data = resp.read()
            status, ctype = resp.status, resp.getheader("Content-Type", JSON_TYPE)
            if (pid := resp.getheader("X-Worker-Pid")) is not None:
                extra["X-Worker-Pid"] = pid
        except TimeoutError:
            status, ctype = 504, JSON_TYPE
            data = json.dumps({"error": f"{up.name} timed out after {self.upstream_timeout_s}s"}).encode()
        except (OSError, http.client.HTTPException) as exc:
            status, ctype = 502, JSON_TYPE
            data = json.dumps({"error": f"{up.name}: {httpkit.error_text(exc)}"}).encode()
        finally:
            conn.close()
        self.balancer.record(up, status)
        self.send_body(status, data, ctype, extra)

    def local(self, path: str, raw: bytes) -> None:
        served = {"X-Served-By": SERVICE}
        if self.command in ("GET", "HEAD"):
            if path == "/healthz":
                serving = [n for n, u in self.balancer.snapshot().items() if u["weight"] > 0]
                if serving:
                    self.send_json(200, {"status": "ok", "serving": serving}, served)
                else:
                    self.send_json(503, {"error": "every upstream has weight 0"}, served)
                return
            if path == "/metrics":
                self.send_metrics(self.metrics, self.exposition, served)
                return
            if path == "/admin/weights":
                weights = {n: u["weight"] for n, u in self.balancer.snapshot().items()}
                self.send_json(200, {"weights": weights}, served)
                return
        elif self.command in ("PUT", "POST") and path.startswith("/admin/weights/"):
            node = path[len("/admin/weights/"):]
            if node not in self.balancer.upstreams:
                raise HTTPError(404, f"unknown node {node!r}")
            body = parse_weight_body(raw)
            previous = self.balancer.set_weight(node, body)
            self.send_json(200, {"node": node, "weight": body, "previous": previous}, served)
            return
        raise HTTPError(404, f"no route for {self.command} {path}")


    def metrics(self) -> dict[str, Any]:
        metrics = httpkit.base_metrics(SERVICE, self.started, self.counters.requests, self.counters.errors)
        metrics["upstreams"] = self.balancer.snapshot()
        return metrics

    def exposition(self) -> Exposition:
        out = httpkit.base_exposition(self.started)
        assert self.stats is not None
        self.stats.render(out)
        upstreams = self.balancer.snapshot()
        for name, kind, key, text in (
                ("shop_lb_upstream_weight", "gauge", "weight", "The upstream's weight (0: isolated)."),
                ("shop_lb_upstream_requests_total", "counter", "requests", "Requests sent to the upstream."),
                ("shop_lb_upstream_errors_total", "counter", "errors", "Of those, answered >= 500 or failed.")):
            out.family(name, kind, text)
            for upstream, figures in upstreams.items():
                out.sample(name, figures[key], {"upstream": upstream})
        return out


def parse_weight_body(raw: bytes) -> int:
    try:
        body: Any = json.loads(raw) if raw else None
    except ValueError:
        raise HTTPError(400, "body: invalid JSON") from None
    if not isinstance(body, dict):
        raise HTTPError(400, "body: expected a JSON object with weight")
    weight = body.get("weight")
    if isinstance(weight, bool) or not isinstance(weight, int) or weight < 0:
        raise HTTPError(400, f"weight: expected an integer >= 0, got {weight!r}")
    return weight


def main() -> None:
    LBHandler.balancer = Balancer(parse_upstreams(httpkit.env_str("UPSTREAMS", "")))
    LBHandler.counters = LBHandler.recorder = httpkit.Counters()
    LBHandler.stats = RequestStats(("products", "product", "checkout", "healthz", "metrics", "admin"))
    LBHandler.started = time.monotonic()
    LBHandler.upstream_timeout_s = httpkit.env_float("UPSTREAM_TIMEOUT_S", 2.0)
    server = httpkit.make_server(SERVICE, LBHandler)
    names = ", ".join(f"{u.name}={u.host}:{u.port}" for u in LBHandler.balancer.upstreams.values())
    httpkit.log(SERVICE, f"upstreams: {names}")
    httpkit.serve(server)


if __name__ == "__main__":
    main()
