"""Compute a scorecard from a run's journal alone (never from the runner's memory).

Every timing is anchored to the first `fault.injected`. An event counts for a phase only if
it comes after the fault in the journal, so an alert or an ack during the baseline is not a
fast response; such events are reported in a finding instead of being silently dropped.
"""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from harness.timeline import Event, read_journal
from scorecards.model import Finding, Impact, PhaseTiming, Scorecard, UpdateCadence

JOURNAL_NAME: Final = "journal.jsonl"
PEAK_WINDOW_S: Final = 10.0  # peak error rate over 10 s of traffic, so one unlucky request is not "100 %"
SLO_WINDOW_S: Final = 1.0  # an slo.window summarises [start_t_s, start_t_s + 1)
_DIGITS: Final = 6  # the journal's resolution (microseconds); hides float noise in differences


def _event_time(event: Event) -> float:
    return event.t_s


def _restoration_time(event: Event) -> float:
    # The restoration is the start of the healthy window, not the moment it was confirmed;
    # without that field the detection time is the honest (later) bound.
    return float(event.data.get("window_start_t_s", event.t_s))


@dataclass(frozen=True)
class PhaseRule:
    """A phase ends at the first `kind` event after the fault, timed by `when`."""

    phase: str
    kind: str
    target_key: str  # the key in run.planned's targets
    when: Callable[[Event], float] = _event_time


# The order is the scorecard's table order; a new phase is a new row here.
PHASE_RULES: Final = (
    PhaseRule("detect", "alert.fired", "detect_s"),
    PhaseRule("acknowledge", "team.ack", "ack_s"),
    PhaseRule("declare", "team.declare", "declare_s"),
    PhaseRule("first_update", "team.update", "first_update_s"),
    PhaseRule("mitigate", "restoration.detected", "mitigate_s", when=_restoration_time),
    PhaseRule("resolve", "team.resolve", "resolve_s"),
)
CADENCE_TARGET_KEY: Final = "update_every_s"


@dataclass(frozen=True)
class _Run:
    """The journal, indexed once: the plan, the targets and the fault every rule needs."""

    events: tuple[Event, ...]
    plan: Mapping[str, Any]
    targets: Mapping[str, float]
    fault: Event | None

    @classmethod
    def of(cls, events: Sequence[Event]) -> _Run:
        ordered = tuple(sorted(events, key=lambda e: e.seq))
        planned = next((e for e in ordered if e.kind == "run.planned"), None)
        plan: Mapping[str, Any] = planned.data if planned is not None else {}
        fault = next((e for e in ordered if e.kind == "fault.injected"), None)
        return cls(ordered, plan, _targets(plan.get("targets")), fault)

    def first(self, kind: str) -> Event | None:
        return next((e for e in self.events if e.kind == kind), None)

    def after_fault(self, kind: str, when: Callable[[Event], float] = _event_time) -> list[Event]:
        if self.fault is None:
            return []
        fault = self.fault
        return [e for e in self.events if e.kind == kind and e.seq > fault.seq and when(e) >= fault.t_s]


def _targets(raw: Any) -> dict[str, float]:
    """run.planned's targets: key -> seconds; unset (null) targets are absent."""
    if not isinstance(raw, Mapping):
        return {}
    return {str(key): float(value) for key, value in raw.items()
            if isinstance(value, int | float) and not isinstance(value, bool)}


def build_scorecard(events: Sequence[Event]) -> Scorecard:
    run = _Run.of(events)
    timed = [_time_phase(rule, run) for rule in PHASE_RULES]
    phases = tuple(timing for timing, _ in timed)
    ended_by = {timing.phase: event for timing, event in timed}
    cadence = _cadence(run, ended_by["declare"], ended_by["resolve"])
    impact = _impact(run, ended_by["mitigate"])
    findings = _findings(run, phases, cadence, impact)
    finished, aborted = run.first("run.finished"), run.first("run.aborted")
    if finished is not None:
        outcome = str(finished.data.get("outcome", "finished"))
    else:
        outcome = "aborted" if aborted is not None else "unfinished"
    return Scorecard(run_id=str(run.plan.get("run_id", "")), drill=_name(run.plan.get("drill")),
                     scenario=_name(run.plan.get("scenario")),
                     fault_t_s=run.fault.t_s if run.fault is not None else None, phases=phases, cadence=cadence,
                     impact=impact, findings=findings, complete=finished is not None, outcome=outcome)


