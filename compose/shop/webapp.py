"""Request handling in a web worker: the shop routes, the inventory client, /metrics.

The failure modes are real code paths, not flags that fake a symptom: a looping script
spins here, the leaky release leaks sockets here, a schema mismatch fails here.
"""

from __future__ import annotations

import contextlib
import errno
import http.client
import json
import os
import resource
import socket
import time
from collections.abc import Callable
from typing import Any, ClassVar, TypeVar, cast
from urllib.parse import parse_qsl, quote, urlsplit

from shop import httpkit
from shop.catalog import initial_catalog, validate_reservation
from shop.httpkit import HTTPError
from shop.prefork import SharedCounters, SlotRecorder, children, worker_loop
from shop.promstats import Exposition, RequestStats
from shop.webstate import Assignment, NodeState

SERVICE = "web"
CLIENT_TIMEOUT_S = 5.0  # a slow client must not hold a single-threaded worker for long
_OUT_OF_DESCRIPTORS = (errno.EMFILE, errno.ENFILE)
T = TypeVar("T")
ROUTES = ("products", "product", "checkout", "healthz", "metrics")  # the route label of /metrics

# The bug of releases with flags.leak_on_error: "recommendation" sockets kept for reuse that
# nobody ever reuses or closes, per failed lookup, until RLIMIT_NOFILE.
_LEAKED: list[socket.socket] = []
# One spare descriptor, given up only so /metrics can still read /proc when the worker is
# at EMFILE: a leak should be visible in the metrics, not hide them.
_RESERVE: list[int] = []
# Last stock seen per sku, seeded from the catalog: what serve_cached_stock serves.
_CACHE: dict[str, dict[str, Any]] = initial_catalog()


class App:
    """Per-node settings, made by the master before forking (so every worker inherits them)."""

    def __init__(self, node: str, inventory_url: str, inventory_timeout_s: float, state: NodeState,
                 counters: SharedCounters, started: float, stats: RequestStats) -> None:
        url = urlsplit(inventory_url)
        self.node, self.state, self.counters, self.started = node, state, counters, started
        self.stats = stats  # in shared memory: each worker writes its slot
        self.master_pid = os.getpid()  # made in the master; not getppid(), which lies once orphaned
        self.inventory = (url.hostname or "127.0.0.1", url.port or 80)
        self.inventory_timeout_s = inventory_timeout_s

    def call_inventory(self, method: str, path: str, body: dict[str, Any] | None = None) -> tuple[int, Any]:
        """(status, JSON body) from inventory; transport failures become 502/504 HTTPErrors."""
        conn = http.client.HTTPConnection(*self.inventory, timeout=self.inventory_timeout_s)
        try:
            payload = json.dumps(body).encode() if body is not None else None
            headers = {"Content-Type": httpkit.JSON_TYPE} if payload else {}
            conn.request(method, path, body=payload, headers=headers)
            resp = conn.getresponse()
            return resp.status, json.loads(resp.read())
        except TimeoutError:
            raise HTTPError(504, f"inventory timed out after {self.inventory_timeout_s}s") from None
        except OSError as exc:
            if exc.errno in _OUT_OF_DESCRIPTORS:
                raise  # not the network's fault: this process is out of descriptors
            raise HTTPError(502, f"inventory unavailable: {httpkit.error_text(exc)}") from None
        except (http.client.HTTPException, ValueError) as exc:
            raise HTTPError(502, f"inventory sent a bad response: {type(exc).__name__}: {exc}") from None
        finally:
            conn.close()

    def recommendations(self, sku: str) -> None:
        """The leaky error path: ask for related products and keep the socket forever."""
        try:
            sock = socket.create_connection(self.inventory, timeout=self.inventory_timeout_s)
        except OSError as exc:
            if exc.errno in _OUT_OF_DESCRIPTORS:
                raise
            return  # best effort: no recommendations today
        sock.sendall(f"GET /recommendations/{sku} HTTP/1.0\r\nHost: inventory\r\n\r\n".encode())
        _LEAKED.append(sock)


