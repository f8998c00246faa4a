"""Customer impact: failed requests, peak error rate, worst p99 and error-budget minutes.

Counted over the `slo.window` seconds that overlap the incident span: the second the fault
lands in is mostly incident traffic, and a healthy baseline adds next to no failures to it.
"""

from __future__ import annotations

from collections.abc import Sequence

from scorecards.journalview import SLO_WINDOW_S, RunView, round_s
from scorecards.model import Finding, Impact, WindowPoint
from scorecards.policy import MAX_BUDGET_SHARE_PER_DRILL, MAX_DRILL_BURN_SHARE, PEAK_WINDOW_S, budget_minutes
from scorecards.span import IncidentSpan

CATEGORY = "impact"


def measure_impact(run: RunView, span: IncidentSpan | None) -> Impact:
    if span is None:
        return Impact(None, None, False, 0, 0, 0, None, PEAK_WINDOW_S, None, 0.0, 0.0, ())
    windows = run.windows_overlapping(span.start_t_s, span.end_t_s)
    total = sum(w.requests for w in windows)
    failed = sum(w.failures for w in windows)
    peak_rate, peak_seq = peak_error_rate(windows)
    with_p99 = [w for w in windows if w.p99_ms is not None]
    p99_window = max(with_p99, key=lambda w: w.p99_ms or 0.0, default=None)
    # Each second's failed share is the fraction of that second the service was down for a user.
    outage_minutes = sum(w.failures / w.requests for w in windows if w.requests) * SLO_WINDOW_S / 60
    evidence = [windows[0].seq, windows[-1].seq] if windows else []
    evidence += [seq for seq in (peak_seq, p99_window.seq if p99_window else None) if seq is not None]
    return Impact(span.start_t_s, span.end_t_s, span.healthy_at_end, len(windows), total, failed, peak_rate,
                  PEAK_WINDOW_S, p99_window.p99_ms if p99_window is not None else None,
                  round(outage_minutes, 4), round(outage_minutes / budget_minutes(), 6),
                  tuple(sorted(set(evidence))))


def peak_error_rate(windows: Sequence[WindowPoint]) -> tuple[float | None, int | None]:
    """The worst failed share over any PEAK_WINDOW_S of windows, and the seq of its last window."""
    peak: tuple[float | None, int | None] = (None, None)
    left, requests, failures = 0, 0, 0
    for window in windows:
        requests += window.requests
        failures += window.failures
        while windows[left].start_t_s <= window.start_t_s - PEAK_WINDOW_S:
            requests -= windows[left].requests
            failures -= windows[left].failures
            left += 1
        rate = failures / requests if requests else None
        if rate is not None and (peak[0] is None or rate > peak[0]):
            peak = (round_s(rate), window.seq)
    return peak


def impact_findings(run: RunView, impact: Impact) -> list[Finding]:
    if impact.start_t_s is None or not impact.windows:
        return []  # no traffic measured: nothing to judge
    until = "the restoration" if impact.restored else "the end of the journal (not healthy at the end)"
    share = impact.error_budget_share
    drill_minutes = drill_budget_minutes(run)
    allowed = min(MAX_BUDGET_SHARE_PER_DRILL * budget_minutes(), MAX_DRILL_BURN_SHARE * drill_minutes)
    budget = Finding(
        CATEGORY, "error_budget",
        f"{impact.failed_requests} of {impact.total_requests} requests failed between the fault and {until}; "
        f"that is {impact.error_budget_minutes:g} minutes of full outage, {share * 100:.2f} % of a month's "
        f"error budget ({budget_minutes():g} min) and {_share_of(impact.error_budget_minutes, drill_minutes)} of "
        f"the {drill_minutes:.3g} min this drill could burn (a full outage from the fault to its time limit)",
        f"burn at most {MAX_DRILL_BURN_SHARE * 100:g} % of what the drill could burn ({allowed:.3g} min; never more "
        f"than {MAX_BUDGET_SHARE_PER_DRILL * 100:g} % of the monthly budget)",
        impact.error_budget_minutes <= allowed, impact.evidence)
    return [budget]


def drill_budget_minutes(run: RunView) -> float:
    """A full outage from the fault to the drill's time limit (its journal's end for older journals)."""
    assert run.fault is not None
    end_t_s = run.max_duration_s if run.max_duration_s is not None else run.end_t_s
    return max(end_t_s - run.fault.t_s, SLO_WINDOW_S) / 60


def _share_of(minutes: float, whole: float) -> str:
    return f"{minutes / whole * 100:.1f} %" if whole else "?"
