"""Diagnosis: the severity chosen vs the impact measured, the trigger named vs the ground
truth (`run.planned` truth.trigger), and the scope recorded vs the nodes that failed.

A suspect is what the team typed: `<change kind> <version>` as in the change log, a change
id (resolved through the ids the journal records for the changes pushed: `fault.injected` /
`change.pushed` data `change_id` or `change_ids`), or "none" / "no change" (the same answer:
no recent change caused it). Two different questions are told apart: which recent change
triggered the incident, and which change introduced the defect. A scenario whose trigger is
`none: true` (a slow leak shipped long ago) is diagnosed right by "no change" and equally by
naming the old change that carries the defect (the fault's own change); a decoy is wrong.

The scope is measured, not read from a list: the nodes the per-node windows show failing
during the incident must be recorded, and a node that failed at all (a rollout reached it)
may be. The scenario's `affected_nodes` says only where the fault starts; it is the answer
only when the journal has no per-node windows.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Final

from scorecards.journalview import RunView, round_s, secs, worst_stretch
from scorecards.model import Diagnosis, Finding, Impact, Severity, WindowPoint
from scorecards.policy import (
    NODE_FAILING_SHARE,
    NODE_TOUCHED_SHARE,
    OVER_DECLARE_ALLOWED,
    SEVERITY_WINDOW_S,
    measured_severity,
)
from scorecards.span import IncidentSpan

SEVERITY: Final = "severity"
CATEGORY: Final = "diagnosis"
NO_CHANGE: Final = "no change"
# What a team may type for "no recent change caused it"; the CLI offers "none".
NO_CHANGE_WORDS: Final = frozenset({"none", "no change", "no changes", "no recent change", "nothing", "no-change",
                                    "n/a"})
_ARTIFACT_CHANGE_KIND: Final = {"release": "deploy", "config": "config_push", "script": "script_push"}
_SUSTAINED_WINDOWS: Final = 2  # a node failing this many seconds in a row is affected, whatever its average


def assess_severity(run: RunView, impact: Impact) -> Severity:
    """Measured on the worst sustained SEVERITY_WINDOW_S of the incident (the whole incident when
    shorter), not averaged over it: a long tail of healthy seconds does not make an outage mild."""
    declared_event = run.first_after_fault("team.declare")
    declared = int(declared_event.data["severity"]) if declared_event is not None else None
    declared_seq = (declared_event.seq,) if declared_event else ()
    if impact.start_t_s is None or impact.end_t_s is None or impact.error_rate is None:
        return Severity(declared, None, None, None, declared_seq)
    windows = run.windows_overlapping(impact.start_t_s, impact.end_t_s)
    worst = worst_stretch(windows, SEVERITY_WINDOW_S)
    if worst is None:
        return Severity(declared, None, None, None, declared_seq)
    duration_s = round_s(impact.end_t_s - impact.start_t_s)
    evidence = (*declared_seq, worst.first.seq, worst.last.seq)
    return Severity(declared, measured_severity(worst.share, duration_s), round(worst.share, 6), duration_s,
                    evidence, worst.first.start_t_s, worst.seconds)


def severity_finding(run: RunView, severity: Severity) -> Finding | None:
    if run.fault is None or severity.measured is None:
        return None
    stretch = ""
    if severity.worst_start_t_s is not None:
        stretch = (f" in the worst {secs(severity.worst_window_s or 0)} ({run.at(severity.worst_start_t_s)} to "
                   f"{run.at(severity.worst_start_t_s + (severity.worst_window_s or 0))})")
    measured = (f"impact measured SEV{severity.measured} ({(severity.failed_share or 0) * 100:.1f} % of requests "
                f"failed{stretch}; incident {secs(severity.duration_s or 0)} long)")
    target = (f"the declared severity matches the measured impact (at most {OVER_DECLARE_ALLOWED} level "
              "worse, never better)")
    if severity.declared is None:
        return Finding(SEVERITY, "severity", f"no severity was chosen (never declared); {measured}", target, None,
                       severity.evidence)
    changed = [int(e.data["severity"]) for e in run.after_fault("team.declare")[1:]]
    later = f"; re-declared as {', '.join(f'SEV{s}' for s in changed)}" if changed else ""
    over = severity.measured - severity.declared  # > 0: declared worse than measured
    verdict = "matches" if over == 0 else ("over-declared" if over > 0 else "under-declared")
    passed = 0 <= over <= OVER_DECLARE_ALLOWED
    return Finding(SEVERITY, "severity", f"declared SEV{severity.declared}{later}; {measured}: {verdict}", target,
                   passed, severity.evidence)


def diagnose(run: RunView, span: IncidentSpan | None) -> Diagnosis:
    truth = _trigger_truth(run.truth.get("trigger"))
    ids = _change_ids(run)
    introduced = _introducing_changes(run, ids)
    suspects = run.after_fault("team.suspect")
    named = tuple(_resolve(str(e.data.get("change", "")), ids) for e in suspects)
    right = {truth} | (introduced if truth == NO_CHANGE else set())
    correct = [e for e, name in zip(suspects, named, strict=True) if name in right]
    if run.fault is None:
        identified: bool | None = None
    elif not suspects and run.stopped_before(None):
        identified = None  # the harness stopped before the team named anyone: not reached
    else:
        identified = bool(named) and named[-1] in right
    identify_s = run.since_fault(correct[0].t_s) if correct else None
    scopes = run.after_fault("team.scope")
    recorded = tuple(sorted(str(n) for n in scopes[-1].data.get("nodes", []))) if scopes else None
    affected, touched, windows = _measured_scope(run, span)
    evidence = tuple(e.seq for e in [*suspects, *scopes[-1:]])
    return Diagnosis(truth, named, identified, identify_s, affected, recorded, evidence,
                     tuple(sorted(introduced)) if truth == NO_CHANGE else (), touched, windows)


def _measured_scope(run: RunView, span: IncidentSpan | None) -> tuple[tuple[str, ...], tuple[str, ...], str]:
    """(nodes that must be recorded, nodes that may be, where that came from)."""
    listed = tuple(sorted(str(n) for n in run.truth.get("affected_nodes") or []))
    if span is None:
        return listed, listed, "scenario"
    windows = run.windows_overlapping(span.start_t_s, span.end_t_s)
    nodes = sorted({node for w in windows for node in w.nodes})
    if not nodes:
        return listed, listed, "scenario"
    affected = tuple(n for n in nodes if _node_affected(windows, n))
    reached = _fault_reach(run) | set(listed)
    touched = tuple(n for n in nodes if n in affected or n in reached or _node_touched(windows, n))
    return affected, touched, "measured"


def _fault_reach(run: RunView) -> set[str]:
    """Nodes a fault was applied to: named in fault.injected, or every node for a rollout with
    no canary (a staged rollout's later stages show in the windows, as failures)."""
    nodes = set(run.nodes())
    reached: set[str] = set()
    for event in run.of_kind("fault.injected"):
        data = event.data
        if data.get("type") == "rollout" and not data.get("canary"):
            reached |= nodes
        for key in ("canary", "service", "node", "target"):
            if isinstance(data.get(key), str) and data[key] in nodes:
                reached.add(data[key])
        listed = data.get("nodes")
        if isinstance(listed, list):
            reached |= {str(n) for n in listed if str(n) in nodes}
    return reached


def _node_share(window: WindowPoint, node: str) -> float:
    requests, failures = window.nodes.get(node, (0, 0))
    return failures / requests if requests else 0.0


def _node_affected(windows: Sequence[WindowPoint], node: str) -> bool:
    """Failing over the incident, or for _SUSTAINED_WINDOWS seconds in a row."""
    requests = sum(w.nodes.get(node, (0, 0))[0] for w in windows)
    failures = sum(w.nodes.get(node, (0, 0))[1] for w in windows)
    if requests and failures / requests > NODE_FAILING_SHARE:
        return True
    streak = 0
    for window in windows:
        streak = streak + 1 if _node_share(window, node) > NODE_FAILING_SHARE else 0
        if streak >= _SUSTAINED_WINDOWS:
            return True
    return False


def _node_touched(windows: Sequence[WindowPoint], node: str) -> bool:
    return any(_node_share(w, node) > NODE_TOUCHED_SHARE for w in windows)


def diagnosis_findings(run: RunView, diagnosis: Diagnosis) -> list[Finding]:
    if run.fault is None or not run.truth:
        return []
    return [_trigger_finding(run, diagnosis), _scope_finding(run, diagnosis)]


def _trigger_finding(run: RunView, diagnosis: Diagnosis) -> Finding:
    suspects = run.after_fault("team.suspect")
    truth = diagnosis.trigger_truth
    if truth != NO_CHANGE:
        target = f"name the triggering change ({truth})"
    else:
        old = ", ".join(diagnosis.introduced_by)
        target = ("say that no recent change triggered it (`suspect none`)"
                  + (f", or name the old change that carries the defect ({old})" if old else ""))
    if not suspects:
        what = "no suspect was recorded (the diagnosis was never stated)"
        if diagnosis.trigger_identified is None:
            what += f" {run.stopped_note()}"
        return Finding(CATEGORY, "trigger", what, target, diagnosis.trigger_identified, ())
    listed = ", ".join(f"{name} ({run.at(e.t_s)})" for name, e in zip(diagnosis.suspects, suspects, strict=True))
    what = f"suspected {listed}"
    if diagnosis.identify_s is not None:
        what += f"; identified at fault + {secs(diagnosis.identify_s)}"
    if not diagnosis.trigger_identified:
        last = diagnosis.suspects[-1]
        if truth == NO_CHANGE:
            what += f"; but {last} did not cause it: no recent change did"
        elif last == NO_CHANGE:
            what += f"; but a recent change did trigger it ({truth})"
        else:
            what += f"; the last suspect is not the trigger ({truth})"
    return Finding(CATEGORY, "trigger", what, target, diagnosis.trigger_identified, diagnosis.evidence)


def _scope_finding(run: RunView, diagnosis: Diagnosis) -> Finding:
    required, allowed = set(diagnosis.scope_truth), set(diagnosis.scope_touched) | set(diagnosis.scope_truth)
    source = "failing in the per-node windows" if diagnosis.scope_source == "measured" else "from the scenario"
    target = f"record the affected nodes ({', '.join(diagnosis.scope_truth) or 'none'}, {source})"
    if diagnosis.scope_recorded is None and run.stopped_before(None):
        return Finding(CATEGORY, "scope", f"the affected nodes were not recorded {run.stopped_note()}", target,
                       None, ())
    if diagnosis.scope_recorded is None:
        return Finding(CATEGORY, "scope", "the affected nodes were never recorded", target, False, ())
    recorded = set(diagnosis.scope_recorded)
    missed, extra = sorted(required - recorded), sorted(recorded - allowed)
    what = f"recorded {', '.join(diagnosis.scope_recorded) or 'no node'}"
    what += f"; missed {', '.join(missed)}" if missed else ""
    what += f"; never failed: {', '.join(extra)}" if extra else ""
    reached = sorted(recorded & (allowed - required))
    what += f"; {', '.join(reached)}: reached by the fault, failing only briefly if at all (counted right)" \
        if reached else ""
    return Finding(CATEGORY, "scope", what, target, not missed and not extra, diagnosis.evidence[-1:])


def _trigger_truth(raw: Any) -> str:
    if not isinstance(raw, Mapping) or raw.get("none"):
        return NO_CHANGE
    return normalise(f"{raw.get('kind', '')} {raw.get('version', '')}")


def normalise(change: str) -> str:
    text = " ".join(change.lower().split())
    return NO_CHANGE if text in NO_CHANGE_WORDS else text


def _introducing_changes(run: RunView, ids: Mapping[str, str]) -> set[str]:
    """The changes the faults themselves shipped (a release backdated weeks: the leak's origin)."""
    found: set[str] = set()
    for event in run.of_kind("fault.injected"):
        for change_id in event.data.get("change_ids") or []:
            if str(change_id) in ids:
                found.add(ids[str(change_id)])
    return found


def _change_ids(run: RunView) -> dict[str, str]:
    """Change id -> `<kind> <version>`, from what the journal recorded about each push."""
    ids: dict[str, str] = {}
    for event in run.of_kind("fault.injected", "change.pushed"):
        data = event.data
        change = data.get("change")
        if isinstance(change, Mapping) and change.get("kind"):
            name = f"{change['kind']} {change.get('version', '')}"
        else:
            name = f"{_ARTIFACT_CHANGE_KIND.get(str(data.get('artifact_kind', data.get('kind'))), '?')} " \
                   f"{data.get('version', '')}"
        raw_ids = data.get("change_ids") or ([data["change_id"]] if data.get("change_id") is not None else [])
        ids.update({str(change_id): normalise(name) for change_id in raw_ids})
    return ids


def _resolve(suspect: str, ids: Mapping[str, str]) -> str:
    text = normalise(suspect)
    return ids.get(text, f"change {text}" if text.isdigit() else text)
