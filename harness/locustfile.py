"""The shop's customers for Locust, paced open-loop, each request streamed to the harness.

Runs ONLY inside the Locust subprocess started by `harness.load`: importing Locust
monkey-patches the interpreter with gevent, so the harness must never import this module.

One Locust user stands for the whole customer population: its task is the pacer, which
starts every arrival of the schedule (`harness.load_schedule`) in its own greenlet at its
intended time, whatever the stack does (no coordinated omission). Every arrival ends as
exactly one record: answered, failed, timed out, or not sent (in-flight limit reached).

Settings come from the environment (the harness sets them):
    GAMEDRILL_RECORD_FD        inherited pipe; one JSON line per record is written to it
    GAMEDRILL_RATE_PER_S       arrivals per second, once ramped up
    GAMEDRILL_RAMP_S           seconds over which the rate climbs from 0
    GAMEDRILL_ARRIVALS         constant | poisson
    GAMEDRILL_IN_FLIGHT_LIMIT  most requests in flight at once (default: from rate x timeout)
    GAMEDRILL_MIX_BROWSE / _PRODUCT / _CHECKOUT    relative action weights
    GAMEDRILL_PATHS            JSON {path: weight}: any stack, weighted GETs instead of the shop
    GAMEDRILL_TIMEOUT_S        connect and read timeout of every request
"""

from __future__ import annotations

import json
import os
import random
import signal
import time
from collections.abc import Callable
from typing import Any

import gevent  # type: ignore[import-untyped]
from gevent.pool import Pool  # type: ignore[import-untyped]
from locust import FastHttpUser, constant, events, task
from locust.env import Environment

from harness.load_schedule import ArrivalSchedule, in_flight_limit

FLUSH_EVERY_S = 0.1
FLUSH_AT_RECORDS = 200
KNOWN_SKUS = 50
UNKNOWN_SKU_SHARE = 0.03  # delisted skus answer 404: normal shop life, not a failure
OVERDUE_SLACK_S = 0.5  # in flight this long past the timeout: the generator itself is stuck
STATUS_EVERY_S = 0.5


def _env_float(name: str, default: float) -> float:
    raw = os.environ.get(name)
    return default if raw is None or raw == "" else float(raw)


TIMEOUT_S = _env_float("GAMEDRILL_TIMEOUT_S", 1.0)
HARD_TIMEOUT_S = TIMEOUT_S + 0.25  # the whole request, however slowly its bytes trickle in
RATE_PER_S = _env_float("GAMEDRILL_RATE_PER_S", 10.0)
SCHEDULE = ArrivalSchedule(RATE_PER_S, _env_float("GAMEDRILL_RAMP_S", 0.0),
                           os.environ.get("GAMEDRILL_ARRIVALS") or "constant")  # type: ignore[arg-type]
IN_FLIGHT_LIMIT = int(_env_float("GAMEDRILL_IN_FLIGHT_LIMIT", in_flight_limit(RATE_PER_S, TIMEOUT_S)))
MIX = {
    "browse": _env_float("GAMEDRILL_MIX_BROWSE", 3.0),
    "product": _env_float("GAMEDRILL_MIX_PRODUCT", 6.0),
    "checkout": _env_float("GAMEDRILL_MIX_CHECKOUT", 1.0),
}
PATHS: dict[str, float] = json.loads(os.environ.get("GAMEDRILL_PATHS") or "{}")


class RecordStream:
    """Buffers request records as JSON lines and writes them to the harness's pipe in batches."""

    def __init__(self, fd: int) -> None:
        self._pipe = open(fd, "wb", buffering=1 << 16)  # noqa: SIM115 - lives as long as the process
        self._lines: list[bytes] = []
        self.broken = False

    def add(self, record: dict[str, Any]) -> None:
        self._lines.append(json.dumps(record, separators=(",", ":")).encode() + b"\n")
        if len(self._lines) >= FLUSH_AT_RECORDS:
            self.flush()

    def flush(self) -> None:
        if not self._lines or self.broken:
            self._lines.clear()
            return
        batch, self._lines = b"".join(self._lines), []
        try:
            self._pipe.write(batch)
            self._pipe.flush()
        except (BrokenPipeError, ValueError):  # the harness is gone: nobody left to record for
            self.broken = True

    def run_writer(self) -> None:
        """The writer greenlet: flush on a short period so the harness sees requests promptly."""
        while not self.broken:
            gevent.sleep(FLUSH_EVERY_S)
            self.flush()
        os.kill(os.getpid(), signal.SIGTERM)  # Locust's own graceful shutdown: load stops with its harness


def _record_fd() -> int:
    raw = os.environ.get("GAMEDRILL_RECORD_FD")
    if not raw:
        raise RuntimeError("GAMEDRILL_RECORD_FD is not set: run this locustfile through harness.load")
    return int(raw)


STREAM = RecordStream(_record_fd())


Visit = Callable[[dict[str, float]], None]


