"""Pure SLO arithmetic over request samples: window stats, percentiles, restoration search."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

CLEAN_LEAD_IN_S = 1.0  # a restoration window starts with this long of nothing but successes
ON_TIME_S = 0.5  # an arrival the generator started later than this was not achieved (it fell behind)


@dataclass(frozen=True)
class Sample:
    """One arrival as the monitor sees it; `t_s` is its intended start, in drill seconds, and
    `latency_ms` runs from there (the customer's wait, generator lag included)."""

    t_s: float
    latency_ms: float
    ok: bool
    node: str | None
    sent: bool = True  # False: the generator could not send it (no verdict on the stack)
    lag_s: float = 0.0  # actual start - intended start

    @property
    def on_time(self) -> bool:
        """Achieved: sent, and started within ON_TIME_S of its intended start."""
        return self.sent and self.lag_s <= ON_TIME_S


@dataclass(frozen=True)
class WindowStats:
    requests: int
    failures: int
    p50_ms: float | None
    p99_ms: float | None

    @property
    def error_rate(self) -> float:
        return self.failures / self.requests if self.requests else 0.0


def percentile(sorted_values: Sequence[float], q: float) -> float | None:
    """Nearest-rank percentile of already sorted values (None when empty)."""
    if not sorted_values:
        return None
    rank = max(1, math.ceil(q / 100 * len(sorted_values)))
    return sorted_values[rank - 1]


def window_stats(samples: Sequence[Sample]) -> WindowStats:
    latencies = sorted(s.latency_ms for s in samples)
    return WindowStats(
        requests=len(samples),
        failures=sum(1 for s in samples if not s.ok),
        p50_ms=percentile(latencies, 50),
        p99_ms=percentile(latencies, 99),
    )


def is_healthy(stats: WindowStats, max_error_rate: float, max_p99_ms: float) -> bool:
    return stats.error_rate <= max_error_rate and (stats.p99_ms is None or stats.p99_ms <= max_p99_ms)


@dataclass(frozen=True)
class Restoration:
    window_start_t_s: float
    stats: WindowStats


def find_restoration(samples: Sequence[Sample], *, after_t_s: float, known_until_t_s: float,
                     window_s: float, max_error_rate: float, max_p99_ms: float,
                     min_requests: int = 5) -> tuple[Restoration | None, float]:
    """The first healthy window that starts, at a successful request, after `after_t_s`.

    `samples` are sorted by start time. Only windows that end before `known_until_t_s` (every
    request that started inside them has finished) are judged, so an answer never changes
    later. Returns (restoration or None, a new `after_t_s` for the next call: candidates up to
    it were judged unhealthy and stay so).
    """
    first = _bisect_right([s.t_s for s in samples], after_t_s)
    rejected_until = after_t_s
    end = first
    for index in range(first, len(samples)):
        candidate = samples[index]
        if candidate.t_s + window_s > known_until_t_s:
            break
        if candidate.ok and candidate.latency_ms <= max_p99_ms:
            end = max(end, index)
            while end < len(samples) and samples[end].t_s <= candidate.t_s + window_s:
                end += 1
            window = samples[index:end]
            stats = window_stats(window)
            # The window may hold a few failures (max_error_rate), but not at its very start:
            # service is back from a request that begins a clean run (no failure, none too
            # slow), not from one that happened to succeed in between the last failures.
            lead_in_s = min(CLEAN_LEAD_IN_S, window_s / 2)
            clean_start = all(s.ok and s.latency_ms <= max_p99_ms for s in window
                              if s.t_s < candidate.t_s + lead_in_s)
            if clean_start and stats.requests >= min_requests and is_healthy(stats, max_error_rate, max_p99_ms):
                return Restoration(candidate.t_s, stats), rejected_until
        rejected_until = candidate.t_s
    return None, rejected_until


def _bisect_right(values: Sequence[float], x: float) -> int:
    low, high = 0, len(values)
    while low < high:
        mid = (low + high) // 2
        if x < values[mid]:
            high = mid
        else:
            low = mid + 1
    return low
