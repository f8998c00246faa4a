"""The shop user for Locust, and the reporter that streams every request to the harness.

Runs ONLY inside the Locust subprocess started by `harness.load`: importing Locust
monkey-patches the interpreter with gevent, so the harness must never import this module.

Settings come from the environment (the harness sets them):
    GAMEDRILL_RECORD_FD        inherited pipe; one JSON line per request is written to it
    GAMEDRILL_RATE_PER_S       total requests per second over all users (-u)
    GAMEDRILL_MIX_BROWSE / _PRODUCT / _CHECKOUT    relative task weights
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
from locust import FastHttpUser, constant_throughput, events, task
from locust.env import Environment

FLUSH_EVERY_S = 0.1
FLUSH_AT_RECORDS = 200
KNOWN_SKUS = 50
UNKNOWN_SKU_SHARE = 0.03  # delisted skus answer 404: normal shop life, not a failure


def _env_float(name: str, default: float) -> float:
    raw = os.environ.get(name)
    return default if raw is None or raw == "" else float(raw)


TIMEOUT_S = _env_float("GAMEDRILL_TIMEOUT_S", 1.0)
RATE_PER_S = _env_float("GAMEDRILL_RATE_PER_S", 10.0)
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


def _pace_and_start_writer(environment: Environment, **_: Any) -> None:
    users = getattr(environment.parsed_options, "num_users", None) or 1
    # One request per task run, so each user's throughput is its share of the total rate.
    ShopUser.wait_time = jittered_pacing(users / RATE_PER_S)
    gevent.spawn(STREAM.run_writer)


def jittered_pacing(mean_interval_s: float) -> Callable[[Any], float]:
    """constant_throughput with each interval drawn from 0.5-1.5x the mean.

    With fixed intervals, users fall into lockstep whenever responses are instant (a
    fast-failing stack): the stack is then sampled only once per interval, in bursts, and
    a restoration can be seen up to an interval late. Jitter keeps arrivals spread out.
    """

    def wait_time(user: Any) -> float:
        now = time.monotonic()
        started = getattr(user, "_gamedrill_task_started", now)  # when the task that just ran began
        wait = max(0.0, started + mean_interval_s * random.uniform(0.5, 1.5) - now)
        user._gamedrill_task_started = now + wait
        return wait

    return wait_time


def _record_request(name: str, response_time: float, response: Any, context: dict[str, Any],
                    exception: BaseException | None, start_time: float, **_: Any) -> None:
    status = int(getattr(response, "status_code", 0) or 0)
    headers = getattr(response, "headers", None)
    STREAM.add({
        "mono": context.get("mono"),
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


def _flush_on_quit(**_: Any) -> None:
    STREAM.flush()


class ShopUser(FastHttpUser):
    connection_timeout = TIMEOUT_S
    network_timeout = TIMEOUT_S
    wait_time = constant_throughput(RATE_PER_S)  # replaced once -u is known (init listener)

    @task
    def visit(self) -> None:
        """One weighted action per task run, so the pacing counts requests exactly."""
        if PATHS:
            path = random.choices(list(PATHS), weights=list(PATHS.values()))[0]
            self._get(path, path)
            return
        action = random.choices(list(MIX), weights=list(MIX.values()))[0]
        getattr(self, action)()

    def browse(self) -> None:
        self._get("/products", "browse")

    def product(self) -> None:
        if random.random() < UNKNOWN_SKU_SHARE:
            self._get(f"/product/sku-{random.randint(900, 999):03d}", "product", missing_ok=True)
        else:
            self._get(f"/product/{_known_sku()}", "product")

    def checkout(self) -> None:
        body = {"sku": _known_sku(), "qty": random.randint(1, 3)}
        with self.client.post("/checkout", json=body, name="checkout", catch_response=True,
                              context={"mono": time.monotonic()}):
            pass  # default verdict: any 4xx/5xx or transport error fails

    def _get(self, path: str, name: str, missing_ok: bool = False) -> None:
        # The request's start on CLOCK_MONOTONIC (system-wide), comparable with the harness's clock.
        with self.client.get(path, name=name, catch_response=True, context={"mono": time.monotonic()}) as response:
            if missing_ok and response.status_code == 404:
                response.success()


def _known_sku() -> str:
    return f"sku-{random.randint(1, KNOWN_SKUS):03d}"


# Registered by call, not as decorators: Locust's add_listener is untyped and would erase the types.
# The quit flush catches requests that ended after `quitting`, while the runner stopped the users.
for _hook, _listener in ((events.init, _pace_and_start_writer), (events.request, _record_request),
                         (events.quitting, _flush_on_quit), (events.quit, _flush_on_quit)):
    _hook.add_listener(_listener)  # type: ignore[no-untyped-call]
