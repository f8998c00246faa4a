"""Communication: the first update after declaring, the cadence, and what each update says.

Targets come from the severity policy (policy.SEVERITY_POLICY) for the declared severity,
except where the drill sets its own. An update is complete when it says the impact, the
current action and when the next update comes; the closing update (the last one before
the resolution) needs no next-update time.
"""

from __future__ import annotations

from typing import Final

from harness.timeline import Event
from scorecards.journalview import RunView, round_s, secs
from scorecards.model import Finding, UpdateCadence
from scorecards.phases import judge
from scorecards.policy import policy_for
from scorecards.rules_factcheck import factcheck_finding

CATEGORY: Final = "communication"
CONTENT_FIELDS: Final = (("impact", "impact"), ("action", "current action"), ("next_update_s", "next-update time"))


def communication_findings(run: RunView, cadence: UpdateCadence, severity: int | None) -> list[Finding]:
    if run.fault is None:
        return []
    updates = _open_updates(run)
    found = [_first_update_after_declare(run, severity), _cadence_finding(run, cadence),
             _content_finding(run, updates), _promises_finding(run, updates), factcheck_finding(run, updates),
             _before_declaration_note(run)]
    return [f for f in found if f is not None]


def _open_updates(run: RunView) -> list[Event]:
    """Updates after the fault, up to the resolution."""
    resolved = run.first_after_fault("team.resolve")
    return [e for e in run.after_fault("team.update") if resolved is None or e.seq < resolved.seq]


def _first_update_after_declare(run: RunView, severity: int | None) -> Finding | None:
    declared = run.first_after_fault("team.declare")
    if declared is None or severity is None:
        return None
    policy = policy_for(severity, run.time_compression)
    target = f"first status update within {policy.first_update_s:g} s of declaring (SEV{severity} policy)"
    first = next((e for e in run.of_kind("team.update") if e.seq > declared.seq), None)
    if first is None:
        not_reached = run.stopped_before(declared.t_s + policy.first_update_s)
        return Finding(CATEGORY, "first_update_after_declare", "no status update after the declaration "
                       f"({run.at(declared.t_s)})" + (f" {run.stopped_note()}" if not_reached else ""), target,
                       None if not_reached else False, (declared.seq,))
    gap_s = round_s(first.t_s - declared.t_s)
    return Finding(CATEGORY, "first_update_after_declare", f"first status update {secs(gap_s)} after declaring "
                   f"SEV{severity} ({run.at(first.t_s)})", target, judge(gap_s, policy.first_update_s),
                   (declared.seq, first.seq))


def _cadence_finding(run: RunView, cadence: UpdateCadence) -> Finding:
    source = f" ({cadence.target_source})" if cadence.target_source else ""
    target = f"an update at least every {cadence.target_s:g} s{source}" if cadence.target_s is not None else None
    if cadence.longest_gap_s is None:
        stopped = f" {run.stopped_note()}" if run.stopped_before(None) else ""
        return Finding(CATEGORY, "update_cadence", "no status update was posted and the incident was never "
                       f"declared{stopped}", target, cadence.passed, ())
    bounds = {e.seq: e for e in run.events if e.seq in cadence.evidence}
    start, end = bounds[cadence.evidence[0]], bounds[cadence.evidence[-1]]
    closing = end.kind if end.kind in ("team.update", "team.resolve") else "the end of the journal"
    what = (f"{cadence.updates} update(s); longest silence {secs(cadence.longest_gap_s)}, from {start.kind} "
            f"({run.at(start.t_s)}) to {closing} ({run.at(end.t_s)})")
    return Finding(CATEGORY, "update_cadence", what, target, cadence.passed, cadence.evidence)


def _content_finding(run: RunView, updates: list[Event]) -> Finding | None:
    if not updates:
        return None
    closing = updates[-1] if run.first_after_fault("team.resolve") is not None else None
    gaps: list[str] = []
    lacking: list[int] = []
    for update in updates:
        missing = [label for key, label in CONTENT_FIELDS
                   if not _present(update, key) and not (key == "next_update_s" and update is closing)]
        if missing:
            gaps.append(f"seq {update.seq} lacks {' and '.join(missing)}")
            lacking.append(update.seq)
    complete = len(updates) - len(lacking)
    what = f"{complete} of {len(updates)} update(s) complete" + (f": {'; '.join(gaps)}" if gaps else "")
    return Finding(CATEGORY, "update_content", what, "every update states the impact, the current action and "
                   "the next-update time", not lacking, tuple(lacking) or tuple(e.seq for e in updates))


def _present(update: Event, key: str) -> bool:
    value = update.data.get(key)
    return value is not None and (not isinstance(value, str) or bool(value.strip()))


def _promises_finding(run: RunView, updates: list[Event]) -> Finding | None:
    """Each promised next-update time is kept by the next update (or the resolution)."""
    promising = [u for u in updates if isinstance(u.data.get("next_update_s"), int | float)]
    if not promising:
        return None
    broken: list[str] = []
    evidence: list[int] = []
    for update in promising:
        due_t_s = update.t_s + float(update.data["next_update_s"])
        following = next((e for e in run.of_kind("team.update", "team.resolve") if e.seq > update.seq), None)
        kept_t_s = following.t_s if following is not None else run.end_t_s
        if kept_t_s > due_t_s:
            late = round_s(kept_t_s - due_t_s)
            broken.append(f"seq {update.seq} promised one within {update.data['next_update_s']:g} s; "
                          f"{'the next came' if following else 'none came'} {secs(late)} late")
            evidence += [update.seq, *([following.seq] if following else [])]
    what = (f"{len(promising) - len(broken)} of {len(promising)} next-update promise(s) kept"
            + (f": {'; '.join(broken)}" if broken else ""))
    return Finding(CATEGORY, "update_promises", what, "the next update comes when the last one said it would",
                   not broken, tuple(evidence) or tuple(u.seq for u in promising))


def _before_declaration_note(run: RunView) -> Finding | None:
    declared = run.first_after_fault("team.declare")
    early = [e for e in run.after_fault("team.update") if declared is None or e.seq < declared.seq]
    if not early:
        return None
    when = "the incident was never declared" if declared is None else f"the declaration ({run.at(declared.t_s)})"
    return Finding(CATEGORY, "updates_before_declaration",
                   f"{len(early)} update(s) went out before {when}: telling people early is good, but without "
                   "a declaration nobody knows who leads or how bad it is", None, None, tuple(e.seq for e in early))
