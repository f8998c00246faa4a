"""Escalation: told someone outside the team in time once the business impact was clear.

Impact is clear at the end of the first second where the failed share over the last
PEAK_WINDOW_S reached ESCALATION_CLEAR_SHARE. The deadline is the drill's `escalate_s`
target, else the severity policy's for the measured severity (SEV3/4 expect none). An
incident over before the deadline needed no escalation and is not judged.
"""

from __future__ import annotations

from typing import Final

from harness.timeline import Event
from scorecards.journalview import SLO_WINDOW_S, RunView, round_s, secs, stretches
from scorecards.model import Finding, Severity, WindowPoint
from scorecards.policy import ESCALATION_CLEAR_SHARE, PEAK_WINDOW_S, policy_for
from scorecards.span import IncidentSpan

CATEGORY: Final = "escalation"
TARGET_KEY: Final = "escalate_s"


def escalation_finding(run: RunView, severity: Severity, span: IncidentSpan | None) -> Finding | None:
    if run.fault is None or span is None or severity.measured is None:
        return None
    clear = _impact_clear(run.windows_overlapping(span.start_t_s, span.end_t_s))
    escalated = run.first_after_fault("team.escalate")
    deadline_s: float | None
    if TARGET_KEY in run.targets:
        deadline_s, source = run.targets[TARGET_KEY], "drill"
    else:
        deadline_s = policy_for(severity.measured, run.time_compression).escalate_s
        source = f"SEV{severity.measured} policy"
    if deadline_s is None or clear is None:
        why = (f"impact measured SEV{severity.measured}: no escalation expected" if deadline_s is None
               else f"the failed share never reached {ESCALATION_CLEAR_SHARE * 100:g} %")
        return _note(run, why, escalated)
    clear_t_s = clear.start_t_s + SLO_WINDOW_S
    target = (f"escalate within {deadline_s:g} s of the impact becoming clear ({source}; "
              f"{ESCALATION_CLEAR_SHARE * 100:g} % failing over {PEAK_WINDOW_S:g} s)")
    opening = f"impact clear at {run.at(clear_t_s)}"
    if escalated is not None:
        delay_s = round_s(escalated.t_s - clear_t_s)
        return Finding(CATEGORY, "escalation", f"{opening}; escalated to {escalated.data.get('to', '?')} at "
                       f"{run.at(escalated.t_s)} ({secs(delay_s)} later)", target, delay_s <= deadline_s,
                       (clear.seq, escalated.seq))
    over_t_s = _over_t_s(run, span)
    if over_t_s <= clear_t_s + deadline_s:
        over = "the incident was over" if span.healthy_at_end or run.complete else "the harness stopped"
        return Finding(CATEGORY, "escalation", f"{opening}; {over} at {run.at(over_t_s)}, before "
                       "an escalation was due", target, None, (clear.seq,))
    return Finding(CATEGORY, "escalation", f"{opening}; never escalated (deadline {run.at(clear_t_s + deadline_s)})",
                   target, False, (clear.seq,))


def _impact_clear(windows: tuple[WindowPoint, ...]) -> WindowPoint | None:
    """The window where the failed share over PEAK_WINDOW_S first reaches ESCALATION_CLEAR_SHARE."""
    return next((s.last for s in stretches(windows, PEAK_WINDOW_S) if s.share >= ESCALATION_CLEAR_SHARE), None)


def _over_t_s(run: RunView, span: IncidentSpan) -> float:
    resolved = run.first_after_fault("team.resolve")
    ends = [span.end_t_s] + ([resolved.t_s] if resolved is not None else [])
    return min(ends) if span.healthy_at_end else run.end_t_s


def _note(run: RunView, why: str, escalated: Event | None) -> Finding:
    done = f"; escalated to {escalated.data.get('to', '?')} at {run.at(escalated.t_s)}" if escalated else ""
    return Finding(CATEGORY, "escalation", why + done, None, None, (escalated.seq,) if escalated else ())
