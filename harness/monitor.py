"""The live SLO view of a drill: per-request samples in, alerts and restoration out.

Two clocks of a request matter. Alerts look at requests as they *finish* (what an on-call
dashboard sees); per-second windows and restoration look at requests by *start* time, and
only once every request that started in a window has finished (`settle_s` after it), so
a restoration time is exact to the request and never revised.

The load is open-loop, so a request's start is its *intended* start (the customer's
arrival); each second's window also counts the arrivals offered and those the generator
achieved on time, so a generator that fell behind shows up as such, not as a quiet stack.
Alerts leave out the load's ramp (`ignore_alerts_before`).
"""

from __future__ import annotations

import bisect
import math
import threading
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from harness.slo import Sample, WindowStats, find_restoration, is_healthy, window_stats
from harness.spec import AlertRule, HealthWindow
from harness.timeline import Journal

ALERT_WINDOW_S = 2.0  # the trailing window an alert's metric is computed over
RECENT_S = 10.0  # how long finished requests are kept for the live view
MAX_HOLD_S = 15.0  # a stalled generator's watermark holds the windows back at most this long


@dataclass
class _AlertState:
    rule: AlertRule
    node: str | None
    true_since: float | None = None
    firing: bool = False


@dataclass
class _Probe:
    ok: bool
    latency_ms: float
    t_s: float


