"""Did a drill hold its targets? And if not, why, in words a person reads once and understands.

Pure: a scorecard and the run's journal in, a verdict and text out. A drill passes when it
was resolved and nothing in the scorecard failed against a target: no phase, no update
cadence, no finding. The explanation lists each miss with its journal evidence, then what
the runbook actually did and what the scenario's ground truth says would have worked.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

from harness.timeline import Event
from scorecards import PhaseTiming, Scorecard

# phase -> (what happened, what it says when it never happened)
_PHASE_WORDS: Final[Mapping[str, tuple[str, str]]] = {
    "detect": ("the first alert fired", "no alert fired"),
    "acknowledge": ("acknowledged", "never acknowledged"),
    "declare": ("declared", "never declared"),
    "first_update": ("first status update", "no status update was posted"),
    "mitigate": ("service restored", "service was never restored"),
    "resolve": ("resolved", "never resolved"),
}
_EFFECT_WORDS: Final[Mapping[str, str]] = {"helped": "it helped", "worse": "it made things worse",
                                            "no_effect": "no effect"}
CADENCE: Final = "update_cadence"
# Findings that restate a phase or the cadence under another name: listed once, as the phase.
_RESTATES: Final[Mapping[str, str]] = {"declaration": "declare", "restoration": "mitigate"}


@dataclass(frozen=True)
class Verdict:
    misses: tuple[str, ...]  # one line per missed target: what happened, the target, the evidence
    ended_badly: str | None = None  # how the drill ended, when it was not resolved

    @property
    def passed(self) -> bool:
        return not self.misses and self.ended_badly is None


def judge(card: Scorecard, outcome: str, reason: str) -> Verdict:
    missed_phases = [t for t in card.phases if t.passed is False]
    misses = [_phase_miss(t) for t in missed_phases]
    covered = {t.phase for t in missed_phases}
    if card.cadence.passed is False:
        misses.append(_cadence_miss(card))
        covered.add(CADENCE)
    misses += [_finding_miss(f.name, f.what_happened, f.target, f.evidence) for f in card.findings
               if f.passed is False and f.name not in covered and _RESTATES.get(f.name) not in covered]
    ended_badly = None if outcome == "resolved" else f"the drill ended {outcome}: {reason}"
    return Verdict(tuple(misses), ended_badly)


def explain(drill: str, verdict: Verdict, card: Scorecard, events: Sequence[Event]) -> list[str]:
    """The failure report: the misses, then the runbook's actions and the ground truth."""
    count = len(verdict.misses)
    head = f"drill {drill} missed {count} target{'s' if count != 1 else ''}" if count else f"drill {drill} failed"
    ended = [verdict.ended_badly] if verdict.ended_badly else []
    lines = [head + ":", *(f"  - {line}" for line in (*ended, *verdict.misses))]
    lines += ["what the runbook did after the fault:", *(f"  - {act}" for act in runbook_actions(card))]
    truth = ground_truth(events)
    if truth:
        lines.append(f"the scenario's ground truth: {truth}")
    return lines


def runbook_actions(card: Scorecard) -> list[str]:
    """Each mitigation the team asked for after the fault, what it did, and what it did to the errors."""
    lines = []
    for act in card.actions:
        when = "before the fault" if act.seconds_from_fault is None else f"fault + {act.seconds_from_fault:.1f} s"
        where = f"on {act.canary} (canary)" if act.canary else "on every node"
        did = act.detail if act.ok is not False else f"FAILED: {act.detail}"
        effect = _EFFECT_WORDS.get(act.verdict)
        if effect and act.error_rate_before is not None and act.error_rate_after is not None:
            effect += f" (errors {act.error_rate_before:.0%} -> {act.error_rate_after:.0%})"
        lines.append(f"{when}: {act.action} {where}: {did}" + (f"; {effect}" if effect else "")
                     + f" (seq {act.seq})")
    return lines or ["no mitigation at all (no act step ran after the fault)"]


def ground_truth(events: Sequence[Event]) -> str:
    planned = next((e for e in events if e.kind == "run.planned"), None)
    truth: Any = planned.data.get("truth") if planned is not None else None
    if not isinstance(truth, Mapping):
        return ""
    parts = [f"{label} {', '.join(truth[key])}" for key, label in
             (("fixes", "fixed by"), ("masks", "only masked by"), ("worsens", "made worse by")) if truth.get(key)]
    trigger = truth.get("trigger")
    if isinstance(trigger, Mapping) and trigger.get("kind"):
        parts.insert(0, f"triggered by {trigger['kind']} {trigger.get('version') or ''}".rstrip())
    return "; ".join(parts)


def _phase_miss(timing: PhaseTiming) -> str:
    happened, never = _PHASE_WORDS.get(timing.phase, (timing.phase.replace("_", " "), "never happened"))
    target = f"target {timing.target_s:g} s"
    evidence = _seq(timing.evidence)
    if timing.seconds_from_fault is None:
        return f"{timing.phase}: {never}, {target}{evidence}"
    return f"{timing.phase}: {happened} {timing.seconds_from_fault:.1f} s after the fault, {target}{evidence}"


def _cadence_miss(card: Scorecard) -> str:
    cadence = card.cadence
    target = f"target an update at least every {cadence.target_s:g} s"
    if cadence.longest_gap_s is None:
        return f"update cadence: no status update and no declaration, {target}"
    return (f"update cadence: {cadence.longest_gap_s:.1f} s without a status update, {target}"
            f"{_seq(cadence.evidence)}")


def _finding_miss(name: str, what: str, target: str | None, evidence: tuple[int, ...]) -> str:
    return f"{name}: {what}" + (f", target: {target}" if target else "") + _seq(evidence)


def _seq(evidence: tuple[int, ...]) -> str:
    return f" (journal seq {', '.join(str(s) for s in evidence)})" if evidence else ""
