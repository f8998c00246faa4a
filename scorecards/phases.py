"""Phase timings (fault -> alert, ack, declare, first update, restoration, resolution) and
the longest silence between status updates.

Every timing is anchored to the first `fault.injected`; an event counts for a phase only
if it comes after the fault, so an alert or an ack during the baseline is not a fast
response (such events are reported by a finding instead of being silently dropped).

A run the harness did not finish (no `run.finished`) says nothing about what the team did
after its journal ends: a phase missing from it is "not reached", neither passed nor
failed, unless its target had already run out while the harness was still recording.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final

from harness.timeline import Event
from scorecards.journalview import RunView, event_time, restoration_time, round_s
from scorecards.model import (
    PHASE_DONE,
    PHASE_NEVER,
    PHASE_NO_FAULT,
    PHASE_NOT_REACHED,
    PHASE_OVERDUE,
    PhaseTiming,
    UpdateCadence,
)
from scorecards.policy import policy_for
from scorecards.span import IncidentSpan


@dataclass(frozen=True)
class PhaseRule:
    """A phase ends at the first `kind` event after the fault, timed by `when`."""

    phase: str
    kind: str
    target_key: str  # the key in run.planned's targets
    when: Callable[[Event], float] = event_time


# The order is the scorecard's table order; a new phase is a new row here.
PHASE_RULES: Final = (
    PhaseRule("detect", "alert.fired", "detect_s"),
    PhaseRule("acknowledge", "team.ack", "ack_s"),
    PhaseRule("declare", "team.declare", "declare_s"),
    PhaseRule("first_update", "team.update", "first_update_s"),
    PhaseRule("mitigate", "restoration.detected", "mitigate_s", when=restoration_time),  # the one that held
    PhaseRule("resolve", "team.resolve", "resolve_s"),
)
CADENCE_TARGET_KEY: Final = "update_every_s"


def judge(value: float | None, target: float | None) -> bool | None:
    if target is None:
        return None
    return value is not None and value <= target


MITIGATE: Final = "mitigate"


def time_phases(run: RunView, span: IncidentSpan | None) -> tuple[PhaseTiming, ...]:
    return tuple(_time_phase(rule, run, span) for rule in PHASE_RULES)


def _time_phase(rule: PhaseRule, run: RunView, span: IncidentSpan | None) -> PhaseTiming:
    target = run.targets.get(rule.target_key)
    if run.fault is None:
        return PhaseTiming(rule.phase, None, target, None, (), PHASE_NO_FAULT)
    if rule.phase == MITIGATE and span is not None:
        return _mitigation(rule, run, span, target)
    event = run.first_after_fault(rule.kind, rule.when)
    if event is not None:
        seconds = round_s(rule.when(event) - run.fault.t_s)
        return PhaseTiming(rule.phase, seconds, target, judge(seconds, target), (run.fault.seq, event.seq),
                           PHASE_DONE)
    if run.complete:
        return PhaseTiming(rule.phase, None, target, judge(None, target), (run.fault.seq,), PHASE_NEVER)
    stopped = (run.fault.seq, run.events[-1].seq)  # the fault and the journal's last line
    if run.stopped_before(None if target is None else run.fault.t_s + target):
        return PhaseTiming(rule.phase, None, target, None, stopped, PHASE_NOT_REACHED)
    return PhaseTiming(rule.phase, None, target, False, stopped, PHASE_OVERDUE)


def _mitigation(rule: PhaseRule, run: RunView, span: IncidentSpan, target: float | None) -> PhaseTiming:
    """The final sustained restoration; a restoration that relapsed is only "masked at t"."""
    assert run.fault is not None
    masked = tuple(round_s(t - run.fault.t_s) for t in span.masked_t_s)
    if span.restored_for_good_t_s is not None:
        seconds = round_s(span.restored_for_good_t_s - run.fault.t_s)
        ending = span.final_restoration or span.restoration
        evidence = (run.fault.seq, *((ending.seq,) if ending is not None else ()))
        return PhaseTiming(rule.phase, seconds, target, judge(seconds, target), evidence, PHASE_DONE, masked)
    stopped = (run.fault.seq, run.events[-1].seq)
    if run.complete:
        return PhaseTiming(rule.phase, None, target, judge(None, target), stopped, PHASE_NEVER, masked)
    if run.stopped_before(None if target is None else run.fault.t_s + target):
        return PhaseTiming(rule.phase, None, target, None, stopped, PHASE_NOT_REACHED, masked)
    return PhaseTiming(rule.phase, None, target, False, stopped, PHASE_OVERDUE, masked)


def cadence_target(run: RunView, severity: int | None) -> tuple[float | None, str | None]:
    """The drill's update_every_s, else the severity policy's interval, else none."""
    if CADENCE_TARGET_KEY in run.targets:
        return run.targets[CADENCE_TARGET_KEY], "drill"
    if severity is None:
        return None, None
    return policy_for(severity, run.time_compression).update_every_s, f"SEV{severity} policy"


def update_cadence(run: RunView, severity: int | None) -> UpdateCadence:
    """Gaps between declare/updates, closed by the resolution or, if never resolved, the journal's end."""
    target, source = cadence_target(run, severity)
    declared = run.first_after_fault("team.declare")
    resolved = run.first_after_fault("team.resolve")
    if run.fault is None:
        return UpdateCadence(None, target, source, None, 0, ())
    updates = [e for e in run.after_fault("team.update") if resolved is None or e.seq < resolved.seq]
    marks = sorted([*updates, *([declared] if declared is not None else [])], key=lambda e: e.seq)
    if resolved is not None:
        marks = [e for e in marks if e.seq < resolved.seq]  # a declaration after the resolution opens nothing
    if not marks:
        not_reached = run.stopped_before(None if target is None else run.fault.t_s + target)
        return UpdateCadence(None, target, source, None if not_reached else judge(None, target), 0, ())
    closing = resolved or run.events[-1]  # unresolved: the silence lasted to the end of the journal
    points = marks if closing is marks[-1] else [*marks, closing]
    if len(points) < 2:  # the journal ends on the only update: no gap measured yet
        return UpdateCadence(0.0, target, source, judge(0.0, target), len(updates), (marks[0].seq,))
    gaps = [(round_s(b.t_s - a.t_s), a, b) for a, b in itertools.pairwise(points)]
    longest_gap_s, start, end = max(gaps, key=lambda gap: gap[0])
    return UpdateCadence(longest_gap_s, target, source, judge(longest_gap_s, target), len(updates),
                         (start.seq, end.seq))
