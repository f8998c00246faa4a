"""The monitor on synthetic traffic: alerts, breaches, restoration to the request, relapses."""

from __future__ import annotations

from pathlib import Path

from harness.monitor import Monitor
from harness.slo import Sample, find_restoration
from harness.spec import AlertRule, HealthWindow
from harness.timeline import FakeClock, Journal, read_journal

RATE = 50  # requests per second in the synthetic traffic


def traffic(start_s: float, end_s: float, ok: bool, latency_ms: float = 10.0) -> list[Sample]:
    count = int((end_s - start_s) * RATE)
    return [Sample(start_s + i / RATE, latency_ms, ok, "web-1") for i in range(count)]


def run_monitor(tmp_path: Path, samples: list[Sample], until_s: float, fault_t_s: float) -> list[str]:
    clock = FakeClock()
    journal = Journal.open(tmp_path / "journal.jsonl", clock)
    rule = AlertRule(name="errors", metric="error_rate", op=">", threshold=0.05, for_s=1.0)
    monitor = Monitor(journal, (rule,), HealthWindow(max_error_rate=0.01, max_p99_ms=500, window_s=3),
                      ("web-1",), settle_s=1.0)
    fed = 0
    t = 0.0
    while t < until_s:
        t = round(t + 0.1, 3)
        while fed < len(samples) and samples[fed].t_s + samples[fed].latency_ms / 1000 <= t:
            monitor.feed(samples[fed])
            fed += 1
        if abs(t - fault_t_s) < 0.05:
            monitor.arm_restoration(fault_t_s)
        monitor.tick(t)
    return [e.kind for e in read_journal(tmp_path / "journal.jsonl")]


def events_of(tmp_path: Path, kind: str) -> list[dict[str, object]]:
    return [dict(e.data) for e in read_journal(tmp_path / "journal.jsonl") if e.kind == kind]


def test_outage_alerts_and_restoration_is_the_first_clean_request(tmp_path: Path) -> None:
    samples = traffic(0, 10, True) + traffic(10, 14.5, False) + traffic(14.5, 30, True)
    kinds = run_monitor(tmp_path, samples, until_s=30, fault_t_s=10.0)
    assert kinds.count("alert.fired") == 1 and kinds.count("alert.cleared") == 1
    [breach] = events_of(tmp_path, "slo.breached")
    assert breach["relapse"] is False
    [restored] = events_of(tmp_path, "restoration.detected")
    assert restored["window_start_t_s"] == 14.5, "exact to the request: the first one after the outage"


def test_a_single_stray_failure_is_not_an_incident(tmp_path: Path) -> None:
    samples = traffic(0, 30, True)
    samples[600] = Sample(samples[600].t_s, 10.0, False, "web-1")  # one failure at t=12 s
    kinds = run_monitor(tmp_path, samples, until_s=30, fault_t_s=10.0)
    assert "slo.breached" not in kinds and "restoration.detected" not in kinds and "alert.fired" not in kinds


def test_a_relapse_after_a_masking_action_is_a_second_breach(tmp_path: Path) -> None:
    samples = (traffic(0, 10, True) + traffic(10, 13, False) + traffic(13, 20, True)
               + traffic(20, 23, False) + traffic(23, 35, True))
    run_monitor(tmp_path, samples, until_s=35, fault_t_s=10.0)
    breaches = events_of(tmp_path, "slo.breached")
    assert [b["relapse"] for b in breaches] == [False, True]
    assert [r["window_start_t_s"] for r in events_of(tmp_path, "restoration.detected")] == [13.0, 23.0]


def test_restoration_needs_a_clean_lead_in_not_a_lucky_success() -> None:
    # Every other request fails until 19.96 s; over a 3 s window the early successes would
    # pass the 1% budget, but service is back only from the success after the last failure.
    flaky = [Sample(15 + i / RATE, 10.0, i % 2 == 1, "web-1") for i in range(249)]
    samples = flaky + traffic(19.98, 30, True)
    found, _ = find_restoration(samples, after_t_s=15, known_until_t_s=30, window_s=3,
                                max_error_rate=0.01, max_p99_ms=500)
    assert found is not None and found.window_start_t_s == 19.98


def test_slow_requests_breach_the_latency_slo(tmp_path: Path) -> None:
    samples = traffic(0, 10, True) + traffic(10, 15, True, latency_ms=800) + traffic(15, 30, True)
    run_monitor(tmp_path, samples, until_s=30, fault_t_s=10.0)
    [breach] = events_of(tmp_path, "slo.breached")
    assert breach["p99_ms"] == 800.0
    [restored] = events_of(tmp_path, "restoration.detected")
    assert restored["window_start_t_s"] == 15.0


