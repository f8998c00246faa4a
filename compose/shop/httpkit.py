"""Shared plumbing for the shop's HTTP services: env, JSON handlers, /proc stats, serving.

Standard library only. Access logs are off on purpose: the services sit under load and a
log line per request would cost more than the request; errors still go to stderr.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar, Protocol
from urllib.parse import parse_qs

from shop.promstats import CONTENT_TYPE as PROMETHEUS_TYPE
from shop.promstats import Exposition, RequestStats

JSON_TYPE = "application/json"
MAX_BODY = 1 << 20  # request bodies are small JSON objects; refuse anything silly


# ---- environment and logging -----------------------------------------------------------


def env_str(name: str, default: str) -> str:
    value = os.environ.get(name, "").strip()
    return value or default


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name, "").strip()
    return int(value) if value else default


def env_float(name: str, default: float) -> float:
    value = os.environ.get(name, "").strip()
    return float(value) if value else default


def bind_address() -> tuple[str, int]:
    """(BIND, PORT); the stack only ever binds loopback."""
    return env_str("BIND", "127.0.0.1"), env_int("PORT", 0)


def log(service: str, message: str) -> None:
    """One line per notable event, on stderr (the runner captures it per service)."""
    stamp = time.strftime("%H:%M:%S", time.gmtime())
    sys.stderr.write(f"{stamp} {service}[{os.getpid()}] {message}\n")
    sys.stderr.flush()


# ---- /proc statistics ------------------------------------------------------------------

_CLK_TCK = os.sysconf("SC_CLK_TCK")


def open_fds(pid: int) -> int | None:
    """How many descriptors `pid` holds; None if it is gone or we cannot look (or hit EMFILE)."""
    try:
        count = len(os.listdir(f"/proc/{pid}/fd"))
    except OSError:
        return None
    return count - 1 if pid == os.getpid() else count  # not the descriptor listdir itself used


def proc_stat_fields(pid: int) -> list[str] | None:
    """Fields of /proc/<pid>/stat after the command name (field 3, `state`, is index 0)."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            raw = f.read().decode("ascii", "replace")
    except OSError:
        return None
    # The command name may hold spaces and parentheses: split after the last ')'.
    return raw[raw.rfind(")") + 2 :].split()


def cpu_seconds(pid: int) -> float | None:
    """utime + stime of `pid` in seconds."""
    fields = proc_stat_fields(pid)
    if fields is None:
        return None
    return round((int(fields[11]) + int(fields[12])) / _CLK_TCK, 3)


def base_metrics(service: str, started: float, requests: int, errors: int) -> dict[str, Any]:
    """The fields every service's /metrics carries; `started` is a time.monotonic() value."""
    pid = os.getpid()
    return {
        "service": service,
        "pid": pid,
        "requests": requests,
        "errors": errors,
        "open_fds": open_fds(pid),
        "cpu_s": cpu_seconds(pid),
        "uptime_s": round(time.monotonic() - started, 3),
    }


def base_exposition(started: float, out: Exposition | None = None) -> Exposition:
    """The process families every service's Prometheus /metrics carries."""
    out = out or Exposition()
    pid = os.getpid()
    out.gauge("shop_open_fds", "Open file descriptors of the service (a web node: master and workers).",
              open_fds(pid))
    out.gauge("shop_cpu_seconds_total", "CPU time (user + system) of the service's process.", cpu_seconds(pid),
              kind="counter")
    out.gauge("shop_uptime_seconds", "Seconds since the service started.", round(time.monotonic() - started, 3))
    return out


def wants_json(path: str, accept: str | None) -> bool:
    """/metrics speaks Prometheus text unless asked for JSON (`?format=json` or Accept: application/json)."""
    query = parse_qs(path.partition("?")[2])
    if "format" in query:
        return query["format"][-1] == "json"
    return JSON_TYPE in (accept or "")


# ---- request handling --------------------------------------------------------------------


