"""Scorecard -> Markdown (for a review doc) and a few plain lines (for the terminal).

Pure functions: a scorecard in, text out; they never print, read or write files.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Final

from scorecards.counterfactual import Outcome, markdown_lines
from scorecards.fmt import (
    grade_text,
    ms,
    part_title,
    percent,
    phase_label,
    phase_time,
    result,
    seconds,
    seq_list,
    target_s,
    when,
)
from scorecards.grade import WEIGHTS
from scorecards.impact import load_lines
from scorecards.model import ActionReview, Finding, Impact, Scorecard

CADENCE_LABEL: Final = "longest gap between updates"


def render_markdown(card: Scorecard, counterfactual: Outcome | None = None) -> str:
    lines = [f"# Scorecard: {card.drill or 'unnamed drill'}", ""]
    if not card.complete:
        lines += [f"> **Incomplete run** (outcome: {card.outcome}): the journal has no `run.finished`; the "
                  "harness stopped before the drill ended. Phases it had not reached are marked *not reached*, "
                  "not missed, and the grade is withheld.", ""]
    fault = "no fault injected" if card.fault_t_s is None else f"fault injected at t = {seconds(card.fault_t_s)}"
    lines += [f"Run `{card.run_id}` · scenario `{card.scenario or '?'}` · team {card.team.name or '?'} · "
              f"outcome **{card.outcome}** · {fault}", ""]
    if card.grade.withheld:
        lines += [f"**Grade: withheld** ({card.grade.withheld}); its parts are below.", ""]
    else:
        lines += [f"**Grade: {grade_text(card.grade)}**", ""]
    lines += ["## Phases", "", "| phase | time from fault | target | result | evidence |", "|---|---|---|---|---|"]
    lines += [_row(phase_label(t.phase), phase_time(t), target_s(t.target_s),
                   result(t.passed, bold=True), seq_list(t.evidence)) for t in card.phases]
    cadence = card.cadence
    lines += [_row(CADENCE_LABEL, when(card, cadence.longest_gap_s), target_s(cadence.target_s),
                   result(cadence.passed, bold=True), seq_list(cadence.evidence)), ""]
    lines += ["## Impact", "", *_impact_lines(card.impact), ""]
    if counterfactual is not None:
        lines += markdown_lines(counterfactual)
    if card.actions:
        lines += ["## Actions", "", "| seq | by | action | where | result | error rate before → after | verdict "
                  "| ground truth |", "|---|---|---|---|---|---|---|---|"]
        lines += [_action_row(a) for a in card.actions] + [""]
    lines += ["## Findings", ""]
    for part in [*WEIGHTS, "run"]:
        found = [f for f in card.findings if f.category == part and part != "response"]
        if found:
            lines += [f"### {part_title(part)}", "", *(_finding_line(f) for f in found), ""]
    lines += ["## Grade", "", "| part | weight | checks passed | score |", "|---|---|---|---|"]
    lines += [_row(part_title(p.part), f"{p.weight:g}", f"{p.passed} of {p.checks}",
                   "—" if p.score is None else f"{p.score * 100:.0f} %") for p in card.grade.parts]
    lines += ["", "Parts with no checks are left out and the others scaled up (weights: `scorecards/grade.py`)."]
    if card.action_items:
        lines += ["", "## Action items", ""] + [f"- [ ] {item.text} ({item.why})" for item in card.action_items]
    return "\n".join(lines) + "\n"


def render_summary(card: Scorecard) -> list[str]:
    """Short lines for the terminal: grade, one per phase, then impact and the failed findings."""
    head = f"scorecard {card.drill or '?'} · run {card.run_id} · outcome {card.outcome}"
    lines = [head if card.complete else f"{head} · INCOMPLETE (no run.finished)"]
    score = f" ({card.grade.score:g})" if card.grade.score is not None else ""
    lines.append(f"  grade {grade_text(card.grade) if card.grade.withheld else card.grade.letter + score}")
    width = max([len(CADENCE_LABEL), *(len(phase_label(t.phase)) for t in card.phases)])
    for timing in card.phases:
        lines.append(f"  {phase_label(timing.phase):<{width}}  {phase_time(timing):>9}  "
                     f"target {target_s(timing.target_s):<9} {result(timing.passed)}")
    cadence = card.cadence
    lines.append(f"  {CADENCE_LABEL:<{width}}  {when(card, cadence.longest_gap_s):>9}  "
                 f"target {target_s(cadence.target_s):<9} {result(cadence.passed)}")
    failed = [f.name for f in card.findings if f.passed is False and f.category != "response"]
    if failed:
        lines.append(f"  failed findings: {', '.join(failed)}")
    impact = card.impact
    if impact.start_t_s is not None:
        lines.append(f"  failed requests {impact.failed_requests} of {impact.total_requests}"
                     f" ({percent(impact.error_rate)}), peak error rate {percent(impact.peak_error_rate)},"
                     f" p99 max {ms(impact.p99_max_ms)}")
        lines += [f"  {line}" for line in load_lines(impact)]
    return lines


def _impact_lines(impact: Impact) -> list[str]:
    if impact.start_t_s is None:
        return ["- no fault was injected: no incident to measure"]
    until = "the restoration" if impact.restored else "the end of the journal (not healthy at the end)"
    span = f"t = {seconds(impact.start_t_s)} → {seconds(impact.end_t_s)}"
    return [f"- failed requests: **{impact.failed_requests}** of {impact.total_requests} "
            f"({percent(impact.error_rate)}), from the fault to {until} ({span}, {impact.windows} one-second windows)",
            f"- peak error rate: {percent(impact.peak_error_rate)} over {impact.peak_window_s:g} s",
            f"- worst p99 latency in a second: {ms(impact.p99_max_ms)}",
            f"- error budget: {impact.error_budget_minutes:g} min of full outage "
            f"({impact.error_budget_share * 100:.2f} % of a month's budget)",
            *[f"- {line}" for line in load_lines(impact)],
            f"- evidence: {seq_list(impact.evidence)}"]


def _action_row(action: ActionReview) -> str:
    where = f"canary {action.canary}" if action.canary else "every node"
    done = {True: "ok", False: "FAILED", None: "?"}[action.ok]
    rates = f"{percent(action.error_rate_before)} → {percent(action.error_rate_after)}"
    return _row(str(action.seq), action.by, action.action, where, done, rates, action.verdict.replace("_", " "),
                action.truth_label)


def _finding_line(finding: Finding) -> str:
    line = f"- {result(finding.passed, bold=True, none='note')} `{finding.name}`: {finding.what_happened}."
    if finding.target is not None:
        line += f" Target: {finding.target}."
    if finding.evidence:
        line += f" Evidence: {seq_list(finding.evidence)}."
    return line


def _row(*cells: Iterable[str] | str) -> str:
    return "| " + " | ".join(str(cell).replace("|", "\\|") for cell in cells) + " |"
