"""Scorecard -> Markdown (for a review doc) and a few plain lines (for the terminal).

Pure functions: a scorecard in, text out; they never print, read or write files.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Final

from scorecards.model import Finding, Impact, PhaseTiming, Scorecard, UpdateCadence

_PHASE_LABELS: Final = {
    "detect": "detect (first alert)",
    "acknowledge": "acknowledge",
    "declare": "declare",
    "first_update": "first status update",
    "mitigate": "mitigate (service restored)",
    "resolve": "resolve",
}
_CADENCE_LABEL: Final = "longest gap between updates"


def render_markdown(card: Scorecard) -> str:
    lines = [f"# Scorecard: {card.drill or 'unnamed drill'}", ""]
    if not card.complete:
        lines += [f"> **Incomplete run** (outcome: {card.outcome}): the journal has no `run.finished`. "
                  "Phases after its last event are missing, not slow.", ""]
    fault = "no fault injected" if card.fault_t_s is None else f"fault injected at t = {_seconds(card.fault_t_s)}"
    lines += [f"Run `{card.run_id}` · scenario `{card.scenario or '?'}` · outcome **{card.outcome}** · {fault}", ""]
    lines += ["## Phases", "", "| phase | time from fault | target | result | evidence |",
              "|---|---|---|---|---|"]
    lines += [_phase_row(card, timing) for timing in card.phases]
    lines += [_cadence_row(card, card.cadence), ""]
    lines += ["## Impact", "", *_impact_lines(card.impact), ""]
    lines += ["## Findings", ""]
    lines += [_finding_line(finding) for finding in card.findings] or ["- nothing to report"]
    return "\n".join(lines) + "\n"


def render_summary(card: Scorecard) -> list[str]:
    """Short lines for the terminal: one per phase, then impact and the failed findings."""
    head = f"scorecard {card.drill or '?'} · run {card.run_id} · outcome {card.outcome}"
    lines = [head if card.complete else f"{head} · INCOMPLETE (no run.finished)"]
    width = max([len(_CADENCE_LABEL), *(len(_label(t.phase)) for t in card.phases)])
    for timing in card.phases:
        lines.append(f"  {_label(timing.phase):<{width}}  {_when(card, timing.seconds_from_fault):>9}  "
                     f"target {_target(timing.target_s):<9} {_result(timing.passed)}")
    cadence = card.cadence
    lines.append(f"  {_CADENCE_LABEL:<{width}}  {_when(card, cadence.longest_gap_s):>9}  "
                 f"target {_target(cadence.target_s):<9} {_result(cadence.passed)}")
    impact = card.impact
    if impact.start_t_s is not None:
        lines.append(f"  failed requests {impact.failed_requests} of {impact.total_requests}"
                     f" ({_percent(impact.error_rate)}), peak error rate {_percent(impact.peak_error_rate)},"
                     f" p99 max {_ms(impact.p99_max_ms)}")
    failed = [f.name for f in card.findings if f.passed is False]
    if failed:
        lines.append(f"  failed findings: {', '.join(failed)}")
    return lines


def _phase_row(card: Scorecard, timing: PhaseTiming) -> str:
    return _row(_label(timing.phase), _when(card, timing.seconds_from_fault), _target(timing.target_s),
                _result(timing.passed, bold=True), _evidence(timing.evidence))


def _cadence_row(card: Scorecard, cadence: UpdateCadence) -> str:
    return _row(_CADENCE_LABEL, _when(card, cadence.longest_gap_s), _target(cadence.target_s),
                _result(cadence.passed, bold=True), _evidence(cadence.evidence))


def _impact_lines(impact: Impact) -> list[str]:
    if impact.start_t_s is None:
        return ["- no fault was injected: no incident to measure"]
    until = "the restoration" if impact.restored else "the end of the journal (never restored)"
    span = f"t = {_seconds(impact.start_t_s)} → {_seconds(impact.end_t_s)}"
    return [f"- failed requests: **{impact.failed_requests}** of {impact.total_requests} "
            f"({_percent(impact.error_rate)}), from the fault to {until} ({span}, {impact.windows} one-second windows)",
            f"- peak error rate: {_percent(impact.peak_error_rate)} over {impact.peak_window_s:g} s",
            f"- worst p99 latency in a second: {_ms(impact.p99_max_ms)}",
            f"- evidence: {_evidence(impact.evidence)}"]


def _finding_line(finding: Finding) -> str:
    line = f"- {_result(finding.passed, bold=True, none='note')} `{finding.name}`: {finding.what_happened}."
    if finding.target is not None:
        line += f" Target: {finding.target}."
    if finding.evidence:
        line += f" Evidence: {_evidence(finding.evidence)}."
    return line


def _row(*cells: str) -> str:
    return "| " + " | ".join(cell.replace("|", "\\|") for cell in cells) + " |"


def _label(phase: str) -> str:
    return _PHASE_LABELS.get(phase, phase.replace("_", " "))


def _when(card: Scorecard, seconds: float | None) -> str:
    if seconds is None:
        return "—" if card.fault_t_s is None else "never"
    return _seconds(seconds)


def _seconds(seconds: float | None) -> str:
    return "?" if seconds is None else f"{round(seconds, 1):g} s"


def _target(target_s: float | None) -> str:
    return "—" if target_s is None else f"≤ {target_s:g} s"


def _result(passed: bool | None, bold: bool = False, none: str = "—") -> str:
    if passed is None:
        return none
    if passed:
        return "pass"
    return "**FAIL**" if bold else "FAIL"


def _evidence(seqs: Iterable[int]) -> str:
    listed = ", ".join(str(seq) for seq in seqs)
    return f"seq {listed}" if listed else "—"


def _percent(rate: float | None) -> str:
    return "—" if rate is None else f"{rate * 100:.1f} %"


def _ms(value: float | None) -> str:
    return "—" if value is None else f"{value:g} ms"