class WebHandler(httpkit.JSONHandler):
    timeout = CLIENT_TIMEOUT_S
    app: ClassVar[App]
    emfile_logged_at: ClassVar[float] = -60.0

    def end_headers(self) -> None:
        self.send_header("X-Served-By", self.app.node)
        self.send_header("X-Worker-Pid", str(os.getpid()))
        self.send_header("Connection", "close")  # one request per connection, by design
        super().end_headers()

    def route(self) -> None:
        try:
            self.dispatch()
        except OSError as exc:
            if exc.errno not in _OUT_OF_DESCRIPTORS:
                raise
            now = time.monotonic()
            if now - WebHandler.emfile_logged_at >= 10.0:  # a line per 10 s, not one per request
                httpkit.log(SERVICE, f"{self.app.node} worker out of descriptors: {exc}")
                WebHandler.emfile_logged_at = now
            self.send_json(500, {"error": str(exc)})

    def dispatch(self) -> None:
        path, _, query = self.path.partition("?")
        if self.command == "GET" and path == "/metrics":
            self.send_metrics(lambda: with_reserve_fd(self.metrics), lambda: with_reserve_fd(self.exposition))
            return
        body = self.read_json() if self.command == "POST" and path == "/checkout" else None
        assignment = self.app.state.refresh()
        if self.command == "GET" and path == "/healthz":
            self.healthz(assignment)
            return
        shop_route = body is not None or (
            self.command == "GET" and (path == "/products" or path.startswith("/product/")))
        if not shop_route:
            raise HTTPError(404, f"no route for {self.command} {path}")
        if assignment is None:
            raise HTTPError(503, "no assignment yet")
        if assignment.problem:
            raise HTTPError(500, assignment.problem)
        request = {"method": self.command, "path": path, "query": dict(parse_qsl(query)),
                   "node": self.app.node, "config": dict(assignment.data)}
        if path == "/products":
            self.send_json(200, self.products(assignment, request))
        elif body is not None:
            self.send_json(200, self.checkout(assignment, request, body))
        else:
            self.send_json(200, self.product(assignment, request, path[len("/product/"):]))

    # ---- shop routes ---------------------------------------------------------------------

    def product(self, a: Assignment, request: dict[str, Any], sku: str) -> dict[str, Any]:
        request["sku"] = sku
        if a.data.get("serve_cached_stock"):  # the downgrade: never touch inventory
            if sku not in _CACHE:
                raise HTTPError(404, f"unknown sku {sku!r}")
            return {**self.price(a, dict(_CACHE[sku]), request), "stock_source": "cache"}
        status, product = self.app.call_inventory("GET", f"/stock/{quote(sku, safe='')}")
        if status == 404:
            self.failed_lookup(a, sku)
        self.expect_ok(status, product)
        _CACHE[sku] = dict(product)
        return {**self.price(a, product, request), "stock_source": "inventory"}

    def products(self, a: Assignment, request: dict[str, Any]) -> dict[str, Any]:
        if a.data.get("serve_cached_stock"):
            items, source = [dict(p) for p in _CACHE.values()], "cache"
        else:
            status, body = self.app.call_inventory("GET", "/stock")
            self.expect_ok(status, body)
            items, source = body["products"], "inventory"
            _CACHE.update((p["sku"], dict(p)) for p in items)
        priced = [self.price(a, p, {**request, "sku": p["sku"]}) for p in items]
        return {"products": priced, "stock_source": source}

    def checkout(self, a: Assignment, request: dict[str, Any], body: dict[str, Any]) -> dict[str, Any]:
        sku, qty = validate_reservation(body)
        request["sku"] = sku
        if a.data.get("serve_cached_stock"):  # the downgrade: take the order, reserve it later
            if sku not in _CACHE:
                raise HTTPError(404, f"unknown sku {sku!r}")
            priced = self.price(a, dict(_CACHE[sku]), request)
            price = priced.get("price", priced.get("base_price", 0.0))
            return {"sku": sku, "qty": qty, "price": price, "total": round(price * qty, 2),
                    "reservation": "pending", "stock_source": "cache"}
        status, reserved = self.app.call_inventory("POST", "/reserve", {"sku": sku, "qty": qty})
        if status == 404:
            self.failed_lookup(a, sku)
        self.expect_ok(status, reserved)
        priced = self.price(a, reserved, request)
        price = priced.get("price", priced.get("base_price", 0.0))
        return {"sku": sku, "qty": qty, "price": price, "total": round(price * qty, 2),
                "stock": priced.get("stock")}

    def failed_lookup(self, a: Assignment, sku: str) -> None:
        # flags.leak_on_error: true leaks one socket per failed lookup; a number N fans out to
        # N "recommendation" lookups, each leaking its socket (the bug ships with the fan-out).
        leak = a.flags.get("leak_on_error")
        for _ in range(int(leak) if isinstance(leak, int) and not isinstance(leak, bool) else 1 if leak else 0):
            self.app.recommendations(quote(sku, safe=""))
        raise HTTPError(404, f"unknown sku {sku!r}")

    @staticmethod
    def expect_ok(status: int, body: Any) -> None:
        if status != 200 or not isinstance(body, dict):
            raise HTTPError(502, f"inventory answered {status}: {str(body)[:200]}")

    def price(self, a: Assignment, product: dict[str, Any], request: dict[str, Any]) -> dict[str, Any]:
        adjust = self.app.state.adjust(a)
        try:
            result = adjust(product, request)  # may never return: that is the point
        except Exception as exc:
            version = a.script.get("version")
            raise HTTPError(500, f"script {version} failed: {type(exc).__name__}: {exc}") from None
        return result if isinstance(result, dict) else product

    # ---- health and metrics ----------------------------------------------------------------

    def healthz(self, a: Assignment | None) -> None:
        if a is None:
            raise HTTPError(503, "no assignment yet")
        if a.problem:
            raise HTTPError(503, a.problem)
        try:
            self.app.state.adjust(a)  # a script without adjust() cannot serve either
        except HTTPError as exc:
            raise HTTPError(503, exc.message) from None
        self.send_json(200, {"status": "ok", "node": self.app.node, **a.summary()})

    def metrics(self) -> dict[str, Any]:
        app, master = self.app, self.app.master_pid
        requests, errors = app.counters.totals()
        metrics = httpkit.base_metrics(SERVICE, app.started, requests, errors)
        counts = app.counters.by_pid()
        workers = [{"pid": pid, "cpu_s": httpkit.cpu_seconds(pid), "requests": counts.get(pid, (0, 0))[0],
                    "errors": counts.get(pid, (0, 0))[1], "open_fds": httpkit.open_fds(pid)}
                   for pid in sorted(children(master))]
        # Node-wide: descriptors and CPU of the master and every worker.
        fds = [httpkit.open_fds(master)] + [w["open_fds"] for w in workers]
        cpus = [httpkit.cpu_seconds(master)] + [w["cpu_s"] for w in workers]
        metrics.update({
            "node": app.node, "master_pid": master, "workers": workers,
            "open_fds": sum(f for f in fds if f is not None), "cpu_s": round(sum(c for c in cpus if c), 3),
            "rlimit_nofile": resource.getrlimit(resource.RLIMIT_NOFILE)[0],
        })
        try:
            a = app.state.refresh()
        except OSError:
            a = app.state.current
        summary = a.summary() if a else {"generation": None, "release": None, "config_version": None,
                                         "script_version": None}
        metrics.update(summary)
        return metrics

    def exposition(self) -> Exposition:
        """The same figures as metrics(), as Prometheus families; `node` labels the node-wide ones."""
        figures, app = self.metrics(), self.app
        node = {"node": app.node}
        out = Exposition()
        app.stats.render(out)
        out.gauge("shop_open_fds", "Open file descriptors of the node: master and workers.", figures["open_fds"],
                  node)
        out.gauge("shop_cpu_seconds_total", "CPU time of the node: master and workers.", figures["cpu_s"], node,
                  kind="counter")
        out.gauge("shop_uptime_seconds", "Seconds since the node's master started.", figures["uptime_s"], node)
        out.gauge("shop_rlimit_nofile", "The workers' soft RLIMIT_NOFILE.", figures["rlimit_nofile"], node)
        out.gauge("shop_workers", "Live worker processes (the master cannot tell a stuck one).",
                  len(figures["workers"]), node)
        for name, key, text in (("shop_worker_cpu_seconds_total", "cpu_s", "CPU time of each worker process."),
                                ("shop_worker_open_fds", "open_fds", "Open file descriptors of each worker.")):
            out.family(name, "counter" if name.endswith("_total") else "gauge", text)
            for worker in figures["workers"]:
                out.sample(name, worker[key], {**node, "pid": worker["pid"]})
        out.gauge("shop_assignment_generation", "The generation of the node's release, config and script.",
                  figures["generation"], node)
        versions = {key: figures[key] or "" for key in ("release", "config_version", "script_version")}
        out.gauge("shop_assignment_info", "What the node runs: release, config and script versions (always 1).",
                  1, {**node, **versions})
        return out


def with_reserve_fd(fn: Callable[[], T]) -> T:
    """fn(), retried once with the reserve descriptor released if it ran out of descriptors."""
    try:
        return fn()
    except OSError as exc:
        if exc.errno not in _OUT_OF_DESCRIPTORS or not _RESERVE:
            raise
    os.close(_RESERVE.pop())
    try:
        return fn()
    finally:
        take_reserve_fd()


def take_reserve_fd() -> None:
    with contextlib.suppress(OSError):  # retried after the next /metrics
        _RESERVE.append(os.open(os.devnull, os.O_RDONLY))


def run_worker(app: App, sock: socket.socket, slot: int) -> None:
    """Worker body: count into `slot`, serve connections one request at a time, forever."""
    WebHandler.app = app
    WebHandler.service = SERVICE
    WebHandler.recorder = SlotRecorder(app.counters, slot)
    WebHandler.stats, WebHandler.stats_slot = app.stats, slot
    take_reserve_fd()
    worker_loop(sock, serve_one)


def serve_one(conn: socket.socket, addr: Any) -> None:
    """Parse and answer one request on `conn` (the handler needs no server object)."""
    WebHandler(conn, addr, cast(Any, None))
