"""How figures read, shared by every renderer (Markdown, HTML, postmortem, terminal)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Final

from scorecards.model import (
    PHASE_NEVER,
    PHASE_NO_FAULT,
    PHASE_NOT_REACHED,
    PHASE_OVERDUE,
    Grade,
    PhaseTiming,
    Scorecard,
)

PHASE_LABELS: Final = {
    "detect": "detect (first alert)",
    "acknowledge": "acknowledge",
    "declare": "declare",
    "first_update": "first status update",
    "mitigate": "mitigate (service restored)",
    "resolve": "resolve",
}


def phase_label(phase: str) -> str:
    return PHASE_LABELS.get(phase, phase.replace("_", " "))


def part_title(part: str) -> str:
    return part.replace("_", " ").capitalize()


def when(card: Scorecard, value: float | None) -> str:
    """A time from the fault: '—' when there was no fault, 'never' when the phase never came."""
    if value is None:
        return "—" if card.fault_t_s is None else "never"
    return seconds(value)


# A phase missing from the journal, by PhaseTiming.status.
PHASE_MISSING: Final = {
    PHASE_NEVER: "never",
    PHASE_OVERDUE: "not done when the harness stopped (overdue)",
    PHASE_NOT_REACHED: "not reached (harness stopped)",
    PHASE_NO_FAULT: "—",
}


def phase_time(timing: PhaseTiming) -> str:
    """The phase's time from the fault, or why there is none; restorations that relapsed are
    shown as masked, never as the phase's time."""
    shown = (seconds(timing.seconds_from_fault) if timing.seconds_from_fault is not None
             else PHASE_MISSING.get(timing.status, "never"))
    if timing.masked_s:
        shown += " (masked at " + ", ".join(seconds(t) for t in timing.masked_s) + ")"
    return shown


def grade_text(grade: Grade) -> str:
    """'B (84.5 / 100)', 'withheld (incomplete run)' or '- (nothing could be graded)'."""
    if grade.withheld:
        return "withheld (incomplete run)"
    if grade.score is None:
        return f"{grade.letter} (nothing could be graded)"
    return f"{grade.letter} ({grade.score:g} / 100)"


def seconds(value: float | None) -> str:
    return "?" if value is None else f"{round(value, 1):g} s"


def target_s(target: float | None) -> str:
    return "—" if target is None else f"≤ {target:g} s"


def result(passed: bool | None, bold: bool = False, none: str = "—") -> str:
    if passed is None:
        return none
    if passed:
        return "pass"
    return "**FAIL**" if bold else "FAIL"


def seq_list(seqs: Iterable[int]) -> str:
    listed = ", ".join(str(seq) for seq in seqs)
    return f"seq {listed}" if listed else "—"


def percent(rate: float | None) -> str:
    return "—" if rate is None else f"{rate * 100:.1f} %"


def ms(value: float | None) -> str:
    return "—" if value is None else f"{value:g} ms"


def clock(wall: str | None) -> str:
    """'2024-05-01T12:00:03.123456Z' -> '12:00:03' (the timeline is to the second)."""
    return "--:--:--" if not wall else wall[11:19]


def offset(card: Scorecard, t_s: float) -> str:
    """'+12 s' / '-3 s' from the fault, to the second."""
    if card.fault_t_s is None:
        return f"t {t_s:.0f} s"
    delta = t_s - card.fault_t_s
    return f"{'+' if delta >= 0 else '-'}{abs(delta):.0f} s"
