"""How figures read, shared by every renderer (Markdown, HTML, postmortem, terminal)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Final

from scorecards.model import Scorecard

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