def build_from_run_dir(run_dir: Path) -> Scorecard:
    card = build_scorecard(read_journal(run_dir / JOURNAL_NAME))
    if not card.run_id:  # a run that died before run.planned is still named by its directory
        card = dataclasses.replace(card, run_id=run_dir.name)
    return card


def _time_phase(rule: PhaseRule, run: _Run) -> tuple[PhaseTiming, Event | None]:
    target = run.targets.get(rule.target_key)
    if run.fault is None:
        return PhaseTiming(rule.phase, None, target, None, ()), None
    event = next(iter(run.after_fault(rule.kind, rule.when)), None)
    if event is None:
        return PhaseTiming(rule.phase, None, target, _judge(None, target), (run.fault.seq,)), None
    seconds = _round(rule.when(event) - run.fault.t_s)
    return PhaseTiming(rule.phase, seconds, target, _judge(seconds, target), (run.fault.seq, event.seq)), event


def _judge(value: float | None, target: float | None) -> bool | None:
    if target is None:
        return None
    return value is not None and value <= target


def _cadence(run: _Run, declared: Event | None, resolved: Event | None) -> UpdateCadence:
    """Gaps between declare/updates, closed by the resolution or, if never resolved, the journal's end."""
    target = run.targets.get(CADENCE_TARGET_KEY)
    if run.fault is None:
        return UpdateCadence(None, target, None, 0, ())
    updates = [e for e in run.after_fault("team.update") if resolved is None or e.seq < resolved.seq]
    marks = sorted([*updates, *([declared] if declared is not None and declared is not resolved else [])],
                   key=lambda e: e.seq)
    if resolved is not None:
        marks = [e for e in marks if e.seq < resolved.seq]  # a declaration after the resolution opens nothing
    if not marks:
        return UpdateCadence(None, target, _judge(None, target), 0, ())
    closing = resolved or run.events[-1]  # unresolved: the silence lasted to the end of the journal
    points = marks if closing is marks[-1] else [*marks, closing]
    if len(points) < 2:  # the journal ends on the only update: no gap measured yet
        return UpdateCadence(0.0, target, _judge(0.0, target), len(updates), (marks[0].seq,))
    gaps = [(_round(b.t_s - a.t_s), a, b) for a, b in itertools.pairwise(points)]
    longest_gap_s, start, end = max(gaps, key=lambda gap: gap[0])
    return UpdateCadence(longest_gap_s, target, _judge(longest_gap_s, target), len(updates), (start.seq, end.seq))


def _impact(run: _Run, restoration: Event | None) -> Impact:
    if run.fault is None:
        return Impact(None, None, False, 0, 0, 0, None, PEAK_WINDOW_S, None, ())
    start_t_s = run.fault.t_s
    end_t_s = _restoration_time(restoration) if restoration is not None else None
    # A window counts when it overlaps [fault, restoration): the second the fault lands in is
    # mostly incident traffic, and a healthy baseline adds next to no failures to it.
    windows = sorted((e for e in run.events if e.kind == "slo.window"
                      and float(e.data["start_t_s"]) + SLO_WINDOW_S > start_t_s
                      and (end_t_s is None or float(e.data["start_t_s"]) < end_t_s)),
                     key=lambda e: float(e.data["start_t_s"]))
    total = sum(int(e.data["requests"]) for e in windows)
    failed = sum(int(e.data["failures"]) for e in windows)
    peak_rate, peak_seq = _peak_error_rate(windows)
    with_p99 = [e for e in windows if e.data.get("p99_ms") is not None]
    p99_event = max(with_p99, key=lambda e: float(e.data["p99_ms"]), default=None)
    evidence = [windows[0].seq, windows[-1].seq] if windows else []
    evidence += [seq for seq in (peak_seq, p99_event.seq if p99_event else None) if seq is not None]
    return Impact(start_t_s, end_t_s if end_t_s is not None else run.events[-1].t_s, restoration is not None,
                  len(windows), total, failed, peak_rate, PEAK_WINDOW_S,
                  float(p99_event.data["p99_ms"]) if p99_event is not None else None, tuple(sorted(set(evidence))))


