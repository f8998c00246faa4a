"""harness.load_schedule and harness.load_steady: the open-loop schedule and the steady-state verdict (pure)."""

from __future__ import annotations

import random
from collections import Counter

import pytest

from harness.load_schedule import MAX_IN_FLIGHT, ArrivalSchedule, in_flight_limit
from harness.load_steady import judge_steady_state
from harness.slo import WindowStats


def per_second(schedule: ArrivalSchedule, seconds: int, seed: int = 1) -> Counter[int]:
    counts: Counter[int] = Counter()
    for offset in schedule.offsets(random.Random(seed)):
        if offset >= seconds:
            return counts
        counts[int(offset)] += 1
    raise AssertionError("unreachable")


def test_constant_arrivals_ramp_linearly_then_hold_the_rate_exactly() -> None:
    schedule = ArrivalSchedule(60.0, ramp_s=2.0)
    counts = per_second(schedule, 10)
    assert counts[0] == 15 and counts[1] == 45  # the ramp: a quarter, then three quarters of a second's rate
    assert all(counts[s] == 60 for s in range(2, 10)), counts
    assert schedule.expected(0, 1) == 15 and schedule.expected(2, 10) == 480
    assert schedule.rate_at(1.0) == 30 and schedule.rate_at(5.0) == 60 and schedule.rate_at(-1) == 0


def test_offsets_increase_and_no_ramp_starts_at_full_rate() -> None:
    offsets = [o for o, _ in zip(ArrivalSchedule(10.0).offsets(random.Random(0)), range(30), strict=False)]
    assert offsets == sorted(offsets) and offsets[0] == pytest.approx(0.05) and offsets[-1] == pytest.approx(2.95)


def test_poisson_arrivals_keep_the_mean_rate_and_vary() -> None:
    schedule = ArrivalSchedule(100.0, ramp_s=1.0, arrivals="poisson")
    counts = per_second(schedule, 101, seed=7)
    held = [counts[s] for s in range(1, 101)]
    mean = sum(held) / len(held)
    variance = sum((c - mean) ** 2 for c in held) / len(held)
    assert 95 <= mean <= 105  # 100 seconds of a 100/s process: the mean's sd is 1
    assert 60 <= variance <= 150  # Poisson: variance = mean (constant arrivals would give 0)


@pytest.mark.parametrize("kwargs, message", [
    ({"rate_per_s": 0.0}, "rate_per_s must be above 0, got 0.0"),
    ({"rate_per_s": 1.0, "ramp_s": -1.0}, "ramp_s must be 0 or more, got -1.0"),
    ({"rate_per_s": 1.0, "arrivals": "bursty"}, "arrivals must be one of constant, poisson, got 'bursty'"),
])
def test_a_bad_schedule_is_refused_naming_the_value(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        ArrivalSchedule(**kwargs)  # type: ignore[arg-type]


def test_the_in_flight_limit_covers_a_timeout_of_arrivals_and_is_bounded() -> None:
    assert in_flight_limit(60, 2.0) == 200  # 60/s hung for 2 s is 120 in flight, with room for bursts
    assert in_flight_limit(60, 2.0, floor=500) == 500
    assert in_flight_limit(10_000, 60.0) == MAX_IN_FLIGHT


def stats(requests: int, failures: int, p99_ms: float | None = 20.0) -> WindowStats:
    return WindowStats(requests, failures, 5.0, p99_ms)


LIMITS = {"max_error_rate": 0.01, "max_p99_ms": 500.0}


def test_a_healthy_steady_state_has_no_reasons() -> None:
    verdict = judge_steady_state(stats(100, 0), 0, 100, 100, 100.0, **LIMITS)
    assert verdict.healthy and verdict.reasons == ()


def test_requests_stuck_past_their_timeout_count_as_failures() -> None:
    verdict = judge_steady_state(stats(95, 0), 5, 95, 95, 100.0, **LIMITS)
    assert not verdict.healthy and (verdict.requests, verdict.failures) == (100, 5)
    assert verdict.reasons == ("5 of 100 requests failed, 5 of them still in flight past their timeout "
                               "(5.0%, the limit is 1.0%)",)


def test_a_generator_that_fell_behind_means_no_injection() -> None:
    late = judge_steady_state(stats(100, 0), 0, 100, 80, 100.0, **LIMITS)
    assert not late.healthy and "sent 80 of 100 offered arrivals on time" in late.reasons[0]
    short = judge_steady_state(stats(40, 0), 0, 40, 40, 100.0, **LIMITS)
    assert not short.healthy and short.reasons == ("40 arrivals reported where the schedule offers 100",)
    slow = judge_steady_state(stats(100, 0, p99_ms=900.0), 0, 100, 100, 100.0, **LIMITS)
    assert slow.reasons == ("p99 latency 900 ms (the limit is 500 ms)",)
    empty = judge_steady_state(stats(0, 0, None), 0, 0, 0, 0.0, **LIMITS)
    assert empty.reasons == ("no request after the load's ramp",)
