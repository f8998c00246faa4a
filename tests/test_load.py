"""harness.load: real Locust in a subprocess, streaming every request back to the harness.

Tolerances: the achieved rate must be within ±25% of the target over a 4 s window that
starts after the ramp; a stalled stack must show failures within 2 s (the timeout is 1 s,
the stream flushes every 100 ms). Open loop: while every web node is stopped, arrivals by
intended start stay within ±10 % of the offered rate (the schedule is exact; the slack is
for records at the window's edges), and at least 90 % of them are sent on time.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from harness.load import LoadError, LoadGenerator, RequestRecord, read_records
from harness.stack import LocalBackend, procfs
from harness.waiting import wait_until

WEB_NODES = ("web-1", "web-2", "web-3")
USERS, RATE_PER_S = 10, 40.0
RATE_WINDOW_S = 4.0
SPAWN_ALLOWANCE_S = 1.5  # past the 1 s ramp
STALL_S = 3.5


class Collected:
    """Records handed to on_record, each with its arrival time on the test's monotonic clock."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._items: list[tuple[float, RequestRecord]] = []

    def __call__(self, record: RequestRecord) -> None:
        with self._lock:
            self._items.append((time.monotonic(), record))

    def arrivals(self) -> list[tuple[float, RequestRecord]]:
        with self._lock:
            return list(self._items)

    def records(self) -> list[RequestRecord]:
        return [record for _, record in self.arrivals()]

    def nodes(self) -> set[str]:
        return {r.node for r in self.records() if r.node is not None}

    def first_failure_after(self, mono: float) -> tuple[float, RequestRecord] | None:
        return next(((at, r) for at, r in self.arrivals() if at >= mono and not r.ok), None)


