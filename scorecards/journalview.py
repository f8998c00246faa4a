"""A finished run's journal, indexed once for the scoring rules.

Every rule reads the run through this view: the plan (targets, ground truth, team), the
first fault, the team's events and the per-second SLO windows. Team events count only
after the fault (an ack during the baseline is not a fast response).
"""

from __future__ import annotations

import bisect
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from harness.timeline import Event
from scorecards.model import WindowPoint

SLO_WINDOW_S: Final = 1.0  # an slo.window summarises [start_t_s, start_t_s + 1)
_DIGITS: Final = 6  # the journal's resolution (microseconds); hides float noise in differences


def event_time(event: Event) -> float:
    return event.t_s


def restoration_time(event: Event) -> float:
    # The restoration is the start of the healthy window, not the moment it was confirmed;
    # without that field the detection time is the honest (later) bound.
    return float(event.data.get("window_start_t_s", event.t_s))


def round_s(seconds: float) -> float:
    return round(seconds, _DIGITS)


def secs(seconds: float) -> str:
    """Seconds for people: to the hundredth (the journal keeps microseconds for the evidence)."""
    return f"{round(seconds, 2):g} s"


@dataclass(frozen=True)
class RunView:
    events: tuple[Event, ...]
    plan: Mapping[str, Any]
    targets: Mapping[str, float]
    truth: Mapping[str, Any]
    fault: Event | None
    windows: tuple[WindowPoint, ...]  # sorted by start
    _window_starts: tuple[float, ...] = field(repr=False, compare=False, default=())

    @classmethod
    def of(cls, events: Sequence[Event]) -> RunView:
        ordered = tuple(sorted(events, key=lambda e: e.seq))
        planned = next((e for e in ordered if e.kind == "run.planned"), None)
        plan: Mapping[str, Any] = planned.data if planned is not None else {}
        truth = plan.get("truth")
        fault = next((e for e in ordered if e.kind == "fault.injected"), None)
        windows = tuple(sorted((_window(e) for e in ordered if e.kind == "slo.window"), key=lambda w: w.start_t_s))
        return cls(ordered, plan, _targets(plan.get("targets")), truth if isinstance(truth, Mapping) else {},
                   fault, windows, tuple(w.start_t_s for w in windows))

    @property
    def time_compression(self) -> float:
        """How many times faster than real the drill's schedule ran (1 for older journals)."""
        value = self.plan.get("time_compression", 1.0)
        return float(value) if isinstance(value, int | float) and value >= 1 else 1.0

    @property
    def max_duration_s(self) -> float | None:
        """The drill's time limit (journal seconds); None in journals from before it was planned."""
        value = self.plan.get("max_duration_s")
        return float(value) if isinstance(value, int | float) and value > 0 else None

    @property
    def complete(self) -> bool:
        """The harness finished the run (journaled run.finished); else it stopped part way."""
        return self.first("run.finished") is not None

    def stopped_before(self, due_t_s: float | None) -> bool:
        """The harness stopped (no run.finished) before `due_t_s`, or at all when there is no
        deadline: what had not happened by then was not reached, which is not a miss."""
        return not self.complete and (due_t_s is None or self.end_t_s <= due_t_s)

    def stopped_note(self) -> str:
        return f"before the harness stopped ({self.at(self.end_t_s)}): not reached"

    @property
    def end_t_s(self) -> float:
        return self.events[-1].t_s if self.events else 0.0

    def first(self, kind: str) -> Event | None:
        return next((e for e in self.events if e.kind == kind), None)

    def of_kind(self, *kinds: str) -> list[Event]:
        return [e for e in self.events if e.kind in kinds]

    def after_fault(self, kind: str, when: Callable[[Event], float] = event_time) -> list[Event]:
        if self.fault is None:
            return []
        fault = self.fault
        return [e for e in self.events if e.kind == kind and e.seq > fault.seq and when(e) >= fault.t_s]

    def first_after_fault(self, kind: str, when: Callable[[Event], float] = event_time) -> Event | None:
        return next(iter(self.after_fault(kind, when)), None)

    def since_fault(self, t_s: float) -> float | None:
        return None if self.fault is None or t_s < self.fault.t_s else round_s(t_s - self.fault.t_s)

    def at(self, t_s: float | None) -> str:
        """`fault + 12.5 s` for findings; `t = 3 s` before a fault."""
        if t_s is None:
            return "never"
        if self.fault is None:
            return f"t = {secs(t_s)}"
        offset = t_s - self.fault.t_s
        return f"fault + {secs(offset)}" if offset >= 0 else f"fault - {secs(-offset)}"

    def windows_overlapping(self, start_t_s: float, end_t_s: float | None) -> tuple[WindowPoint, ...]:
        """Windows whose second overlaps [start, end) (end None: to the last one)."""
        low = bisect.bisect_right(self._window_starts, start_t_s - SLO_WINDOW_S)
        high = len(self.windows) if end_t_s is None else bisect.bisect_left(self._window_starts, end_t_s)
        return self.windows[low:high]

    def windows_starting(self, start_t_s: float, end_t_s: float) -> tuple[WindowPoint, ...]:
        """Windows that start in [start, end)."""
        low = bisect.bisect_left(self._window_starts, start_t_s)
        high = bisect.bisect_left(self._window_starts, end_t_s)
        return self.windows[low:high]

    def nodes(self) -> tuple[str, ...]:
        listed = self.plan.get("nodes")
        if isinstance(listed, list) and listed:
            return tuple(str(node) for node in listed)
        return tuple(sorted({node for w in self.windows for node in w.nodes}))