class HTTPError(Exception):
    """Raised by route code; becomes a JSON error response with this status."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


class Recorder(Protocol):
    def record(self, status: int) -> None: ...


class Counters:
    """Thread-safe request/error counts; an error is any response with status >= 500."""

    def __init__(self) -> None:
        self.requests = 0
        self.errors = 0
        self._lock = threading.Lock()

    def record(self, status: int) -> None:
        with self._lock:
            self.requests += 1
            if status >= 500:
                self.errors += 1


class JSONHandler(BaseHTTPRequestHandler):
    """Base handler: every method goes to `route`, errors come back as {"error": ...}."""

    server_version = "shop"
    disable_nagle_algorithm = True  # header and body are separate writes: avoid Nagle stalls
    service: ClassVar[str] = "shop"
    recorder: ClassVar[Recorder | None] = None
    stats: ClassVar[RequestStats | None] = None  # by route and code, for the Prometheus /metrics
    stats_slot: ClassVar[int] = 0
    began: float = 0.0

    def version_string(self) -> str:
        return self.server_version

    def route(self) -> None:
        raise HTTPError(404, f"no route for {self.command} {self.path}")

    def _dispatch(self) -> None:
        self.began = time.perf_counter()
        try:
            self.route()
        except HTTPError as exc:
            self.send_json(exc.status, {"error": exc.message})
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True  # the client went away; nothing to answer
        except Exception as exc:  # a handler bug must still answer JSON
            log(self.service, f"{self.command} {self.path} failed: {type(exc).__name__}: {exc}")
            self.send_json(500, {"error": error_text(exc)})

    do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = _dispatch

    def send_body(self, status: int, body: bytes, content_type: str = JSON_TYPE,
                  headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        if headers:
            for key, value in headers.items():
                self.send_header(key, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)
        if self.recorder is not None:
            self.recorder.record(status)
        if self.stats is not None:
            self.stats.observe(self.stats.route_of(self.path), status, time.perf_counter() - self.began,
                               self.stats_slot)

    def send_metrics(self, as_json: Callable[[], object], as_text: Callable[[], Exposition],
                     headers: dict[str, str] | None = None) -> None:
        """/metrics: `as_json()` or `as_text()` (an Exposition), as the client asked (see wants_json)."""
        if wants_json(self.path, self.headers.get("Accept")):
            self.send_json(200, as_json(), headers)
        else:
            self.send_body(200, as_text().body(), PROMETHEUS_TYPE, headers)

    def send_json(self, status: int, obj: object, headers: dict[str, str] | None = None) -> None:
        self.send_body(status, json.dumps(obj).encode(), JSON_TYPE, headers)

    def read_body(self) -> bytes:
        length = self.headers.get("Content-Length")
        if not length:
            return b""
        if not length.isdigit() or int(length) > MAX_BODY:
            self.close_connection = True  # the unread body would be parsed as the next request
            raise HTTPError(400, "Content-Length: missing or too large")
        return self.rfile.read(int(length))

    def read_json(self) -> dict[str, Any]:
        """The request body as a JSON object, or a 400 saying why not."""
        raw = self.read_body()
        try:
            body = json.loads(raw) if raw else None
        except ValueError as exc:
            raise HTTPError(400, f"body: invalid JSON ({exc})") from None
        if not isinstance(body, dict):
            raise HTTPError(400, "body: expected a JSON object")
        return body

    # Quiet access log: send_response calls log_request for every request.
    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        pass

    def log_error(self, format: str, *args: Any) -> None:
        if not format.startswith("Request timed out"):  # idle keep-alive clients: routine
            self.log_message(format, *args)

    def log_message(self, format: str, *args: Any) -> None:
        log(self.service, format % args)  # only errors get here now


def error_text(exc: BaseException) -> str:
    """OSErrors read as the OS says them ("[Errno 24] Too many open files")."""
    if isinstance(exc, OSError):
        return str(exc)
    return f"{type(exc).__name__}: {exc}"


# ---- serving -----------------------------------------------------------------------------


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128
    service = "shop"

    def handle_error(self, request: Any, client_address: Any) -> None:
        exc = sys.exc_info()[1]
        if isinstance(exc, (ConnectionError, TimeoutError)):
            return  # clients hanging up or idling out is routine
        log(self.service, f"error serving {client_address}: {type(exc).__name__}: {exc}")


def make_server(service: str, handler: type[JSONHandler]) -> Server:
    """A threading server on (BIND, PORT) for `handler`."""
    handler.service = service
    server = Server(bind_address(), handler)
    server.service = service
    return server


def serve(server: Server) -> None:
    """Serve until SIGTERM or SIGINT, then close the listening socket and return."""

    def stop(signum: int, frame: object) -> None:
        # shutdown() waits for serve_forever() to return, so it must run on another thread.
        # (Raising from the handler instead can land inside a request and be swallowed.)
        threading.Thread(target=server.shutdown, name="shutdown", daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    host, port = server.socket.getsockname()[:2]
    log(server.service, f"listening on {host}:{port}")
    try:
        server.serve_forever(poll_interval=0.1)
    finally:
        server.server_close()
        log(server.service, "stopped")