@pytest.fixture
def refusing_port() -> Iterator[int]:
    """A loopback port that is bound but not listening: every connection is refused at once."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        yield sock.getsockname()[1]


def assert_gone(pid: int) -> None:
    assert not os.path.exists(f"/proc/{pid}"), f"locust pid {pid} still exists"
    assert procfs.group_members(pid) == [], f"locust's process group {pid} still has members"


def jsonl_lines(load: LoadGenerator) -> int:
    return len(load.records_path.read_bytes().splitlines())


def test_paced_records_from_every_node_then_a_stalled_stack_fails_fast(shop: LocalBackend, tmp_path: Path) -> None:
    collected = Collected()
    began = time.monotonic()
    load = LoadGenerator(shop.endpoint("lb").port, users=USERS, rate_per_s=RATE_PER_S, run_dir=tmp_path / "load",
                         on_record=collected, max_s=30, ramp_s=1.0)
    with load:
        wait_until(lambda: set(WEB_NODES) <= collected.nodes(), 5, "records served by every web node")

        window_start = collected.records()[0].mono + SPAWN_ALLOWANCE_S
        window_end = window_start + RATE_WINDOW_S
        # A record that started well after the window is in: every request inside it has reported.
        wait_until(lambda: any(r.mono >= window_end + 0.3 for r in collected.records()),
                   SPAWN_ALLOWANCE_S + RATE_WINDOW_S + 3, "the end of the rate window")
        in_window = [r for r in collected.records() if window_start <= r.mono < window_end]
        achieved = len(in_window) / RATE_WINDOW_S
        print(f"achieved {achieved:.1f} req/s for a target of {RATE_PER_S:g}")
        assert 0.75 * RATE_PER_S <= achieved <= 1.25 * RATE_PER_S

        healthy = collected.records()
        assert all(r.ok for r in healthy), [r for r in healthy if not r.ok][:3]
        assert {r.name for r in healthy} == {"browse", "product", "checkout"}
        # Request starts are on the system-wide monotonic clock, and wall time agrees with it.
        now, wall_minus_mono = time.monotonic(), time.time() - time.monotonic()
        assert all(began <= r.mono <= now for r in healthy)
        assert all(abs((r.wall - r.mono) - wall_minus_mono) < 0.5 for r in healthy)

        stalled_at = time.monotonic()
        for node in WEB_NODES:
            shop.signal(node, signal.SIGSTOP)
        try:
            arrived_at, failure = wait_until(lambda: collected.first_failure_after(stalled_at), 5,
                                             "a failed request after the web nodes stalled")
        finally:
            for node in WEB_NODES:
                shop.signal(node, signal.SIGCONT)
        detection_s = arrived_at - stalled_at
        print(f"stall detected after {detection_s:.2f} s: {failure}")
        assert detection_s < 2.0
        assert failure.status == 0 or failure.status >= 500
        assert failure.error

    pid = load.pid
    assert pid is not None
    assert_gone(pid)
    assert jsonl_lines(load) == len(collected.records()) == load.requests
    assert load.failures == sum(1 for r in collected.records() if not r.ok) > 0
    assert "gevent" not in sys.modules and "locust" not in sys.modules


def test_refused_requests_are_failures_and_a_failing_callback_never_stops_the_stream(
        refusing_port: int, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    def broken_callback(record: RequestRecord) -> None:
        raise RuntimeError("listener bug")

    load = LoadGenerator(refusing_port, users=2, rate_per_s=20, run_dir=tmp_path, on_record=broken_callback, max_s=10)
    with caplog.at_level(logging.WARNING, logger="harness.load"):
        load.start()
        wait_until(lambda: load.requests >= 20, 5, "20 records despite the failing callback")
        load.stop()
        load.stop()  # idempotent
    assert load.failures == load.requests == jsonl_lines(load)
    assert "on_record failed" in caplog.text
    assert load.pid is not None
    assert_gone(load.pid)


def test_a_locust_that_dies_at_start_is_reported_with_its_log(tmp_path: Path) -> None:
    broken = tmp_path / "broken_locustfile.py"
    broken.write_text("import gamedrill_no_such_module\n")
    load = LoadGenerator(1, users=1, rate_per_s=1, run_dir=tmp_path, on_record=print, max_s=5, locustfile=broken)
    with pytest.raises(LoadError, match="exited with status") as caught:
        load.start(timeout_s=15)
    assert "gamedrill_no_such_module" in str(caught.value)
    assert load.pid is not None
    assert_gone(load.pid)


@pytest.mark.parametrize("field, value", [("users", 0), ("rate_per_s", -1.0), ("max_s", 0.0)])
def test_a_bad_profile_is_refused_naming_the_value(field: str, value: float, tmp_path: Path) -> None:
    profile = {"users": 1, "rate_per_s": 1.0, "max_s": 1.0} | {field: value}
    with pytest.raises(ValueError, match=f"{field} must be above 0, got {value!r}"):
        LoadGenerator(1, run_dir=tmp_path, on_record=print, **profile)  # type: ignore[arg-type]


def test_open_loop_a_hung_stack_never_slows_the_arrivals(shop: LocalBackend, tmp_path: Path) -> None:
    collected = Collected()
    load = LoadGenerator(shop.endpoint("lb").port, users=None, rate_per_s=RATE_PER_S, run_dir=tmp_path / "load",
                         on_record=collected, max_s=30, ramp_s=0.5)
    with load:
        assert load.origin_mono is not None and load.in_flight_limit >= RATE_PER_S
        wait_until(lambda: any(r.intended >= load.origin_mono + 1.5 for r in collected.records()), 5,
                   "a second of healthy load after the ramp")
        stalled_at = time.monotonic()
        for node in WEB_NODES:
            shop.signal(node, signal.SIGSTOP)
        try:
            wait_until(lambda: time.monotonic() >= stalled_at + STALL_S, STALL_S + 1, "the stall's end")
            mark = load.status
            assert mark is not None and mark.complete_before is not None
            vouched = [r for r in collected.records() if r.intended < mark.complete_before]
        finally:
            for node in WEB_NODES:
                shop.signal(node, signal.SIGCONT)
        hung_until = stalled_at + STALL_S
        # Every arrival of the stall has ended (the timeout is 1 s) once a later one has reported.
        wait_until(lambda: any(r.intended >= hung_until + 1.5 for r in collected.records()), 6,
                   "records of the arrivals after the stall")

    records = collected.records()
    assert records == read_records(load.records_path)  # the log holds exactly what the harness was handed
    # The watermark: every arrival before it had been handed over when it was reported; while
    # the stack hangs it lags behind the requests still waiting for their timeout.
    assert vouched == [r for r in records if r.intended < mark.complete_before]
    assert mark.complete_before < mark.mono - 0.5
    # Leave out the stall's edges: a request sent in its last second may be answered within the
    # timeout once the nodes carry on, and the signals take a moment to land.
    judged_s = STALL_S - 1.5
    hung = [r for r in records if stalled_at + 0.5 <= r.intended < stalled_at + 0.5 + judged_s]
    held = len(hung) / judged_s
    on_time = sum(1 for r in hung if r.sent and r.lag_s <= 0.5) / len(hung)
    print(f"{held:.1f} arrivals/s while hung for {RATE_PER_S:g} offered; {on_time:.0%} on time")
    assert 0.9 * RATE_PER_S <= held <= 1.1 * RATE_PER_S
    assert on_time >= 0.9
    assert all(not r.ok for r in hung), [r for r in hung if r.ok][:3]
    assert all(r.customer_latency_ms <= 1250 + r.lag_s * 1000 + 50 for r in hung)  # the hard timeout holds
    assert all(r.intended <= r.mono for r in records if r.sent)
    assert load.pid is not None
    assert_gone(load.pid)
