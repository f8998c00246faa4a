"""The overall grade: built only from the findings, with the weights in one table.

Each part scores the share of its findings that passed (notes, `passed` None, do not
count). A part with nothing to check is left out and the others are scaled up, so a
drill without escalation is not punished for it. Score 0-100; letters from LETTERS.

A run the harness did not finish gets no grade: its parts are still computed and shown,
but a letter would rank a drill cut short against finished ones.

A drill that never restored service, or was aborted, cannot pass: its score is scaled into
the F band (x FAILED_SCALE, so a better response still scores higher) and the letter is F.
The `outcome` finding says why.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from types import MappingProxyType
from typing import Final

from scorecards.model import Finding, Grade, GradePart

# The grade's recipe, visible in one place: part -> weight (they add up to 100).
WEIGHTS: Final[Mapping[str, float]] = MappingProxyType({
    "response": 20,  # phase timings against the drill's targets
    "communication": 15,  # first update, cadence, content, promises kept
    "roles": 10,  # commander, comms, scribe; one commander; hands off the keyboard
    "severity": 10,  # declared vs measured
    "diagnosis": 15,  # trigger and scope vs the ground truth
    "mitigation": 15,  # canary first, nothing made worse or wasted, fixed not masked
    "impact": 10,  # error budget burnt
    "escalation": 5,  # told others in time once the impact was clear
})
LETTERS: Final = ((90.0, "A"), (80.0, "B"), (70.0, "C"), (60.0, "D"), (0.0, "F"))  # lowest score for each
# Never restored or aborted: at most 40, an F however good the rest, and below where a response
# that did restore service tends to land even when it was sloppy (restoring it is the point).
FAILED_SCALE: Final = 0.4
NO_LETTER: Final = "-"
WITHHELD_INCOMPLETE: Final = ("incomplete run: the harness stopped before run.finished, so what the team did "
                              "after the journal ends is unknown")


def grade(findings: Iterable[Finding], complete: bool = True, failed_outcome: str | None = None) -> Grade:
    """`failed_outcome`: why the drill cannot pass (never restored, aborted), or None."""
    by_part: dict[str, list[Finding]] = {part: [] for part in WEIGHTS}
    for finding in findings:
        if finding.category in by_part and finding.passed is not None:
            by_part[finding.category].append(finding)
    parts = tuple(_part(name, weight, by_part[name]) for name, weight in WEIGHTS.items())
    if not complete:
        return Grade(None, NO_LETTER, parts, WITHHELD_INCOMPLETE)
    scored = [p for p in parts if p.score is not None]
    total_weight = sum(p.weight for p in scored)
    if not total_weight:
        return Grade(None, NO_LETTER, parts, None)
    score = 100 * sum(p.weight * (p.score or 0.0) for p in scored) / total_weight
    if failed_outcome is not None:
        return Grade(round(score * FAILED_SCALE, 1), "F", parts, None)
    return Grade(round(score, 1), letter(round(score, 1)), parts, None)


def _part(name: str, weight: float, checks: list[Finding]) -> GradePart:
    passed = sum(1 for f in checks if f.passed)
    return GradePart(name, float(weight), len(checks), passed, round(passed / len(checks), 4) if checks else None)


def letter(score: float) -> str:
    return next(mark for floor, mark in LETTERS if score >= floor)
