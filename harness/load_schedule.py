"""When customers arrive: an open-loop arrival schedule with a linear ramp.

Open loop means the schedule is fixed in advance, from the load's origin, and never waits
for a response: a hung stack cannot slow the arrivals down (no coordinated omission). The
rate climbs linearly from 0 to `rate_per_s` over `ramp_s`, then holds.

Both processes are drawn by time rescaling: arrival k is where the cumulative intensity
Lambda(t) = integral of the rate reaches level k (constant: levels 0.5, 1.5, 2.5...;
Poisson: levels spaced by unit exponentials). So one inverse serves both, ramp included.

Stdlib only: the locustfile imports it inside the gevent-patched Locust process.
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Literal

Arrivals = Literal["constant", "poisson"]
ARRIVALS: tuple[Arrivals, ...] = ("constant", "poisson")


@dataclass(frozen=True)
class ArrivalSchedule:
    rate_per_s: float
    ramp_s: float = 0.0
    arrivals: Arrivals = "constant"

    def __post_init__(self) -> None:
        if not self.rate_per_s > 0:
            raise ValueError(f"rate_per_s must be above 0, got {self.rate_per_s!r}")
        if not self.ramp_s >= 0:
            raise ValueError(f"ramp_s must be 0 or more, got {self.ramp_s!r}")
        if self.arrivals not in ARRIVALS:
            raise ValueError(f"arrivals must be one of {', '.join(ARRIVALS)}, got {self.arrivals!r}")

    def rate_at(self, t_s: float) -> float:
        """The offered rate `t_s` seconds after the origin."""
        if t_s < 0:
            return 0.0
        if t_s < self.ramp_s:
            return self.rate_per_s * t_s / self.ramp_s
        return self.rate_per_s

    def expected(self, start_s: float, end_s: float) -> float:
        """Arrivals the schedule offers on average in [start_s, end_s) (seconds after the origin)."""
        return max(0.0, self._level(end_s) - self._level(max(0.0, start_s)))

    def offsets(self, rng: random.Random) -> Iterator[float]:
        """Arrival times, seconds after the origin, increasing, without end."""
        # Constant: levels 0.5, 1.5, ...: each arrival mid-way in its share of the intensity,
        # so none falls on a second's boundary.
        level = 0.0 if self.arrivals == "poisson" else -0.5
        while True:
            level += rng.expovariate(1.0) if self.arrivals == "poisson" else 1.0
            yield self._time_at_level(level)

    def _level(self, t_s: float) -> float:
        if t_s <= 0:
            return 0.0
        if t_s < self.ramp_s:
            return self.rate_per_s * t_s * t_s / (2 * self.ramp_s)
        return self.rate_per_s * (t_s - self.ramp_s / 2)

    def _time_at_level(self, level: float) -> float:
        ramp_level = self.rate_per_s * self.ramp_s / 2
        if level < ramp_level:
            return math.sqrt(2 * self.ramp_s * level / self.rate_per_s)
        return level / self.rate_per_s + self.ramp_s / 2


def in_flight_limit(rate_per_s: float, timeout_s: float, floor: int | None = None) -> int:
    """How many requests may be in flight at once: every arrival of one timeout, with room
    for Poisson bursts, so a hung stack never stops new arrivals (bounded: see MAX_IN_FLIGHT)."""
    needed = math.ceil(rate_per_s * timeout_s * 1.5) + 20
    return min(MAX_IN_FLIGHT, max(needed, floor or 0))


MAX_IN_FLIGHT = 20_000
