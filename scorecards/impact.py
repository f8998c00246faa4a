"""Customer impact: failed requests, peak error rate, worst p99 and error-budget minutes.

Counted over the `slo.window` seconds that overlap the incident span: the second the fault
lands in is mostly incident traffic, and a healthy baseline adds next to no failures to it.

The load is open-loop, so the windows count the arrivals the schedule offered, hung or not.
The offered and achieved rates say whether that held; when the generator fell behind, or
seconds of the incident were never measured, the figures carry a measurement warning.
"""

from __future__ import annotations

from collections.abc import Sequence

from scorecards.journalview import SLO_WINDOW_S, RunView, round_s, worst_stretch
from scorecards.model import Finding, Impact, WindowPoint
from scorecards.policy import MAX_BUDGET_SHARE_PER_DRILL, MAX_DRILL_BURN_SHARE, PEAK_WINDOW_S, budget_minutes
from scorecards.span import IncidentSpan

CATEGORY = "impact"
MIN_ACHIEVED_SHARE = 0.95  # of the offered arrivals sent on time, over the incident
BEHIND_SECOND_SHARE = 0.8  # a second below this share of its offered arrivals: the generator fell behind
MIN_BEHIND_SECONDS = 3  # one slow second is a hiccup; three are a generator that cannot keep up
MIN_OFFERED_SHARE = 0.9  # of the drill's rate (constant arrivals): the schedule itself was not kept


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
    offered_rate, achieved_rate = arrival_rates(windows)
    return Impact(span.start_t_s, span.end_t_s, span.healthy_at_end, len(windows), total, failed, peak_rate,
                  PEAK_WINDOW_S, p99_window.p99_ms if p99_window is not None else None,
                  round(outage_minutes, 4), round(outage_minutes / budget_minutes(), 6),
                  tuple(sorted(set(evidence))), offered_rate, achieved_rate,
                  measurement_warnings(run, windows, span.start_t_s, span.end_t_s))


def arrival_rates(windows: Sequence[WindowPoint]) -> tuple[float | None, float | None]:
    """Offered and achieved arrivals per second over the windows (None: no open-loop counts)."""
    counted = [w for w in windows if w.offered is not None]
    if not counted:
        return None, None
    seconds = len(counted) * SLO_WINDOW_S
    return (round(sum(w.offered or 0 for w in counted) / seconds, 2),
            round(sum(w.achieved or 0 for w in counted) / seconds, 2))


def measurement_warnings(run: RunView, windows: Sequence[WindowPoint], start_t_s: float,
                         end_t_s: float | None) -> tuple[str, ...]:
    """Why the impact figures may not be exact, in words; empty when the load held."""
    counted = [w for w in windows if w.offered is not None]
    warnings = []
    offered = sum(w.offered or 0 for w in counted)
    achieved = sum(w.achieved or 0 for w in counted)
    if offered and achieved < MIN_ACHIEVED_SHARE * offered:
        warnings.append(f"the load generator sent {achieved} of {offered} offered arrivals on time "
                        f"({achieved / offered:.0%}): it fell behind (short of CPU?), so the stack was sampled "
                        "less than the drill asks and the figures are a lower bound")
    behind = [w for w in counted if w.offered and (w.achieved or 0) < BEHIND_SECOND_SHARE * w.offered]
    if len(behind) >= MIN_BEHIND_SECONDS:
        worst = min(behind, key=lambda w: (w.achieved or 0) / (w.offered or 1))
        warnings.append(f"the load generator fell behind in {len(behind)} second(s) of the incident; the worst, "
                        f"{run.at(worst.start_t_s)}, sent {worst.achieved} of {worst.offered} on time")
    warnings += _schedule_warnings(run, counted)
    # Only open-loop journals have a window for every second the load ran; older ones skip quiet seconds.
    missing = _unmeasured_seconds(windows, start_t_s, end_t_s) if counted else 0
    if missing:
        warnings.append(f"{missing} second(s) of the incident have no measurement (no load ran, or no harness "
                        "recorded it): their customers are not counted")
    return tuple(warnings)


def _schedule_warnings(run: RunView, counted: Sequence[WindowPoint]) -> list[str]:
    started = run.first("load.started")
    if started is None or not counted or started.data.get("arrivals", "constant") != "constant":
        return []
    rate = started.data.get("rate_per_s")
    if not isinstance(rate, int | float) or rate <= 0:
        return []
    offered_rate = sum(w.offered or 0 for w in counted) / (len(counted) * SLO_WINDOW_S)
    if offered_rate >= MIN_OFFERED_SHARE * rate:
        return []
    return [f"{offered_rate:.1f} arrivals/s reached the record where the drill offers {rate:g}/s"]


def _unmeasured_seconds(windows: Sequence[WindowPoint], start_t_s: float, end_t_s: float | None) -> int:
    """Whole seconds inside the incident with no window at all (a dead harness, a stopped load)."""
    if not windows:
        return 0
    last = windows[-1].start_t_s + SLO_WINDOW_S if end_t_s is None else end_t_s
    starts = {int(w.start_t_s) for w in windows}
    return sum(1 for second in range(int(start_t_s) + 1, int(last)) if second not in starts)


def peak_error_rate(windows: Sequence[WindowPoint]) -> tuple[float | None, int | None]:
    """The worst failed share over any PEAK_WINDOW_S of windows, and the seq of its last window."""
    worst = worst_stretch(windows, PEAK_WINDOW_S)
    return (None, None) if worst is None else (round_s(worst.share), worst.last.seq)


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
    findings = [budget]
    if impact.measurement_warnings:
        rates = (f"{impact.achieved_rate_per_s:g} of {impact.offered_rate_per_s:g} arrivals/s achieved"
                 if impact.offered_rate_per_s is not None else "no open-loop counts")
        findings.append(Finding("run", "measurement", f"{rates}; " + "; ".join(impact.measurement_warnings),
                                "the load holds its offered rate through the incident", None, impact.evidence))
    return findings


def drill_budget_minutes(run: RunView) -> float:
    """A full outage from the fault to the drill's time limit (its journal's end for older journals)."""
    assert run.fault is not None
    end_t_s = run.max_duration_s if run.max_duration_s is not None else run.end_t_s
    return max(end_t_s - run.fault.t_s, SLO_WINDOW_S) / 60


def _share_of(minutes: float, whole: float) -> str:
    return f"{minutes / whole * 100:.1f} %" if whole else "?"


def load_lines(impact: Impact) -> list[str]:
    """Offered vs achieved load and the measurement warnings, for the renderers."""
    lines = []
    if impact.offered_rate_per_s is not None:
        lines.append(f"load: {impact.achieved_rate_per_s:g} of {impact.offered_rate_per_s:g} offered arrivals/s "
                     "sent on time (open loop)")
    lines += [f"MEASUREMENT WARNING: {warning}" for warning in impact.measurement_warnings]
    return lines
