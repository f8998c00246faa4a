"""Diagnosis: the severity chosen vs the impact measured, the trigger named vs the ground
truth (`run.planned` truth.trigger), and the scope recorded vs truth.affected_nodes.

A suspect is what the team typed: `<change kind> <version>` as in the change log, or a
change id, which is resolved through the ids the journal records for the changes pushed
(`fault.injected` / `change.pushed` data `change_id` or `change_ids`). A scenario whose
trigger is `none: true` (a slow leak) is diagnosed right when no change is blamed.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from scorecards.journalview import RunView, round_s, secs
from scorecards.model import Diagnosis, Finding, Impact, Severity
from scorecards.policy import OVER_DECLARE_ALLOWED, measured_severity

SEVERITY: Final = "severity"
CATEGORY: Final = "diagnosis"
NO_CHANGE: Final = "no change"
_ARTIFACT_CHANGE_KIND: Final = {"release": "deploy", "config": "config_push", "script": "script_push"}


def assess_severity(run: RunView, impact: Impact) -> Severity:
    declared_event = run.first_after_fault("team.declare")
    declared = int(declared_event.data["severity"]) if declared_event is not None else None
    share = impact.error_rate
    if impact.start_t_s is None or impact.end_t_s is None or share is None:
        return Severity(declared, None, None, None, (declared_event.seq,) if declared_event else ())
    duration_s = round_s(impact.end_t_s - impact.start_t_s)
    evidence = [*((declared_event.seq,) if declared_event else ()), *impact.evidence[:2]]
    return Severity(declared, measured_severity(share, duration_s), round(share, 6), duration_s, tuple(evidence))


def severity_finding(run: RunView, severity: Severity) -> Finding | None:
    if run.fault is None or severity.measured is None:
        return None
    measured = (f"impact measured SEV{severity.measured} ({(severity.failed_share or 0) * 100:.1f} % of requests "
                f"failed over {secs(severity.duration_s or 0)})")
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


def diagnose(run: RunView) -> Diagnosis:
    truth = _trigger_truth(run.truth.get("trigger"))
    ids = _change_ids(run)
    suspects = run.after_fault("team.suspect")
    named = tuple(_resolve(str(e.data.get("change", "")), ids) for e in suspects)
    correct = [e for e, name in zip(suspects, named, strict=True) if name == truth]
    if truth == NO_CHANGE:
        identified: bool | None = not suspects if run.fault is not None else None
    elif not suspects and run.stopped_before(None):
        identified = None  # the harness stopped before the team named anyone: not reached
    else:
        identified = bool(named) and named[-1] == truth if run.fault is not None else None
    identify_s = run.since_fault(correct[0].t_s) if correct and truth != NO_CHANGE else None
    scopes = run.after_fault("team.scope")
    recorded = tuple(sorted(str(n) for n in scopes[-1].data.get("nodes", []))) if scopes else None
    affected = run.truth.get("affected_nodes") or []
    evidence = tuple(e.seq for e in [*suspects, *scopes[-1:]])
    return Diagnosis(truth, named, identified, identify_s, tuple(sorted(str(n) for n in affected)), recorded,
                     evidence)


def diagnosis_findings(run: RunView, diagnosis: Diagnosis) -> list[Finding]:
    if run.fault is None or not run.truth:
        return []
    return [_trigger_finding(run, diagnosis), _scope_finding(run, diagnosis)]


def _trigger_finding(run: RunView, diagnosis: Diagnosis) -> Finding:
    suspects = run.after_fault("team.suspect")
    truth = diagnosis.trigger_truth
    target = f"name the triggering change ({truth})" if truth != NO_CHANGE else "blame no change (none triggered it)"
    if not suspects:
        what = "no suspect was recorded" + ("; correctly, no change triggered it" if truth == NO_CHANGE else "")
        if diagnosis.trigger_identified is None:
            what += f" {run.stopped_note()}"
        return Finding(CATEGORY, "trigger", what, target, diagnosis.trigger_identified, ())
    listed = ", ".join(f"{name} ({run.at(e.t_s)})" for name, e in zip(diagnosis.suspects, suspects, strict=True))
    what = f"suspected {listed}"
    if diagnosis.identify_s is not None:
        what += f"; identified at fault + {secs(diagnosis.identify_s)}"
    if truth == NO_CHANGE:
        what += "; but no change triggered it"
    elif not diagnosis.trigger_identified:
        what += f"; the last suspect is not the trigger ({truth})"
    return Finding(CATEGORY, "trigger", what, target, diagnosis.trigger_identified, diagnosis.evidence)


def _scope_finding(run: RunView, diagnosis: Diagnosis) -> Finding:
    truth = set(diagnosis.scope_truth)
    target = f"record the affected nodes ({', '.join(diagnosis.scope_truth) or 'none'})"
    if diagnosis.scope_recorded is None and run.stopped_before(None):
        return Finding(CATEGORY, "scope", f"the affected nodes were not recorded {run.stopped_note()}", target,
                       None, ())
    if diagnosis.scope_recorded is None:
        return Finding(CATEGORY, "scope", "the affected nodes were never recorded", target, False, ())
    recorded = set(diagnosis.scope_recorded)
    missed, extra = sorted(truth - recorded), sorted(recorded - truth)
    what = f"recorded {', '.join(diagnosis.scope_recorded)}"
    what += f"; missed {', '.join(missed)}" if missed else ""
    what += f"; not affected: {', '.join(extra)}" if extra else ""
    return Finding(CATEGORY, "scope", what, target, not missed and not extra, diagnosis.evidence[-1:])


def _trigger_truth(raw: Any) -> str:
    if not isinstance(raw, Mapping) or raw.get("none"):
        return NO_CHANGE
    return normalise(f"{raw.get('kind', '')} {raw.get('version', '')}")


def normalise(change: str) -> str:
    return " ".join(change.lower().split())


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
