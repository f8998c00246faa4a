"""The scorecard's data: frozen, JSON-ready, and explainable part by part.

Every figure carries the journal `seq` numbers it was computed from (`evidence`), so a
reviewer can open `journal.jsonl` and check it. `passed` is three-valued: True or False
against a target, None when there is no target or the rule does not apply (no fault).
`SCHEMA_VERSION` changes whenever a field's meaning changes; adding a field keeps it. The
published JSON Schema is `scorecards/schema/scorecard.v<SCHEMA_VERSION>.json`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

from scorecards.codec import decode, encode

SCHEMA_VERSION: Final = "1"


@dataclass(frozen=True)
class Finding:
    """One explained observation: what happened, against what target, seen in which lines."""

    category: str  # the grade part it counts for (grade.WEIGHTS), or "run" for notes about the run itself
    name: str
    what_happened: str
    target: str | None  # in words ("declare within 60 s"); None: nothing to hold it against
    passed: bool | None
    evidence: tuple[int, ...]


# PhaseTiming.status: what the journal says about the phase.
PHASE_DONE: Final = "done"  # it happened: seconds_from_fault is set
PHASE_NEVER: Final = "never"  # the run finished without it
PHASE_OVERDUE: Final = "overdue"  # an incomplete run: not done when the harness stopped, though already due
PHASE_NOT_REACHED: Final = "not_reached"  # an incomplete run: the harness stopped before it was due
PHASE_NO_FAULT: Final = "no_fault"  # nothing was injected: nothing to time
PHASE_STATUSES: Final = (PHASE_DONE, PHASE_NEVER, PHASE_OVERDUE, PHASE_NOT_REACHED, PHASE_NO_FAULT)


@dataclass(frozen=True)
class PhaseTiming:
    """Seconds from the fault to one phase of the response (None: not in the journal; `status` says why)."""

    phase: str
    seconds_from_fault: float | None
    target_s: float | None
    passed: bool | None  # None also for a phase not reached: a stopped harness says nothing about it
    evidence: tuple[int, ...]  # the fault's seq, then the event that ended the phase (or the journal's last)
    status: str  # one of PHASE_STATUSES
    masked_s: tuple[float, ...] = ()  # mitigate only: restorations that relapsed (seconds from the fault)


@dataclass(frozen=True)
class UpdateCadence:
    """The longest silence while the incident was open: from the declaration or first update
    to the next update, and from the last update to the resolution (or the journal's end)."""

    longest_gap_s: float | None  # None: no update and no declaration after the fault
    target_s: float | None
    target_source: str | None  # "drill" (its update_every_s) or "SEV<n> policy"
    passed: bool | None
    updates: int  # status updates after the fault and before the resolution
    evidence: tuple[int, ...]  # the two events bounding the longest gap


@dataclass(frozen=True)
class Impact:
    """Customer impact from the `slo.window` seconds overlapping the incident: from the fault
    to the restoration, or to the end of a relapse, or to the journal's end."""

    start_t_s: float | None  # the fault; None: no fault, so no incident to measure
    end_t_s: float | None
    restored: bool  # the service was healthy at the end (a relapse that never recovered: False)
    windows: int  # one-second `slo.window`s counted
    total_requests: int
    failed_requests: int
    peak_error_rate: float | None  # worst failed share over `peak_window_s` of traffic
    peak_window_s: float
    p99_max_ms: float | None
    error_budget_minutes: float  # minutes of full outage the failures add up to
    error_budget_share: float  # of a month's budget at the policy's SLO
    evidence: tuple[int, ...]  # first and last window counted, the peak's last window, the p99 max
    # Open-loop load: arrivals offered per second over the incident, and those sent on time
    # (None: a journal from before open-loop load). Warnings say when the measurement is not
    # to be trusted as it stands (the generator fell behind, seconds never measured).
    offered_rate_per_s: float | None = None
    achieved_rate_per_s: float | None = None
    measurement_warnings: tuple[str, ...] = ()

    @property
    def error_rate(self) -> float | None:
        return self.failed_requests / self.total_requests if self.total_requests else None


@dataclass(frozen=True)
class Severity:
    declared: int | None  # the first declaration's severity (1 is the worst)
    measured: int | None  # from the failed share and duration (policy.SEVERITY_BANDS)
    failed_share: float | None  # in the worst sustained window of the incident
    duration_s: float | None  # the whole incident
    evidence: tuple[int, ...]
    worst_start_t_s: float | None = None  # where the worst window starts (journal seconds)
    worst_window_s: float | None = None  # its length: policy.SEVERITY_WINDOW_S, or the incident if shorter


@dataclass(frozen=True)
class RoleAssignment:
    role: str
    who: str
    by: str
    seconds_from_fault: float | None  # None: before the fault
    seq: int


@dataclass(frozen=True)
class Diagnosis:
    trigger_truth: str  # "script_push v2", or "no change"
    suspects: tuple[str, ...]  # what the team recorded, in order
    trigger_identified: bool | None
    identify_s: float | None  # fault -> the first correct suspect
    scope_truth: tuple[str, ...]  # the nodes that must be recorded: failing in the incident's per-node windows
    scope_recorded: tuple[str, ...] | None  # the last `team.scope`; None: never recorded
    evidence: tuple[int, ...]
    introduced_by: tuple[str, ...] = ()  # trigger "no change": the old change(s) carrying the defect (also right)
    scope_touched: tuple[str, ...] = ()  # nodes that failed at all: recording them is right too
    scope_source: str = "scenario"  # "measured" (per-node windows) or "scenario" (its affected_nodes)


@dataclass(frozen=True)
class ActionReview:
    """One `team.act`: what it did and what the error rate did around it."""

    seq: int
    by: str
    action: str
    canary: str | None
    seconds_from_fault: float | None
    ok: bool | None  # the action.result; None: no result was journaled
    detail: str
    truth_label: str  # "fixes", "masks", "worsens" (the scenario's ground truth) or "unlisted"
    error_rate_before: float | None  # over ACTION_EFFECT_WINDOW_S before it (a canary: that node's own)
    error_rate_after: float | None
    failing_nodes_before: tuple[str, ...]
    failing_nodes_after: tuple[str, ...]
    verdict: str  # helped, worse, no_effect, not_needed, failed, not_measured
    evidence: tuple[int, ...]
    per_node: bool = True  # the action can run on one node first (False: canary-first does not apply)
    trend_rate: float | None = None  # where the error rate before it was heading, mid-way through the window after


@dataclass(frozen=True)
class GradePart:
    part: str
    weight: float
    checks: int  # findings that passed or failed (notes do not count)
    passed: int
    score: float | None  # passed / checks; None: nothing to check, the part is left out


@dataclass(frozen=True)
class Grade:
    score: float | None  # 0-100 from the weighted parts that had checks; None when withheld
    letter: str  # A-F, or "-" when nothing could be graded or the grade is withheld
    parts: tuple[GradePart, ...]  # computed and shown also when the grade is withheld
    withheld: str | None  # why there is no grade although parts could be checked (an incomplete run)


@dataclass(frozen=True)
class ActionItem:
    """A follow-up for the postmortem, from one failed finding; owner and due date are filled in later."""

    key: str  # stable within a run (the finding's name), so a rebuild keeps its history
    finding: str
    text: str  # what to do
    why: str  # the finding's what_happened
    owner: str | None
    due: str | None


@dataclass(frozen=True)
class TimelineEntry:
    seq: int
    kind: str
    t_s: float
    wall: str  # UTC, ISO 8601 with microseconds, as in the journal
    label: str


@dataclass(frozen=True)
class WindowPoint:
    """One `slo.window`: a second of traffic by request start time."""

    seq: int
    start_t_s: float
    requests: int
    failures: int
    p50_ms: float | None
    p99_ms: float | None
    nodes: Mapping[str, tuple[int, int]]  # node -> (requests, failures)
    offered: int | None = None  # arrivals intended in the second (None: a journal from before open-loop load)
    achieved: int | None = None  # of those, sent on time

    @property
    def error_rate(self) -> float | None:
        return self.failures / self.requests if self.requests else None


@dataclass(frozen=True)
class Team:
    name: str
    members: tuple[str, ...]


@dataclass(frozen=True)
class Scorecard:
    run_id: str
    drill: str
    scenario: str
    team: Team
    started_wall: str | None  # the journal's first event
    fault_t_s: float | None  # journal seconds of the first fault.injected; None: none was injected
    fault_wall: str | None
    complete: bool  # False: no run.finished in the journal (a crash, or an abort that never finished)
    outcome: str
    phases: tuple[PhaseTiming, ...]
    cadence: UpdateCadence
    impact: Impact
    severity: Severity
    roles: tuple[RoleAssignment, ...]
    diagnosis: Diagnosis
    actions: tuple[ActionReview, ...]
    findings: tuple[Finding, ...]
    grade: Grade
    action_items: tuple[ActionItem, ...]
    timeline: tuple[TimelineEntry, ...]
    series: tuple[WindowPoint, ...]
    family: str = ""  # the kind of incident (scorecards.families), "" when nothing was injected
    schema_version: str = SCHEMA_VERSION

    def phase(self, name: str) -> PhaseTiming:
        for timing in self.phases:
            if timing.phase == name:
                return timing
        raise KeyError(f"no phase {name!r}; phases: {', '.join(t.phase for t in self.phases)}")

    def finding(self, name: str) -> Finding:
        for finding in self.findings:
            if finding.name == name:
                return finding
        raise KeyError(f"no finding {name!r}; findings: {', '.join(f.name for f in self.findings)}")

    def to_dict(self) -> dict[str, Any]:
        encoded: dict[str, Any] = encode(self)
        return encoded

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Scorecard:
        if data.get("schema_version") != SCHEMA_VERSION:
            raise ValueError(f"scorecard schema_version {data.get('schema_version')!r}, expected {SCHEMA_VERSION!r}")
        return decode(cls, data)
