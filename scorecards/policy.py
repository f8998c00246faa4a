"""The incident policy the scorecard holds a team to: every threshold in one place.

Shaped like PagerDuty's public incident-response guide: the severity is chosen from the
customer impact; the higher it is, the sooner the first status update, the tighter the
update interval, and the sooner someone outside the team is told. A drill's own targets
(`update_every_s`, `escalate_s`) take precedence; a drill with `time_compression: k` is held
to every deadline here divided by k.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Final


@dataclass(frozen=True)
class SeverityPolicy:
    severity: int  # 1 is the worst
    first_update_s: float  # declaration -> first status update
    update_every_s: float  # longest allowed gap between updates afterwards
    escalate_s: float | None  # impact clear -> escalated; None: no escalation expected


SEVERITY_POLICY: Final[Mapping[int, SeverityPolicy]] = MappingProxyType({
    1: SeverityPolicy(1, first_update_s=5 * 60, update_every_s=20 * 60, escalate_s=5 * 60),
    2: SeverityPolicy(2, first_update_s=10 * 60, update_every_s=30 * 60, escalate_s=15 * 60),
    3: SeverityPolicy(3, first_update_s=30 * 60, update_every_s=60 * 60, escalate_s=None),
    4: SeverityPolicy(4, first_update_s=60 * 60, update_every_s=4 * 60 * 60, escalate_s=None),
})


@dataclass(frozen=True)
class SeverityBand:
    """Impact at least this bad is this severity (bands are tried worst first)."""

    severity: int
    min_failed_share: float  # failed / all requests in the incident's worst SEVERITY_WINDOW_S
    min_duration_s: float  # fault -> end of the incident


SEVERITY_BANDS: Final = (
    SeverityBand(1, min_failed_share=0.50, min_duration_s=0),  # a near-total outage, however short
    SeverityBand(1, min_failed_share=0.20, min_duration_s=10 * 60),  # wide and long
    SeverityBand(2, min_failed_share=0.10, min_duration_s=0),
    SeverityBand(3, min_failed_share=0.01, min_duration_s=0),
    SeverityBand(4, min_failed_share=0.0, min_duration_s=0),
)
SEVERITY_WINDOW_S: Final = 10.0  # severity is measured on the worst 10 s of the incident (all of it if shorter)
OVER_DECLARE_ALLOWED: Final = 1  # declaring one level worse than measured is caution, not a mistake

# Business impact is "clear" once this share of requests failed over PEAK_WINDOW_S.
ESCALATION_CLEAR_SHARE: Final = 0.10
PEAK_WINDOW_S: Final = 10.0  # peak error rate over 10 s of traffic, so one unlucky request is not "100 %"

# Error budget: a 99.9 % availability SLO over 30 days allows 43.2 minutes of full outage.
SLO_AVAILABILITY: Final = 0.999
BUDGET_PERIOD_MINUTES: Final = 30 * 24 * 60
MAX_BUDGET_SHARE_PER_DRILL: Final = 0.25  # one incident should not burn more than a quarter of the month
# Sized to one drill: a drill can burn at most a full outage from the fault to its time limit;
# a response that lets the failures add up to more than a quarter of that has not contained it.
MAX_DRILL_BURN_SHARE: Final = 0.25

# Judging an action by the error rate around it.
ACTION_EFFECT_WINDOW_S: Final = 5.0  # compare this long before the action with this long after it
WORSE_MARGIN: Final = 0.05  # the error rate rose by more than 5 points: the action made it worse
IMPROVE_MARGIN: Final = 0.05  # ...fell by more than 5 points: it helped
NODE_FAILING_SHARE: Final = 0.05  # a node failing more than this share of its requests counts in the blast radius
NODE_TOUCHED_SHARE: Final = 0.01  # ...and one that failed above this in any second was reached: recording it is right
INCIDENT_LIVE_SHARE: Final = 0.05  # below this error rate there is nothing left for an action to fix

# A relapse: after the restoration, this many consecutive seconds failing above the share.
RELAPSE_SHARE: Final = 0.05
RELAPSE_MIN_WINDOWS: Final = 3


def budget_minutes() -> float:
    """The month's error budget in minutes of full outage."""
    return (1 - SLO_AVAILABILITY) * BUDGET_PERIOD_MINUTES


def measured_severity(failed_share: float, duration_s: float) -> int:
    for band in SEVERITY_BANDS:
        if failed_share >= band.min_failed_share and duration_s >= band.min_duration_s:
            return band.severity
    return SEVERITY_BANDS[-1].severity


def policy_for(severity: int, time_compression: float = 1.0) -> SeverityPolicy:
    """The policy for a severity (out-of-range values take the nearest one), on the drill's
    clock: a drill played k times faster is held to deadlines k times shorter."""
    policy = SEVERITY_POLICY[min(max(severity, min(SEVERITY_POLICY)), max(SEVERITY_POLICY))]
    if time_compression == 1.0:
        return policy
    k = time_compression
    return SeverityPolicy(policy.severity, policy.first_update_s / k, policy.update_every_s / k,
                          None if policy.escalate_s is None else policy.escalate_s / k)


def severity_table() -> list[str]:
    """The bands the scorecard grades a declaration against, in words for the team (declare
    --help, the console, README): what was measured, never what this drill's fault is."""
    rows = []
    for band in SEVERITY_BANDS:
        lasting = f" lasting {band.min_duration_s / 60:g} min or more" if band.min_duration_s else ""
        failing = (f"at least {band.min_failed_share * 100:g} % of requests failing in the worst "
                   f"{SEVERITY_WINDOW_S:g} s" if band.min_failed_share else "any smaller impact")
        rows.append(f"SEV{band.severity}: {failing}{lasting}")
    rows.append("declaring one level worse than measured is fine (caution); better than measured is a miss")
    return rows