def _peak_error_rate(windows: Sequence[Event]) -> tuple[float | None, int | None]:
    """The worst failed share over any PEAK_WINDOW_S of windows, and the seq of its last window."""
    peak: tuple[float | None, int | None] = (None, None)
    left, requests, failures = 0, 0, 0
    for window in windows:
        requests += int(window.data["requests"])
        failures += int(window.data["failures"])
        while float(windows[left].data["start_t_s"]) <= float(window.data["start_t_s"]) - PEAK_WINDOW_S:
            requests -= int(windows[left].data["requests"])
            failures -= int(windows[left].data["failures"])
            left += 1
        rate = failures / requests if requests else None
        if rate is not None and (peak[0] is None or rate > peak[0]):
            peak = (_round(rate), window.seq)
    return peak


def _findings(run: _Run, phases: tuple[PhaseTiming, ...], cadence: UpdateCadence,
              impact: Impact) -> tuple[Finding, ...]:
    by_phase = {p.phase: p for p in phases}
    found: list[Finding | None] = [_plan_finding(run), _run_finding(run)]
    if run.fault is None:
        ended = [e.seq for e in run.events if e.kind in ("run.aborted", "run.finished")]
        found.append(Finding("fault", "no fault was injected (the run ended before injection): nothing to time",
                             None, None, tuple(ended)))
    else:
        found += [_before_fault_finding(run, run.fault),
                  _missing_finding(by_phase["declare"], "declaration", "the incident was never declared",
                                   "declare"),
                  _cadence_finding(run, run.fault, cadence),
                  _missing_finding(by_phase["mitigate"], "restoration",
                                   f"no restoration was detected; impact is counted to the end of the journal "
                                   f"({_at(impact.end_t_s, run.fault.t_s)})", "restore service")]
    return tuple(f for f in found if f is not None)


def _plan_finding(run: _Run) -> Finding | None:
    if run.first("run.planned") is not None:
        return None
    return Finding("plan", "the journal has no run.planned: no targets, drill or scenario to score against",
                   None, None, ())


def _run_finding(run: _Run) -> Finding | None:
    if run.first("run.finished") is not None:
        return None
    aborted = run.first("run.aborted")
    why = f"the run was aborted ({aborted.data.get('reason', 'no reason given')}) and" if aborted else "the run"
    last = run.events[-1].seq if run.events else None
    evidence = (aborted.seq,) if aborted else ((last,) if last is not None else ())
    return Finding("run", f"{why} never finished (no run.finished): phases after the journal's last event "
                   "are missing, not slow", None, None, evidence)


def _before_fault_finding(run: _Run, fault: Event) -> Finding | None:
    kinds = {rule.kind for rule in PHASE_RULES}
    early = [e for e in run.events if e.kind in kinds and e.seq < fault.seq]
    if not early:
        return None
    listed = ", ".join(f"{e.kind} (seq {e.seq})" for e in early)
    return Finding("before_fault", f"not counted, they came before the fault: {listed}", None, None,
                   tuple(e.seq for e in early))


def _missing_finding(timing: PhaseTiming, name: str, what: str, verb: str) -> Finding | None:
    if timing.seconds_from_fault is not None:
        return None
    target = f"{verb} within {timing.target_s:g} s of the fault" if timing.target_s is not None else None
    return Finding(name, what, target, timing.passed, timing.evidence)


def _cadence_finding(run: _Run, fault: Event, cadence: UpdateCadence) -> Finding:
    target = f"an update at least every {cadence.target_s:g} s" if cadence.target_s is not None else None
    if cadence.longest_gap_s is None:
        return Finding("update_cadence", "no status update was posted and the incident was never declared",
                       target, cadence.passed, ())
    bounds = {e.seq: e for e in run.events if e.seq in cadence.evidence}
    start, end = bounds[cadence.evidence[0]], bounds[cadence.evidence[-1]]
    what = (f"{cadence.updates} update(s); longest silence {cadence.longest_gap_s:g} s, from {start.kind} "
            f"({_at(start.t_s, fault.t_s)}) to {_closing(end)} ({_at(end.t_s, fault.t_s)})")
    return Finding("update_cadence", what, target, cadence.passed, cadence.evidence)


def _closing(event: Event) -> str:
    return event.kind if event.kind in ("team.update", "team.resolve") else "the end of the journal"


def _at(t_s: float | None, fault_t_s: float) -> str:
    return "never" if t_s is None else f"fault + {_round(t_s - fault_t_s):g} s"


def _name(value: Any) -> str:
    """run.planned may name the drill/scenario directly or describe it as an object with a name."""
    if isinstance(value, Mapping):
        return str(value.get("name", ""))
    return "" if value is None else str(value)


def _round(seconds: float) -> float:
    return round(seconds, _DIGITS)
