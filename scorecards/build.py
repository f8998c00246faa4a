"""Compute a scorecard from a run's journal alone (never from the runner's memory).

The rules live one concern per module (phases, comms, roles, diagnosis, mitigation,
impact, escalation); this module runs them in order and assembles the scorecard.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Final

from harness.timeline import Event, format_wall, read_journal
from scorecards.actionitems import action_items
from scorecards.chronicle import timeline
from scorecards.families import incident_family
from scorecards.grade import grade
from scorecards.impact import impact_findings, measure_impact
from scorecards.journalview import RunView
from scorecards.model import Finding, Scorecard, Team
from scorecards.phases import time_phases, update_cadence
from scorecards.rules_comms import communication_findings
from scorecards.rules_diagnosis import assess_severity, diagnose, diagnosis_findings, severity_finding
from scorecards.rules_escalation import escalation_finding
from scorecards.rules_mitigation import mitigation_findings, review_actions
from scorecards.rules_response import cannot_pass, outcome_finding, phase_findings, run_notes
from scorecards.rules_roles import role_assignments, role_findings
from scorecards.rules_stakeholders import stakeholder_findings
from scorecards.span import incident_span

JOURNAL_NAME: Final = "journal.jsonl"


def build_scorecard(events: Sequence[Event]) -> Scorecard:
    run = RunView.of(events)
    span = incident_span(run)
    phases = time_phases(run, span)
    impact = measure_impact(run, span)
    severity = assess_severity(run, impact)
    cadence = update_cadence(run, severity.declared or severity.measured)
    roles = role_assignments(run)
    diagnosis = diagnose(run, span)
    actions = review_actions(run)
    found: list[Finding | None] = [*run_notes(run), *phase_findings(run, phases),
                                   *communication_findings(run, cadence, severity.declared), *stakeholder_findings(run),
                                   *role_findings(run, roles), severity_finding(run, severity),
                                   *diagnosis_findings(run, diagnosis), *mitigation_findings(run, actions, span),
                                   *impact_findings(run, impact), escalation_finding(run, severity, span)]
    found.append(outcome_finding(run, span))
    findings = tuple(f for f in found if f is not None)
    finished, aborted = run.first("run.finished"), run.first("run.aborted")
    if finished is not None:
        outcome = str(finished.data.get("outcome", "finished"))
    else:
        outcome = "aborted" if aborted is not None else "unfinished"
    return Scorecard(
        run_id=str(run.plan.get("run_id", "")), drill=_name(run.plan.get("drill")),
        scenario=_name(run.plan.get("scenario")), team=_team(run.plan.get("team")),
        started_wall=format_wall(run.events[0].wall) if run.events else None,
        fault_t_s=run.fault.t_s if run.fault is not None else None,
        fault_wall=format_wall(run.fault.wall) if run.fault is not None else None,
        complete=finished is not None, outcome=outcome, phases=phases, cadence=cadence, impact=impact,
        severity=severity, roles=roles, diagnosis=diagnosis, actions=actions, findings=findings,
        grade=grade(findings, complete=finished is not None, failed_outcome=cannot_pass(run, span)),
        action_items=action_items(findings),
        timeline=timeline(run.events), series=run.windows, family=incident_family(run))


def build_from_run_dir(run_dir: Path) -> Scorecard:
    card = build_scorecard(read_journal(run_dir / JOURNAL_NAME))
    if not card.run_id:  # a run that died before run.planned is still named by its directory
        card = dataclasses.replace(card, run_id=run_dir.name)
    return card


def _team(raw: Any) -> Team:
    """run.planned's team: its `name` if the drill gave one, else its members joined with '+'."""
    if not isinstance(raw, Mapping):
        return Team("", ())
    members = tuple(str(m) for m in raw.get("members") or [])
    return Team(str(raw.get("name") or "+".join(sorted(members))), members)


def _name(value: Any) -> str:
    """run.planned may name the drill/scenario directly or describe it as an object with a name."""
    if isinstance(value, Mapping):
        return str(value.get("name", ""))
    return "" if value is None else str(value)