def test_the_steady_state_check_can_leave_the_loads_warm_up_out(tmp_path: Path) -> None:
    """The runner asks for requests started after the load's first second: slow requests
    while connections open must not make a healthy stack look unhealthy."""
    with Journal.open(tmp_path / "journal.jsonl", FakeClock()) as journal:
        monitor = Monitor(journal, (), HealthWindow(max_error_rate=0.01, max_p99_ms=500, window_s=3), ("web-1",))
        slow_start = [Sample(0.1 + i / 100, 1100.0, True, "web-1") for i in range(5)]  # connections opening
        for sample in [*slow_start, *traffic(0.2, 3.0, ok=True)]:
            monitor.feed(sample)
        assert monitor.recent(3.1, 3.0).p99_ms > 1000
        warmed = monitor.recent(3.1, 3.0, started_after_t_s=1.0)
        assert warmed.p99_ms < 20 and warmed.requests == len(traffic(1.0, 3.0, ok=True))


def test_alerts_leave_the_loads_ramp_out(tmp_path: Path) -> None:
    """Failures while the load ramps up (connections opening) never make an alert fire."""
    clock = FakeClock()
    with Journal.open(tmp_path / "journal.jsonl", clock) as journal:
        rule = AlertRule(name="errors", metric="error_rate", op=">", threshold=0.05, for_s=0.5)
        monitor = Monitor(journal, (rule,), HealthWindow(max_error_rate=0.01, max_p99_ms=500, window_s=3),
                          ("web-1",), settle_s=1.0)
        monitor.ignore_alerts_before(2.0)
        for sample in traffic(0, 2, ok=False) + traffic(2, 4, ok=True):
            monitor.feed(sample)
        for tick in range(1, 41):
            monitor.tick(tick / 10)
        assert monitor.firing() == []
        for sample in traffic(4, 6, ok=False):
            monitor.feed(sample)
        for tick in range(41, 61):
            monitor.tick(tick / 10)
        assert monitor.firing() == ["errors"]


def test_windows_count_offered_and_achieved_arrivals(tmp_path: Path) -> None:
    """By intended start: an arrival sent late is offered but not achieved; one never sent
    counts as offered only, never as a request the stack answered."""
    with Journal.open(tmp_path / "journal.jsonl", FakeClock()) as journal:
        monitor = Monitor(journal, (), HealthWindow(max_error_rate=0.01, max_p99_ms=500, window_s=3), ("web-1",),
                          settle_s=1.0)
        on_time = traffic(0, 1, ok=True)[:40]
        late = [Sample(0.9 + i / 1000, 900.0, True, "web-1", lag_s=0.8) for i in range(6)]
        unsent = [Sample(0.95 + i / 1000, 0.0, False, None, sent=False) for i in range(4)]
        for sample in on_time + late + unsent:
            monitor.feed(sample)
        monitor.tick(2.5)
        assert monitor.arrivals(0, 1) == (50, 40)
    [window] = events_of(tmp_path, "slo.window")
    assert (window["offered"], window["achieved"], window["requests"], window["failures"]) == (50, 40, 46, 0)


def test_a_window_waits_for_the_generators_watermark_not_only_for_settle_s(tmp_path: Path) -> None:
    """A generator starved of CPU delivers its records late: a second is written only once the
    generator vouches that every arrival of it is in, so a late record still counts."""
    journal = Journal.open(tmp_path / "journal.jsonl", FakeClock())
    monitor = Monitor(journal, (), HealthWindow(max_error_rate=0.01, max_p99_ms=500, window_s=3),
                      ("web-1",), settle_s=1.0)
    on_time, late = traffic(0, 1, True), traffic(1, 2, True)
    for sample in on_time:
        monitor.feed(sample)
    monitor.records_complete_before(1.0)
    monitor.tick(4.0)  # settle_s alone would write second 1, still empty of its (late) records
    assert [w["start_t_s"] for w in events_of(tmp_path, "slo.window")] == [0]
    for sample in late:
        monitor.feed(sample)
    monitor.records_complete_before(2.0)
    monitor.tick(4.1)
    assert [(w["start_t_s"], w["requests"]) for w in events_of(tmp_path, "slo.window")] == [(0, RATE), (1, RATE)]


def test_a_stalled_watermark_holds_the_windows_back_only_so_long(tmp_path: Path) -> None:
    from harness.monitor import MAX_HOLD_S

    journal = Journal.open(tmp_path / "journal.jsonl", FakeClock())
    monitor = Monitor(journal, (), HealthWindow(max_error_rate=0.01, max_p99_ms=500, window_s=3),
                      ("web-1",), settle_s=1.0)
    for sample in traffic(0, 3, True):
        monitor.feed(sample)
    monitor.records_complete_before(0.5)  # and the generator is never heard of again
    monitor.tick(MAX_HOLD_S)
    assert events_of(tmp_path, "slo.window") == []
    monitor.tick(MAX_HOLD_S + 3.0)
    assert [w["start_t_s"] for w in events_of(tmp_path, "slo.window")] == [0, 1, 2]
    monitor.flush(MAX_HOLD_S + 3.0)
    assert len(events_of(tmp_path, "slo.window")) == 3, "flushing writes no second twice"
