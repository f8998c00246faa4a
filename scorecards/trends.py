"""Across runs: compare two (what improved, what regressed) and trend a team's phase timings.

Both read the history database only, so they work for runs whose directories are gone.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import date
from typing import Final

from scorecards.history import RunRow, findings_of, get_run, list_runs, phases_of
from scorecards.phases import PHASE_RULES

PHASES: Final = tuple(rule.phase for rule in PHASE_RULES)
SAME_WITHIN_S: Final = 0.5  # timings this close are "same": a drill's own jitter, not a change of skill


@dataclass(frozen=True)
class Change:
    what: str  # a phase, a finding name or "grade"
    before: str
    after: str
    verdict: str  # improved, regressed, same


@dataclass(frozen=True)
class Comparison:
    a: RunRow
    b: RunRow
    changes: tuple[Change, ...]

    @property
    def improved(self) -> tuple[Change, ...]:
        return tuple(c for c in self.changes if c.verdict == "improved")

    @property
    def regressed(self) -> tuple[Change, ...]:
        return tuple(c for c in self.changes if c.verdict == "regressed")


@dataclass(frozen=True)
class Trend:
    team: str
    scenario: str | None
    runs: tuple[RunRow, ...]
    phases: tuple[str, ...]
    seconds: tuple[tuple[float | None, ...], ...]  # one row per run, one column per phase


def compare(db: sqlite3.Connection, ref_a: str, ref_b: str) -> Comparison:
    """B against A: a phase that got faster (or now happens) improved; a finding that now passes improved."""
    a, b = get_run(db, ref_a), get_run(db, ref_b)
    timings = phases_of(db, [a.run_id, b.run_id])
    changes = [_phase_change(phase, timings[a.run_id].get(phase, (None, None))[0],
                             timings[b.run_id].get(phase, (None, None))[0]) for phase in PHASES]
    found_a, found_b = findings_of(db, a.run_id), findings_of(db, b.run_id)
    for name in sorted(set(found_a) | set(found_b)):
        before, after = found_a.get(name, ("", None, ""))[1], found_b.get(name, ("", None, ""))[1]
        if name not in PHASES and before is not None and after is not None:
            changes.append(Change(name, _verdict_word(before), _verdict_word(after),
                                  "same" if before == after else ("improved" if after else "regressed")))
    changes.append(_grade_change(a, b))
    return Comparison(a, b, tuple(changes))


def _phase_change(phase: str, before: float | None, after: float | None) -> Change:
    shown = (_secs(before), _secs(after))
    if before is None and after is None:
        return Change(phase, *shown, "same")
    if before is None or after is None:
        return Change(phase, *shown, "improved" if before is None else "regressed")
    if abs(after - before) <= SAME_WITHIN_S:
        return Change(phase, *shown, "same")
    return Change(phase, *shown, "improved" if after < before else "regressed")


def _grade_change(a: RunRow, b: RunRow) -> Change:
    before, after = a.grade_score, b.grade_score
    verdict = "same" if before is None or after is None or before == after else (
        "improved" if after > before else "regressed")
    return Change("grade", f"{a.grade_letter} ({before})", f"{b.grade_letter} ({after})", verdict)


def trend(db: sqlite3.Connection, team: str, scenario: str | None = None, since: date | None = None) -> Trend:
    runs = tuple(list_runs(db, team=team, scenario=scenario, since=since))
    timings = phases_of(db, [r.run_id for r in runs])
    rows = tuple(tuple(timings[r.run_id].get(phase, (None, None))[0] for phase in PHASES) for r in runs)
    return Trend(team, scenario, runs, PHASES, rows)


def _secs(value: float | None) -> str:
    return "never" if value is None else f"{value:.1f} s"


def _verdict_word(passed: bool) -> str:
    return "pass" if passed else "FAIL"
