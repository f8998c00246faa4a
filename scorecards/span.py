"""How long the incident lasted: from the fault to the restoration that held.

If the error rate climbs back after a restoration (the symptom was masked, not fixed), the
incident is not over: that restoration is "masked at t" and the incident lasts until a
later restoration holds, or to the end of the journal when none did. The mitigation is the
final sustained restoration, never a masked one. The monitor journals a relapse as
`slo.breached` (relapse true) and each recovery as another `restoration.detected`; a journal
without them (an older monitor) is read from its windows: RELAPSE_MIN_WINDOWS failing
seconds in a row after the first restoration.
"""

from __future__ import annotations

from dataclasses import dataclass

from harness.timeline import Event
from scorecards.journalview import SLO_WINDOW_S, RunView, restoration_time
from scorecards.model import WindowPoint
from scorecards.policy import RELAPSE_MIN_WINDOWS, RELAPSE_SHARE


@dataclass(frozen=True)
class Relapse:
    start_t_s: float  # the first failing second
    end_t_s: float | None  # the end of the last failing second; None: still failing when the journal ends
    evidence: tuple[int, ...]  # the failing windows (first, last) and any alert that fired again


@dataclass(frozen=True)
class IncidentSpan:
    start_t_s: float
    restoration: Event | None  # the first restoration.detected after the fault
    relapse: Relapse | None  # the first relapse after it (None: the first restoration held)
    end_t_s: float  # where customer impact stops being counted
    restored_for_good_t_s: float | None  # the final sustained restoration (the mitigation); None: never
    masked_t_s: tuple[float, ...]  # restorations that relapsed, in order
    final_restoration: Event | None  # the restoration.detected that held, when the monitor journaled one

    @property
    def restored_t_s(self) -> float | None:
        return restoration_time(self.restoration) if self.restoration is not None else None

    @property
    def healthy_at_end(self) -> bool:
        return self.restored_for_good_t_s is not None


def incident_span(run: RunView) -> IncidentSpan | None:
    if run.fault is None:
        return None
    restorations = run.after_fault("restoration.detected", restoration_time)
    if not restorations:
        return IncidentSpan(run.fault.t_s, None, None, run.end_t_s, None, (), None)
    first = restorations[0]
    relapses = [e for e in run.of_kind("slo.breached") if e.seq > first.seq]
    if relapses:
        return _journaled_span(run, restorations, relapses)
    if run.of_kind("slo.breached"):  # the monitor watched for relapses and saw none
        restored = restoration_time(first)
        return IncidentSpan(run.fault.t_s, first, None, restored, restored, (), first)
    return _span_from_windows(run, first)


def _journaled_span(run: RunView, restorations: list[Event], relapses: list[Event]) -> IncidentSpan:
    """Restorations and relapses alternate; the last restoration with no relapse after it held."""
    assert run.fault is not None
    first = restorations[0]
    relapse = _journaled_relapse(run, first, relapses[0])
    held = [r for r in restorations if not any(b.seq > r.seq for b in relapses)]
    masked = tuple(restoration_time(r) for r in restorations if any(b.seq > r.seq for b in relapses))
    final = held[-1] if held else None
    restored = restoration_time(final) if final is not None else None
    end_t_s = restored if restored is not None else run.end_t_s
    return IncidentSpan(run.fault.t_s, first, relapse, end_t_s, restored, masked, final)


def _span_from_windows(run: RunView, first: Event) -> IncidentSpan:
    assert run.fault is not None
    restored = restoration_time(first)
    relapse = _relapse_in_windows(run, first, restored)
    if relapse is None:
        return IncidentSpan(run.fault.t_s, first, None, restored, restored, (), first)
    if relapse.end_t_s is None:  # a relapse that never calmed down lasts to the end of the journal
        return IncidentSpan(run.fault.t_s, first, relapse, run.end_t_s, None, (restored,), None)
    return IncidentSpan(run.fault.t_s, first, relapse, relapse.end_t_s, relapse.end_t_s, (restored,), None)


def _relapse_in_windows(run: RunView, restoration: Event, restored_t_s: float) -> Relapse | None:
    after = [w for w in run.windows if w.start_t_s >= restored_t_s]
    start = _first_failing_run(after)
    alerts = [e for e in run.of_kind("alert.fired") if e.seq > restoration.seq]
    if start is None and not alerts:
        return None
    if start is None:  # an alert fired again, but the windows never showed a sustained failure
        cleared = next((e for e in run.of_kind("alert.cleared") if e.seq > alerts[0].seq), None)
        return Relapse(alerts[0].t_s, cleared.t_s if cleared is not None else None,
                       tuple(e.seq for e in (alerts[0], cleared) if e is not None))
    failing = [w for w in after[start:] if _failing(w)]
    tail = after[-RELAPSE_MIN_WINDOWS:]
    calmed = len(tail) == RELAPSE_MIN_WINDOWS and not any(_failing(w) for w in tail)
    end_t_s = failing[-1].start_t_s + SLO_WINDOW_S if calmed else None
    evidence = sorted({after[start].seq, failing[-1].seq, *(e.seq for e in alerts[:1])})
    return Relapse(after[start].start_t_s, end_t_s, tuple(evidence))


def _journaled_relapse(run: RunView, restoration: Event, breach: Event) -> Relapse:
    # The breach is journaled at the end of the unhealthy window that shows it.
    window_s = float(restoration.data.get("window_s", 0.0))
    start_t_s = max(float(breach.data.get("window_end_t_s", breach.t_s)) - window_s, restoration_time(restoration))
    again = next((e for e in run.of_kind("restoration.detected") if e.seq > breach.seq), None)
    return Relapse(start_t_s, restoration_time(again) if again is not None else None,
                   tuple(e.seq for e in (breach, again) if e is not None))


def _first_failing_run(windows: list[WindowPoint]) -> int | None:
    """Index of the first of RELAPSE_MIN_WINDOWS consecutive failing windows."""
    streak = 0
    for index, window in enumerate(windows):
        streak = streak + 1 if _failing(window) else 0
        if streak == RELAPSE_MIN_WINDOWS:
            return index - RELAPSE_MIN_WINDOWS + 1
    return None


def _failing(window: WindowPoint) -> bool:
    rate = window.error_rate
    return rate is not None and rate > RELAPSE_SHARE
