"""Findings about the run itself and the response timings: one per phase, plus notes.

Notes (`passed` None, category "run") explain what the scorecard could not judge: no plan,
an unfinished or aborted run, no fault, events that came before the fault. A phase an
unfinished run had not reached is a note too, not a miss (`PhaseTiming.status`).
"""

from __future__ import annotations

from typing import Final

from scorecards.grade import FAILED_SCALE
from scorecards.journalview import RunView, secs
from scorecards.model import PHASE_NOT_REACHED, PHASE_OVERDUE, Finding, PhaseTiming
from scorecards.phases import PHASE_RULES
from scorecards.span import IncidentSpan

CATEGORY: Final = "response"
RUN: Final = "run"

PHASE_WORDS: Final = {  # phase -> (what it is, the verb for its target)
    "detect": ("the first alert", "alert"),
    "acknowledge": ("the acknowledgement", "acknowledge"),
    "declare": ("the declaration", "declare"),
    "first_update": ("the first status update", "post a status update"),
    "mitigate": ("the restoration of service", "restore service"),
    "resolve": ("the resolution", "resolve"),
}


def phase_findings(run: RunView, phases: tuple[PhaseTiming, ...]) -> list[Finding]:
    if run.fault is None:
        return []
    return [_phase_finding(run, timing) for timing in phases]


def _phase_finding(run: RunView, timing: PhaseTiming) -> Finding:
    what, verb = PHASE_WORDS.get(timing.phase, (timing.phase, timing.phase))
    target = None if timing.target_s is None else f"{verb} within {timing.target_s:g} s of the fault"
    stopped = run.at(run.end_t_s)
    if timing.seconds_from_fault is not None:
        happened = f"{what} at fault + {secs(timing.seconds_from_fault)}"
    elif timing.status == PHASE_OVERDUE:
        happened = f"{what}: not by {stopped}, when the harness stopped, although it was due by then"
    elif timing.status == PHASE_NOT_REACHED:
        due = "" if timing.target_s is None else ", before it was due"
        happened = f"{what}: not reached (harness stopped at {stopped}{due})"
    else:
        happened = f"{what}: never (the journal ends at {stopped})"
    if timing.masked_s:
        masked = ", ".join(f"fault + {secs(t)}" for t in timing.masked_s)
        happened += f"; masked at {masked} (restored, then relapsed: not counted as the mitigation)"
    return Finding(CATEGORY, timing.phase, happened, target, timing.passed, timing.evidence)


def run_notes(run: RunView) -> list[Finding]:
    found = [_plan_note(run), _run_note(run)]
    if run.fault is None:
        ended = tuple(e.seq for e in run.of_kind("run.aborted", "run.finished"))
        found.append(Finding(RUN, "fault", "no fault was injected (the run ended before injection): nothing to time",
                             None, None, ended))
    else:
        found.append(_before_fault_note(run))
    return [f for f in found if f is not None]


def _plan_note(run: RunView) -> Finding | None:
    if run.first("run.planned") is not None:
        return None
    return Finding(RUN, "plan", "the journal has no run.planned: no targets, drill, scenario or ground truth "
                   "to score against", None, None, ())


def _run_note(run: RunView) -> Finding | None:
    finished, aborted = run.first("run.finished"), run.first("run.aborted")
    if aborted is not None:
        reason = aborted.data.get("reason", "no reason given")
        tail = "" if finished is not None else "; it never finished (no run.finished)"
        withheld = "" if finished is not None else "; the grade is withheld"
        return Finding(RUN, "aborted", f"the drill was aborted ({reason}){tail}: phases after "
                       f"{run.at(aborted.t_s)} are missing, not slow{withheld}", None, None, (aborted.seq,))
    if finished is not None:
        return None
    last = (run.events[-1].seq,) if run.events else ()
    return Finding(RUN, "unfinished", f"the run never finished (no run.finished; the harness stopped at "
                   f"{run.at(run.end_t_s)}): phases it had not reached are not reached, not missed, and the "
                   "grade is withheld", None, None, last)


def _before_fault_note(run: RunView) -> Finding | None:
    assert run.fault is not None
    kinds = {rule.kind for rule in PHASE_RULES}
    early = [e for e in run.events if e.kind in kinds and e.seq < run.fault.seq]
    if not early:
        return None
    listed = ", ".join(f"{e.kind} (seq {e.seq})" for e in early)
    return Finding(RUN, "before_fault", f"not counted, they came before the fault: {listed}", None, None,
                   tuple(e.seq for e in early))


def cannot_pass(run: RunView, span: IncidentSpan | None) -> str | None:
    """Why this drill grades F whatever else went well: aborted, or service never restored for good."""
    if run.fault is None or not run.complete:
        return None  # nothing to grade, or an incomplete run (its grade is withheld instead)
    aborted = run.first("run.aborted")
    if aborted is not None:
        return f"the drill was aborted ({aborted.data.get('reason', 'no reason given')})"
    if span is None or span.restored_for_good_t_s is None:
        relapsed = " (it was restored, then relapsed)" if span is not None and span.masked_t_s else ""
        return f"service was never restored for good before the drill ended{relapsed}"
    return None


def outcome_finding(run: RunView, span: IncidentSpan | None) -> Finding | None:
    """A note (it scores nothing itself) that explains the F: every point lost has a finding."""
    why = cannot_pass(run, span)
    if why is None:
        return None
    ended = tuple(e.seq for e in run.of_kind("run.aborted", "run.finished"))
    return Finding(RUN, "outcome", f"{why}: a drill that does not restore service cannot pass, so the score is "
                   f"scaled into the F band (x {FAILED_SCALE:g}) and the grade is F", "restore service for good",
                   False, ended)
