"""Mitigation quality: canary before global, actions that made it worse, ineffective ones,
and whether the symptom was fixed or only masked (a relapse after restoration counts against).

Each `team.act` is judged by the error rate in the ACTION_EFFECT_WINDOW_S after it against
the trend just before it (for a canary, on the canary node's own requests): the seconds
before the action, never reaching back before the fault, give a level and a slope, and the
action is held to where that trend was heading. An error rate that was already climbing is
not blamed on the action; one that stops climbing helped. An action followed at once by
the restoration helped, even if its effect took longer than the window to show. Each
action gets one verdict, so "made worse" and "ineffective" never name the same action.
Canary-first applies only to actions that act per node (the toolkit's registry, journaled
as team.act `per_node`). Two actions a moment apart share their windows, so the scenario's
ground truth (fixes / masks / worsens) is shown next to the measurement.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

from harness.timeline import Event
from scorecards.journalview import SLO_WINDOW_S, RunView, error_share, failing_nodes, restoration_time
from scorecards.model import ActionReview, Finding, WindowPoint
from scorecards.policy import (
    ACTION_EFFECT_WINDOW_S,
    IMPROVE_MARGIN,
    INCIDENT_LIVE_SHARE,
    NODE_FAILING_SHARE,
    WORSE_MARGIN,
)
from scorecards.span import IncidentSpan

CATEGORY: Final = "mitigation"
TRUTH_LABELS: Final = ("fixes", "masks", "worsens")
MIN_TREND_POINTS: Final = 3


def review_actions(run: RunView) -> tuple[ActionReview, ...]:
    results = run.of_kind("action.result")
    restorations = run.after_fault("restoration.detected", restoration_time)
    acts = run.after_fault("team.act")
    return tuple(_review(run, act, results, restorations, acts) for act in acts)


def _review(run: RunView, act: Event, results: Sequence[Event], restorations: Sequence[Event],
            acts: Sequence[Event]) -> ActionReview:
    assert run.fault is not None
    action, canary = str(act.data.get("action", "")), act.data.get("canary")
    result = next((r for r in results if r.seq > act.seq and r.data.get("action") == action), None)
    ok = bool(result.data.get("ok")) if result is not None else None
    since = max(act.t_s - ACTION_EFFECT_WINDOW_S, run.fault.t_s)  # never before the fault
    before = [w for w in run.windows_starting(since, act.t_s) if w.start_t_s + SLO_WINDOW_S <= act.t_s]
    after = run.windows_starting(act.t_s, act.t_s + ACTION_EFFECT_WINDOW_S)
    node = str(canary) if canary else None
    rate_before, rate_after = error_share(before, node), error_share(after, node)
    heading = trend_at(before, node, act.t_s + ACTION_EFFECT_WINDOW_S / 2)
    nodes_before = failing_nodes(before, NODE_FAILING_SHARE)
    nodes_after = failing_nodes(after, NODE_FAILING_SHARE)
    wider = node is None and len(nodes_after) > len(nodes_before)
    verdict = _verdict(ok, rate_before, rate_after, heading, wider)
    if verdict in ("no_effect", "not_measured") and ok and _restored_next(act, acts, restorations):
        verdict = "helped"  # the restoration that followed it is its effect, however slow to show
    evidence = [act.seq, *([result.seq] if result else []), *(w.seq for w in (*before[:1], *after[-1:]))]
    return ActionReview(act.seq, str(act.data.get("by", "")), action, node, run.since_fault(act.t_s), ok,
                        str(result.data.get("detail", "")) if result else "", _truth_label(run, action),
                        _round(rate_before), _round(rate_after), nodes_before, nodes_after, verdict,
                        tuple(sorted(set(evidence))), bool(act.data.get("per_node", True)), _round(heading))


def trend_at(windows: Sequence[WindowPoint], node: str | None, t_s: float) -> float | None:
    """Where the error rate before an action was heading at `t_s`: a least-squares line through
    its per-second rates (weighted by requests), clipped to [0, 1]; with fewer than
    MIN_TREND_POINTS seconds, the level alone (two points make a slope out of noise)."""
    points = [(w.start_t_s + SLO_WINDOW_S / 2, rate, weight) for w in windows
              for rate, weight in [_rate_and_weight(w, node)] if weight]
    if not points:
        return None
    total = sum(weight for _, _, weight in points)
    mean_t = sum(t * weight for t, _, weight in points) / total
    mean_rate = sum(rate * weight for _, rate, weight in points) / total
    if len(points) < MIN_TREND_POINTS:
        return mean_rate
    spread = sum(weight * (t - mean_t) ** 2 for t, _, weight in points)
    slope = sum(weight * (t - mean_t) * (rate - mean_rate) for t, rate, weight in points) / spread if spread else 0.0
    return min(1.0, max(0.0, mean_rate + slope * (t_s - mean_t)))


def _rate_and_weight(window: WindowPoint, node: str | None) -> tuple[float, int]:
    requests, failures = (window.requests, window.failures) if node is None else window.nodes.get(node, (0, 0))
    return (failures / requests if requests else 0.0), requests


def _restored_next(act: Event, acts: Sequence[Event], restorations: Sequence[Event]) -> bool:
    """A restoration began within the effect window after this action, before any other action."""
    later = next((a.t_s for a in acts if a.seq > act.seq), None)
    for restoration in restorations:
        started = restoration_time(restoration)
        if restoration.seq > act.seq and started <= act.t_s + ACTION_EFFECT_WINDOW_S + SLO_WINDOW_S:
            return later is None or started <= later
    return False


def _verdict(ok: bool | None, before: float | None, after: float | None, heading: float | None,
             wider: bool) -> str:
    if ok is False:
        return "failed"
    if before is None or after is None:
        return "not_measured"
    expected = before if heading is None else heading
    if after > max(before, expected) + WORSE_MARGIN or (wider and after > min(before, expected)):
        return "worse"
    if after < before - IMPROVE_MARGIN or after < expected - IMPROVE_MARGIN:
        return "helped"
    return "no_effect" if max(before, after) > INCIDENT_LIVE_SHARE else "not_needed"


def _truth_label(run: RunView, action: str) -> str:
    for label in TRUTH_LABELS:
        if action in (run.truth.get(label) or []):
            return label
    return "unlisted"


def _round(rate: float | None) -> float | None:
    return None if rate is None else round(rate, 4)


def mitigation_findings(run: RunView, actions: tuple[ActionReview, ...], span: IncidentSpan | None) -> list[Finding]:
    if run.fault is None or span is None:
        return []
    found = [_canary_first(actions), _made_worse(run, actions), _ineffective(run, actions),
             _fixed_or_masked(run, actions, span)]
    return [f for f in found if f is not None]


def _canary_first(actions: tuple[ActionReview, ...]) -> Finding | None:
    per_node = tuple(a for a in actions if a.per_node)
    if not per_node:
        return None  # nothing that could have been tried on one node first
    unguarded = [a for a in per_node if a.canary is None and not any(
        c.action == a.action and c.canary is not None and c.seq < a.seq for c in per_node)]
    canaried = sorted({a.action for a in per_node if a.canary is not None})
    what = f"canary first for {', '.join(canaried) or 'no action'}"
    if unguarded:
        what += "; straight to every node: " + ", ".join(f"{a.action} (seq {a.seq})" for a in unguarded)
    return Finding(CATEGORY, "canary_first", what, "every per-node action runs on one node before it runs "
                   "everywhere", not unguarded, tuple(a.seq for a in unguarded) or tuple(a.seq for a in per_node))


def _made_worse(run: RunView, actions: tuple[ActionReview, ...]) -> Finding | None:
    if not actions:
        return None
    worse = [a for a in actions if a.verdict == "worse"]
    listed = [f"{a.action} (seq {a.seq}, {run_rate(a.error_rate_before)} -> {run_rate(a.error_rate_after)}, "
              f"failing nodes {len(a.failing_nodes_before)} -> {len(a.failing_nodes_after)})" for a in worse]
    flagged = [a for a in actions if a.truth_label == "worsens" and a.verdict != "worse"]
    what = ("made it worse: " + "; ".join(listed)) if worse else "no action made the error rate or blast radius rise"
    if flagged:
        what += "; the scenario lists " + ", ".join(f"{a.action} (seq {a.seq})" for a in flagged) + " as harmful"
    return Finding(CATEGORY, "made_worse", what, f"no action raises the error rate more than {WORSE_MARGIN * 100:g} "
                   f"points above its trend before it, or widens the failing nodes, within "
                   f"{ACTION_EFFECT_WINDOW_S:g} s",
                   not worse, tuple(s for a in worse for s in a.evidence) or tuple(a.seq for a in actions))


def _ineffective(run: RunView, actions: tuple[ActionReview, ...]) -> Finding | None:
    if not actions:
        return None
    useless = [a for a in actions if a.verdict in ("failed", "no_effect")]
    listed = [f"{a.action} (seq {a.seq}): " + (f"failed: {a.detail}" if a.verdict == "failed" else
              f"error rate {run_rate(a.error_rate_before)} -> {run_rate(a.error_rate_after)}") for a in useless]
    what = ("ineffective: " + "; ".join(listed)) if useless else f"all {len(actions)} action(s) worked or helped"
    return Finding(CATEGORY, "ineffective", what, "every action succeeds and, while the incident is live, brings the "
                   f"error rate more than {IMPROVE_MARGIN * 100:g} points below its trend (or the restoration "
                   "follows it)", not useless,
                   tuple(a.seq for a in useless) or tuple(a.seq for a in actions))


def _fixed_or_masked(run: RunView, actions: tuple[ActionReview, ...], span: IncidentSpan) -> Finding | None:
    restoration = span.restoration
    if restoration is None:
        return None
    target = "the service recovers for good (no relapse after it is restored)"
    before = [a for a in actions if a.seq < restoration.seq and a.ok is not False]
    fixes = [a for a in before if a.truth_label == "fixes"]
    masks = [a for a in before if a.truth_label == "masks" or a.action == "restart"]
    if span.relapse is not None:
        relief = ", ".join(f"{a.action} (seq {a.seq})" for a in (masks or before)) or "no action"
        final = span.final_restoration
        fixed_later = [a for a in actions if final is not None and restoration.seq < a.seq < final.seq
                       and a.truth_label == "fixes" and a.ok is not False]
        if span.restored_for_good_t_s is None:
            ended = "it was still failing when the journal ended"
        elif fixed_later:
            ended = (f"it was fixed for good at {run.at(span.restored_for_good_t_s)} after "
                     + ", ".join(f"{a.action} (seq {a.seq})" for a in fixed_later))
        else:
            ended = "it calmed down at " + run.at(span.restored_for_good_t_s)
        return Finding(CATEGORY, "fixed_not_masked", f"relapsed at {run.at(span.relapse.start_t_s)} after the "
                       f"restoration; {ended}: the symptom was masked ({relief}), not fixed", target, False,
                       (restoration.seq, *span.relapse.evidence))
    if fixes:
        return Finding(CATEGORY, "fixed_not_masked", f"restored after {', '.join(a.action for a in fixes)}, which "
                       "the scenario lists as a fix; no relapse", target, True, (restoration.seq, fixes[0].seq))
    if masks:
        return Finding(CATEGORY, "fixed_not_masked", f"restored after only {', '.join(a.action for a in masks)}, "
                       "which relieve the symptom without fixing it; no relapse seen before the journal ended",
                       target, False, (restoration.seq, *(a.seq for a in masks)))
    return Finding(CATEGORY, "fixed_not_masked", "restored without an action the scenario lists as a fix or a "
                   "mask; no relapse", target, None, (restoration.seq,))


def run_rate(rate: float | None) -> str:
    return "?" if rate is None else f"{rate * 100:.0f} %"