class Arrivals:
    """The open-loop pacer: each arrival of the schedule runs in its own greenlet, on time.

    The greenlets are bounded by IN_FLIGHT_LIMIT: every request ends within HARD_TIMEOUT_S,
    so a hung stack holds about rate x timeout of them; an arrival that finds the limit
    reached (the generator itself is stuck) is recorded as not sent, never queued.
    """

    def __init__(self, visit: Visit) -> None:
        self._visit = visit
        self._pool = Pool(IN_FLIGHT_LIMIT)
        self._open: dict[int, float] = {}  # arrival number -> intended start, until its record is added
        self._next_intended = float("-inf")  # the next arrival not handed to a greenlet yet

    def run(self) -> None:
        origin = time.monotonic()
        STREAM.add({"kind": "gen.started", "origin_mono": origin, "rate_per_s": RATE_PER_S,
                    "ramp_s": SCHEDULE.ramp_s, "arrivals": SCHEDULE.arrivals, "in_flight_limit": IN_FLIGHT_LIMIT})
        gevent.spawn(self._report_status)
        for number, offset in enumerate(SCHEDULE.offsets(random.Random())):
            intended = self._next_intended = origin + offset
            delay = intended - time.monotonic()
            if delay > 0:
                gevent.sleep(delay)
            if self._pool.full():
                _record_unsent(intended)
            else:
                self._open[number] = intended  # before the spawn: the greenlet may start late
                self._pool.spawn(self._arrive, number, intended)
        self._next_intended = float("inf")

    def _arrive(self, number: int, intended: float) -> None:
        started = time.monotonic()
        try:
            with gevent.Timeout(HARD_TIMEOUT_S, False):  # False: the block is left quietly
                self._visit({"mono": started, "intended": intended})
                return
            _record_timeout(intended, started)
        finally:
            del self._open[number]  # after its record: the record is in the stream already

    def _report_status(self) -> None:
        """What is in flight, so the harness can count requests stuck past their timeout, and
        the watermark `complete_before`: every arrival intended before it has its record in the
        stream ahead of this line, so the harness can write a second's window knowing it is whole."""
        while not STREAM.broken:
            gevent.sleep(STATUS_EVERY_S)
            now = time.monotonic()
            starts = list(self._open.values())
            STREAM.add({"kind": "gen.status", "mono": now, "in_flight": len(starts),
                        "overdue": sum(1 for s in starts if now - s > HARD_TIMEOUT_S + OVERDUE_SLACK_S),
                        "complete_before": min([now, self._next_intended, *starts])})


def _wall_of(mono: float) -> float:
    return time.time() - (time.monotonic() - mono)


def _record_unsent(intended: float) -> None:
    STREAM.add({"mono": intended, "intended": intended, "wall": _wall_of(intended), "latency_ms": 0.0,
                "status": 0, "ok": False, "sent": False, "node": None, "name": "arrival",
                "error": f"not sent: {IN_FLIGHT_LIMIT} requests in flight (the generator's limit)"})


def _record_timeout(intended: float, started: float) -> None:
    STREAM.add({"mono": started, "intended": intended, "wall": _wall_of(started),
                "latency_ms": round((time.monotonic() - started) * 1000, 3), "status": 0, "ok": False,
                "node": None, "name": "arrival", "error": f"Timeout: no whole answer within {HARD_TIMEOUT_S:g} s"})


def _record_request(name: str, response_time: float, response: Any, context: dict[str, Any],
                    exception: BaseException | None, start_time: float, **_: Any) -> None:
    status = int(getattr(response, "status_code", 0) or 0)
    headers = getattr(response, "headers", None)
    STREAM.add({
        "mono": context.get("mono"),
        "intended": context.get("intended"),
        "wall": start_time,
        "latency_ms": round(response_time, 3),
        "status": status,
        "ok": exception is None and status < 500,
        "node": headers.get("X-Served-By") if headers is not None else None,
        "name": name,
        "error": _short_error(exception),
    })


def _short_error(exception: BaseException | None) -> str | None:
    if exception is None:
        return None
    text = str(exception) or repr(exception)
    return f"{type(exception).__name__}: {text}"[:160]


def _start_writer(environment: Environment, **_: Any) -> None:
    gevent.spawn(STREAM.run_writer)


def _flush_on_quit(**_: Any) -> None:
    STREAM.flush()


class ShopUser(FastHttpUser):
    """The whole customer population: its one task is the pacer; each arrival is one weighted
    action on the user's HTTP client pool, which allows IN_FLIGHT_LIMIT requests at once."""

    connection_timeout = TIMEOUT_S
    network_timeout = TIMEOUT_S
    concurrency = IN_FLIGHT_LIMIT
    wait_time = constant(0)

    @task
    def arrivals(self) -> None:
        Arrivals(self.visit).run()

    def visit(self, context: dict[str, float]) -> None:
        if PATHS:
            path = random.choices(list(PATHS), weights=list(PATHS.values()))[0]
            self._get(path, path, context)
            return
        action = random.choices(list(MIX), weights=list(MIX.values()))[0]
        getattr(self, action)(context)

    def browse(self, context: dict[str, float]) -> None:
        self._get("/products", "browse", context)

    def product(self, context: dict[str, float]) -> None:
        if random.random() < UNKNOWN_SKU_SHARE:
            self._get(f"/product/sku-{random.randint(900, 999):03d}", "product", context, missing_ok=True)
        else:
            self._get(f"/product/{_known_sku()}", "product", context)

    def checkout(self, context: dict[str, float]) -> None:
        body = {"sku": _known_sku(), "qty": random.randint(1, 3)}
        with self.client.post("/checkout", json=body, name="checkout", catch_response=True, context=context):
            pass  # default verdict: any 4xx/5xx or transport error fails

    def _get(self, path: str, name: str, context: dict[str, float], missing_ok: bool = False) -> None:
        with self.client.get(path, name=name, catch_response=True, context=context) as response:
            if missing_ok and response.status_code == 404:
                response.success()


def _known_sku() -> str:
    return f"sku-{random.randint(1, KNOWN_SKUS):03d}"


# Registered by call, not as decorators: Locust's add_listener is untyped and would erase the types.
# The quit flush catches requests that ended after `quitting`, while the runner stopped the users.
for _hook, _listener in ((events.init, _start_writer), (events.request, _record_request),
                         (events.quitting, _flush_on_quit), (events.quit, _flush_on_quit)):
    _hook.add_listener(_listener)  # type: ignore[no-untyped-call]