@dataclass
class Monitor:
    journal: Journal
    alerts: tuple[AlertRule, ...]
    restoration: HealthWindow
    nodes: tuple[str, ...]
    settle_s: float = 3.0  # > the load's request timeout plus its record flush delay
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _pending: list[Sample] = field(default_factory=list)
    _settled: list[Sample] = field(default_factory=list)
    _finished: deque[tuple[float, Sample]] = field(default_factory=deque)  # (finish t_s, sample)
    _probes: dict[str, _Probe] = field(default_factory=dict)
    _alert_states: list[_AlertState] = field(default_factory=list)
    _next_second: int | None = None
    _armed_at: float | None = None
    _watch_from: float | None = None  # windows ending after this can open a breach
    _breach_at: float | None = None
    _search_after: float = 0.0
    _alerts_from: float = float("-inf")  # requests that started before (the load's ramp) never alert
    _arrivals: dict[int, list[int]] = field(default_factory=dict)  # second -> [offered, achieved] to emit
    _recent_arrivals: deque[tuple[float, bool]] = field(default_factory=deque)  # (t_s, achieved)
    _complete_before: float | None = None  # the generator's watermark, once it reports one
    restored_at: float | None = None
    totals: dict[str, int] = field(default_factory=lambda: {"requests": 0, "failures": 0})
    since_fault: dict[str, int] = field(default_factory=lambda: {"requests": 0, "failures": 0})

    def __post_init__(self) -> None:
        for rule in self.alerts:
            if rule.promql is not None:
                continue  # Prometheus evaluates it; Alertmanager's webhook journals it
            targets: tuple[str | None, ...] = self.nodes if rule.scope == "per_node" else (None,)
            self._alert_states += [_AlertState(rule, node) for node in targets]

    # ---- input ------------------------------------------------------------------------

    def feed(self, sample: Sample) -> None:
        with self._lock:
            counts = self._arrivals.setdefault(int(sample.t_s // 1), [0, 0])
            counts[0] += 1
            counts[1] += 1 if sample.on_time else 0
            self._recent_arrivals.append((sample.t_s, sample.on_time))
            if not sample.sent:  # offered, but no verdict on the stack: counted as missing load
                return
            self._pending.append(sample)
            self._finished.append((sample.t_s + sample.latency_ms / 1000, sample))
            self.totals["requests"] += 1
            self.totals["failures"] += 0 if sample.ok else 1
            if self._armed_at is not None and sample.t_s >= self._armed_at:
                self.since_fault["requests"] += 1
                self.since_fault["failures"] += 0 if sample.ok else 1

    def feed_probe(self, node: str, ok: bool, latency_ms: float, t_s: float) -> None:
        """Probes show each node's own health (an isolated node too); customer figures,
        breaches and restoration come from the load's requests only."""
        with self._lock:
            self._probes[node] = _Probe(ok, latency_ms, t_s)

    def count_only(self, sample: Sample) -> None:
        """Count a request in the totals and the error budget, with no window (its second is
        written already): a resumed harness's view of the requests its predecessor saw."""
        if not sample.sent:
            return
        with self._lock:
            self.totals["requests"] += 1
            self.totals["failures"] += 0 if sample.ok else 1
            if self._armed_at is not None and sample.t_s >= self._armed_at:
                self.since_fault["requests"] += 1
                self.since_fault["failures"] += 0 if sample.ok else 1

    def records_complete_before(self, t_s: float) -> None:
        """The load has delivered every arrival intended before `t_s`: a window may wait for
        that (a generator starved of CPU reports late) rather than only for `settle_s`."""
        with self._lock:
            self._complete_before = t_s

    def ignore_alerts_before(self, t_s: float) -> None:
        """Requests that start before `t_s` (the load's ramp) never make an alert fire."""
        with self._lock:
            self._alerts_from = t_s

    def arm_restoration(self, fault_t_s: float) -> None:
        """From now on, look for impact and then for the healthy window that ends it."""
        with self._lock:
            self._armed_at = self._watch_from = fault_t_s
            self._breach_at = None
            self.restored_at = None

    # ---- evaluation (called every ~100 ms by the runner) --------------------------------

    def tick(self, now_t_s: float) -> None:
        with self._lock:
            known_until = self._known_until(now_t_s)
            self._settle(known_until)
            self._evaluate_alerts(now_t_s)
            self._look_for_restoration(known_until)

    def flush(self, now_t_s: float) -> None:
        """The load has stopped and every record is in: write the windows up to `now_t_s`,
        its own (partial) second included."""
        through = math.floor(now_t_s) + 1.0
        with self._lock:
            self._settle(through)
            self._look_for_restoration(through)

    def _known_until(self, now_t_s: float) -> float:
        """Requests that started before this have all been fed: `settle_s` ago, and no later
        than the generator's watermark (held back at most MAX_HOLD_S)."""
        known_until = now_t_s - self.settle_s
        if self._complete_before is not None:
            known_until = max(min(known_until, self._complete_before), now_t_s - MAX_HOLD_S)
        return known_until

    def _settle(self, known_until: float) -> None:
        ready = sorted((s for s in self._pending if s.t_s <= known_until), key=lambda s: s.t_s)
        self._pending = [s for s in self._pending if s.t_s > known_until]
        if ready and self._settled and ready[0].t_s < self._settled[-1].t_s:  # later than MAX_HOLD_S
            for sample in ready:
                bisect.insort(self._settled, sample, key=lambda s: s.t_s)
        else:
            self._settled.extend(ready)
        if self._next_second is None and (self._settled or self._arrivals):
            firsts = [int(self._settled[0].t_s // 1)] if self._settled else []
            self._next_second = min(firsts + list(self._arrivals))
        while self._next_second is not None and self._next_second + 1 <= known_until:
            self._emit_second(self._next_second)
            self._next_second += 1
        next_second = self._next_second
        for stale in [second for second in self._arrivals if next_second is not None and second < next_second]:
            del self._arrivals[stale]  # arrived after their second was written: too late to count
        while self._recent_arrivals and self._recent_arrivals[0][0] < known_until - 30.0:
            self._recent_arrivals.popleft()
        keep_from = min(known_until - 30.0, self._search_after if self._breach_at is not None else known_until)
        cut = bisect.bisect_left(self._settled, keep_from, key=lambda s: s.t_s)
        del self._settled[:cut]

    def _emit_second(self, second: int) -> None:
        low = bisect.bisect_left(self._settled, float(second), key=lambda s: s.t_s)
        high = bisect.bisect_left(self._settled, float(second + 1), key=lambda s: s.t_s)
        window = self._settled[low:high]
        offered, achieved = self._arrivals.pop(second, (0, 0))
        if not window and not offered:
            return
        stats = window_stats(window)
        nodes: dict[str, list[int]] = {}
        for s in window:
            counts = nodes.setdefault(s.node or "?", [0, 0])
            counts[0] += 1
            counts[1] += 0 if s.ok else 1
        self.journal.append("slo.window", start_t_s=second, requests=stats.requests, failures=stats.failures,
                            p50_ms=_ms(stats.p50_ms), p99_ms=_ms(stats.p99_ms), nodes=nodes,
                            offered=offered, achieved=achieved)
        self._check_breach(second + 1.0)

    def _check_breach(self, window_end: float) -> None:
        """Impact (again) = a whole restoration window, ending now, that is not healthy.

        Judged over the same window length as restoration, so one stray failure is not an
        incident; a breach after a restoration is a relapse."""
        if self._watch_from is None or self._breach_at is not None or window_end <= self._watch_from:
            return
        limits = self.restoration
        low = bisect.bisect_left(self._settled, max(window_end - limits.window_s, self._watch_from),
                                 key=lambda s: s.t_s)
        high = bisect.bisect_left(self._settled, window_end, key=lambda s: s.t_s)
        stats = window_stats(self._settled[low:high])
        if stats.requests >= 5 and not is_healthy(stats, limits.max_error_rate, limits.max_p99_ms):
            self._breach_at = self._search_after = window_end
            self.journal.append("slo.breached", window_end_t_s=window_end, error_rate=round(stats.error_rate, 4),
                                p99_ms=_ms(stats.p99_ms), relapse=self.restored_at is not None)

    def _evaluate_alerts(self, now_t_s: float) -> None:
        while self._finished and self._finished[0][0] < now_t_s - RECENT_S:
            self._finished.popleft()
        recent = [s for finish, s in self._finished
                  if now_t_s - ALERT_WINDOW_S <= finish <= now_t_s and s.t_s >= self._alerts_from]
        for state in self._alert_states:
            samples = [s for s in recent if state.node is None or s.node == state.node]
            assert state.rule.metric is not None and state.rule.threshold is not None  # not a promql rule
            value = _metric(state.rule.metric, window_stats(samples))
            holds = value is not None and (value > state.rule.threshold if state.rule.op == ">"
                                           else value < state.rule.threshold)
            if holds:
                state.true_since = now_t_s if state.true_since is None else state.true_since
                if not state.firing and now_t_s - state.true_since >= state.rule.for_s:
                    state.firing = True
                    self.journal.append("alert.fired", name=state.rule.name, metric=state.rule.metric,
                                        value=round(value or 0.0, 4), threshold=state.rule.threshold,
                                        op=state.rule.op, for_s=state.rule.for_s, node=state.node)
            else:
                state.true_since = None
                if state.firing:
                    state.firing = False
                    self.journal.append("alert.cleared", name=state.rule.name, node=state.node)

    def _look_for_restoration(self, known_until: float) -> None:
        if self._breach_at is None:
            return
        limits = self.restoration
        found, self._search_after = find_restoration(
            self._settled, after_t_s=self._search_after, known_until_t_s=known_until,
            window_s=limits.window_s, max_error_rate=limits.max_error_rate, max_p99_ms=limits.max_p99_ms)
        if found is not None:
            self.restored_at = found.window_start_t_s
            self._breach_at = None  # watch for a relapse after the healthy window
            self._watch_from = found.window_start_t_s + limits.window_s
            self.journal.append("restoration.detected", window_start_t_s=round(found.window_start_t_s, 6),
                                window_s=limits.window_s, requests=found.stats.requests,
                                error_rate=round(found.stats.error_rate, 4), p99_ms=_ms(found.stats.p99_ms),
                                breach_t_s=self._breach_at)

    # ---- output -----------------------------------------------------------------------

    def firing(self) -> list[str]:
        with self._lock:
            return [s.rule.name + (f"@{s.node}" if s.node else "") for s in self._alert_states if s.firing]

    def error_budget_burn(self) -> float:
        """Failed share of the requests that started since the fault."""
        with self._lock:
            total = self.since_fault["requests"]
            return self.since_fault["failures"] / total if total else 0.0

    def recent(self, now_t_s: float, window_s: float, started_after_t_s: float = 0.0) -> WindowStats:
        """Stats of the requests that finished in the last `window_s` (at most RECENT_S), leaving
        out those that started before `started_after_t_s`."""
        with self._lock:
            return window_stats([s for finish, s in self._finished
                                 if finish >= now_t_s - min(window_s, RECENT_S) and s.t_s >= started_after_t_s])

    def arrivals(self, from_t_s: float, to_t_s: float) -> tuple[int, int]:
        """(offered, achieved) arrivals intended in [from, to), as far as they have reported."""
        with self._lock:
            inside = [on_time for t_s, on_time in self._recent_arrivals if from_t_s <= t_s < to_t_s]
            return len(inside), sum(inside)

    def started_between(self, from_t_s: float, to_t_s: float) -> WindowStats:
        """Stats of the sent requests intended in [from, to) that have reported (the last RECENT_S)."""
        with self._lock:
            return window_stats([s for _, s in self._finished if from_t_s <= s.t_s < to_t_s])

    def snapshot(self, now_t_s: float, window_s: float = 5.0) -> dict[str, Any]:
        """The SLO now, overall and per node, over requests that finished in the last `window_s`."""
        with self._lock:
            recent = [s for finish, s in self._finished if finish >= now_t_s - min(window_s, RECENT_S)]
            overall = window_stats(recent)
            per_node = {}
            for node in self.nodes:
                stats = window_stats([s for s in recent if s.node == node])
                probe = self._probes.get(node)
                per_node[node] = {**_view(stats), "probe_ok": probe.ok if probe else None,
                                  "probe_ms": _ms(probe.latency_ms) if probe else None}
            # Over arrivals old enough that all of them have reported, even those that timed out.
            settled = self._known_until(now_t_s)
            offered = [on_time for t_s, on_time in self._recent_arrivals if settled - window_s <= t_s < settled]
            rates = {"offered_per_s": round(len(offered) / window_s, 2),
                     "achieved_per_s": round(sum(offered) / window_s, 2), "window_s": window_s}
            return {"t_s": round(now_t_s, 3), "overall": _view(overall), "nodes": per_node, "load": rates,
                    "alerts_firing": [s.rule.name + (f"@{s.node}" if s.node else "")
                                      for s in self._alert_states if s.firing],
                    "restored_at_t_s": self.restored_at, "totals": dict(self.totals)}


def _metric(metric: str, stats: WindowStats) -> float | None:
    if stats.requests == 0:
        return None
    values = {"error_rate": stats.error_rate, "p99_ms": stats.p99_ms, "p50_ms": stats.p50_ms,
              "failed_requests": float(stats.failures)}
    return values[metric]


def _ms(value: float | None) -> float | None:
    return None if value is None else round(value, 2)


def _view(stats: WindowStats) -> dict[str, Any]:
    return {"requests": stats.requests, "failures": stats.failures, "error_rate": round(stats.error_rate, 4),
            "p50_ms": _ms(stats.p50_ms), "p99_ms": _ms(stats.p99_ms)}
