"""The steady-state verdict before injecting: is the stack healthy, and is the load really offered?

Judged over the arrivals intended after the load's ramp. Requests the generator reports
as still in flight past their timeout count as failures (they have no record yet, and a
verdict that waited for them would be too late). The achieved rate is compared with the
offered one: a generator that fell behind measures nothing reliable, so the fault is not
injected on top of it. Every reason is said in words, with its numbers.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from harness.slo import WindowStats

MIN_ACHIEVED_SHARE = 0.95  # of the offered arrivals, sent on time
POISSON_SIGMAS = 3.0  # reported arrivals may fall this many standard deviations short of the schedule


@dataclass(frozen=True)
class SteadyState:
    healthy: bool
    reasons: tuple[str, ...]  # why not, in words (empty when healthy)
    requests: int
    failures: int  # failed requests plus those in flight past their timeout
    error_rate: float
    p50_ms: float | None
    p99_ms: float | None
    offered: int  # arrivals that reported in the window (sent or not)
    achieved: int  # of those, sent on time
    expected: float  # arrivals the schedule offers in the window

    def journal_fields(self) -> dict[str, object]:
        return {"healthy": self.healthy, "requests": self.requests, "failures": self.failures,
                "error_rate": round(self.error_rate, 4), "p99_ms": self.p99_ms, "offered": self.offered,
                "achieved": self.achieved, "expected": round(self.expected, 1), "reasons": list(self.reasons)}


def judge_steady_state(stats: WindowStats, overdue: int, offered: int, achieved: int, expected: float, *,
                       max_error_rate: float, max_p99_ms: float) -> SteadyState:
    requests, failures = stats.requests + overdue, stats.failures + overdue
    error_rate = failures / requests if requests else 0.0
    reasons = []
    if requests == 0:
        reasons.append("no request after the load's ramp")
    if error_rate > max_error_rate:
        stuck = f", {overdue} of them still in flight past their timeout" if overdue else ""
        reasons.append(f"{failures} of {requests} requests failed{stuck} ({error_rate:.1%}, "
                       f"the limit is {max_error_rate:.1%})")
    if stats.p99_ms is not None and stats.p99_ms > max_p99_ms:
        reasons.append(f"p99 latency {stats.p99_ms:.0f} ms (the limit is {max_p99_ms:g} ms)")
    if offered and achieved < MIN_ACHIEVED_SHARE * offered:
        reasons.append(f"the load generator sent {achieved} of {offered} offered arrivals on time "
                       f"(it fell behind: the measurement would not be honest)")
    if offered < expected - POISSON_SIGMAS * math.sqrt(expected) - 1:
        reasons.append(f"{offered} arrivals reported where the schedule offers {expected:.0f}")
    return SteadyState(not reasons, tuple(reasons), requests, failures, error_rate, stats.p50_ms, stats.p99_ms, offered,
                       achieved, expected)