def _window(event: Event) -> WindowPoint:
    data = event.data
    nodes = data.get("nodes") or {}
    return WindowPoint(event.seq, float(data["start_t_s"]), int(data["requests"]), int(data["failures"]),
                       _float_or_none(data.get("p50_ms")), _float_or_none(data.get("p99_ms")),
                       {str(node): (int(counts[0]), int(counts[1])) for node, counts in nodes.items()},
                       _int_or_none(data.get("offered")), _int_or_none(data.get("achieved")))


def _int_or_none(value: Any) -> int | None:
    return None if value is None else int(value)


def _float_or_none(value: Any) -> float | None:
    return None if value is None else float(value)


def _targets(raw: Any) -> dict[str, float]:
    """run.planned's targets: key -> seconds; unset (null) targets are absent."""
    if not isinstance(raw, Mapping):
        return {}
    return {str(key): float(value) for key, value in raw.items()
            if isinstance(value, int | float) and not isinstance(value, bool)}


def error_share(windows: Sequence[WindowPoint], node: str | None = None) -> float | None:
    """Failed share over the windows (one node's own counts when `node` is given)."""
    if node is None:
        requests = sum(w.requests for w in windows)
        failures = sum(w.failures for w in windows)
    else:
        requests = sum(w.nodes.get(node, (0, 0))[0] for w in windows)
        failures = sum(w.nodes.get(node, (0, 0))[1] for w in windows)
    return failures / requests if requests else None


def failing_nodes(windows: Sequence[WindowPoint], threshold: float) -> tuple[str, ...]:
    """Nodes whose failed share over the windows is above `threshold`."""
    names = sorted({node for w in windows for node in w.nodes})
    return tuple(node for node in names if (error_share(windows, node) or 0.0) > threshold)


@dataclass(frozen=True)
class Stretch:
    """The worst run of consecutive windows of a given length."""

    share: float
    first: WindowPoint
    last: WindowPoint

    @property
    def seconds(self) -> float:
        return round_s(self.last.start_t_s + SLO_WINDOW_S - self.first.start_t_s)


def stretches(windows: Sequence[WindowPoint], length_s: float) -> Iterator[Stretch]:
    """The failed share over the `length_s` of windows ending at each window, in order."""
    left, requests, failures = 0, 0, 0
    for window in windows:
        requests += window.requests
        failures += window.failures
        while windows[left].start_t_s <= window.start_t_s - length_s:
            requests -= windows[left].requests
            failures -= windows[left].failures
            left += 1
        if requests:
            yield Stretch(failures / requests, windows[left], window)


def worst_stretch(windows: Sequence[WindowPoint], length_s: float) -> Stretch | None:
    """The highest failed share over any `length_s` of windows (all of them when fewer); the
    earliest of equals."""
    worst: Stretch | None = None
    for stretch in stretches(windows, length_s):
        if worst is None or stretch.share > worst.share:
            worst = stretch
    return worst
