"""Across runs: compare two (what improved, what regressed) and trend a team's phase timings.

Both read the history database only, so they work for runs whose directories are gone.

A run the harness did not finish (`complete` false) says nothing about what the team did
after its journal ends. The trend leaves such runs out unless asked, and counts them;
a comparison with one leaves out, and counts, the changes it cannot vouch for: a phase
the run had not reached, a finding it fails (maybe only for want of time), the grade.
"""

from __future__ import annotations

import dataclasses
import sqlite3
from dataclasses import dataclass
from datetime import date
from typing import Final

from scorecards.history import HistoryError, RunRow, findings_of, get_run, list_runs, masked_of, phases_of
from scorecards.phases import MITIGATE, PHASE_RULES

PHASES: Final = tuple(rule.phase for rule in PHASE_RULES)
SAME_WITHIN_S: Final = 0.5  # timings this close are "same": a drill's own jitter, not a change of skill
LEFT_OUT: Final = "left out"  # a verdict an incomplete run cannot support
NOT_REACHED: Final = "not reached"


@dataclass(frozen=True)
class Change:
    what: str  # a phase, a finding name or "grade"
    before: str
    after: str
    verdict: str  # improved, regressed, same, or LEFT_OUT (an incomplete run cannot support one)


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

    @property
    def left_out(self) -> tuple[Change, ...]:
        return tuple(c for c in self.changes if c.verdict == LEFT_OUT)

    @property
    def incomplete(self) -> tuple[RunRow, ...]:
        return tuple(run for run in (self.a, self.b) if not run.complete)


@dataclass(frozen=True)
class Trend:
    team: str
    scenario: str | None
    runs: tuple[RunRow, ...]
    phases: tuple[str, ...]
    seconds: tuple[tuple[float | None, ...], ...]  # one row per run, one column per phase
    reached: tuple[tuple[bool, ...], ...] = ()  # like `seconds`: False where an incomplete run had not got there
    left_out: int = 0  # incomplete runs that matched but are not in `runs`
    masked: tuple[str, ...] = ()  # runs whose service was restored, relapsed, then mitigated for good


class DifferentScenarios(HistoryError):
    """Two runs of different scenarios: their timings and findings measure different incidents."""


def compare(db: sqlite3.Connection, ref_a: str, ref_b: str, force: bool = False) -> Comparison:
    """B against A: a phase that got faster (or now happens) improved; a finding that now passes improved.

    Runs of different scenarios are refused unless `force`: a faster fix of an easier fault is
    not an improvement, and "improved" would teach the wrong lesson."""
    a, b = get_run(db, ref_a), get_run(db, ref_b)
    if a.scenario != b.scenario and not force:
        raise DifferentScenarios(
            f"{a.run_id} is scenario {a.scenario!r} and {b.run_id} is {b.scenario!r}: different incidents, so "
            "faster or slower says nothing about the team (compare runs of one scenario, or pass --force)")
    timings = phases_of(db, [a.run_id, b.run_id])
    masked = masked_of(db, [a.run_id, b.run_id])
    changes = [_phase_change(phase, _timing(a, timings[a.run_id].get(phase)), _timing(b, timings[b.run_id].get(phase)))
               for phase in PHASES]
    changes = [_with_masked(c, masked.get(a.run_id, ()), masked.get(b.run_id, ())) if c.what == MITIGATE else c
               for c in changes]
    found_a, found_b = findings_of(db, a.run_id), findings_of(db, b.run_id)
    for name in sorted(set(found_a) | set(found_b)):
        before, after = found_a.get(name, ("", None, ""))[1], found_b.get(name, ("", None, ""))[1]
        if name in PHASES:
            continue
        if before is not None and after is not None:
            changes.append(_finding_change(name, (a, before), (b, after)))
        elif (before is None and not a.complete and after is not None) or (
                after is None and not b.complete and before is not None):  # judged in one, unjudged in the other
            changes.append(Change(name, _verdict_word(before), _verdict_word(after), LEFT_OUT))
    changes.append(_grade_change(a, b))
    return Comparison(a, b, tuple(changes))


def _timing(run: RunRow, stored: tuple[float | None, bool | None] | None) -> float | str | None:
    """Seconds; None: never; NOT_REACHED: an incomplete run that had not got there (nor was it overdue)."""
    seconds, passed = stored or (None, None)
    return seconds if seconds is not None or run.complete or passed is False else NOT_REACHED


def _finding_change(name: str, a: tuple[RunRow, bool], b: tuple[RunRow, bool]) -> Change:
    (run_a, before), (run_b, after) = a, b
    shown = (_verdict_word(before), _verdict_word(after))
    if before == after:
        return Change(name, *shown, "same")
    worse_run = run_b if before else run_a  # the run that fails it
    if not worse_run.complete:  # a failure there may be something it had no time to do
        return Change(name, *shown, LEFT_OUT)
    return Change(name, *shown, "improved" if after else "regressed")


def _phase_change(phase: str, before: float | str | None, after: float | str | None) -> Change:
    shown = (_secs(before), _secs(after))
    if isinstance(before, str) or isinstance(after, str):  # not reached: no verdict either way
        return Change(phase, *shown, LEFT_OUT)
    if before is None and after is None:
        return Change(phase, *shown, "same")
    if before is None or after is None:
        return Change(phase, *shown, "improved" if before is None else "regressed")
    if abs(after - before) <= SAME_WITHIN_S:
        return Change(phase, *shown, "same")
    return Change(phase, *shown, "improved" if after < before else "regressed")


def _with_masked(change: Change, before: tuple[float, ...], after: tuple[float, ...]) -> Change:
    """The mitigation's time is the restoration that held; say where an earlier one relapsed."""
    def note(shown: str, masked: tuple[float, ...]) -> str:
        return shown + (" (masked at " + ", ".join(f"{t:.1f} s" for t in masked) + ")" if masked else "")
    return dataclasses.replace(change, before=note(change.before, before), after=note(change.after, after))


def _grade_change(a: RunRow, b: RunRow) -> Change:
    before, after = a.grade_score, b.grade_score
    shown = (_grade_word(a), _grade_word(b))
    if not a.complete or not b.complete:
        return Change("grade", *shown, LEFT_OUT)
    verdict = "same" if before is None or after is None or before == after else (
        "improved" if after > before else "regressed")
    return Change("grade", *shown, verdict)


def _grade_word(run: RunRow) -> str:
    return f"{run.grade_letter} ({run.grade_score})" if run.complete else "withheld (incomplete)"


def trend(db: sqlite3.Connection, team: str, scenario: str | None = None, since: date | None = None,
          include_incomplete: bool = False) -> Trend:
    """The team's runs oldest first; incomplete ones only with `include_incomplete` (else counted in `left_out`)."""
    matched = list_runs(db, team=team, scenario=scenario, since=since)
    runs = tuple(r for r in matched if include_incomplete or r.complete)
    timings = phases_of(db, [r.run_id for r in runs])
    cells = [[_timing(r, timings[r.run_id].get(phase)) for phase in PHASES] for r in runs]
    rows = tuple(tuple(None if isinstance(v, str) else v for v in row) for row in cells)
    reached = tuple(tuple(not isinstance(v, str) for v in row) for row in cells)
    masked = masked_of(db, [r.run_id for r in runs])
    return Trend(team, scenario, runs, PHASES, rows, reached, len(matched) - len(runs),
                 tuple(r.run_id for r in runs if r.run_id in masked))


def _secs(value: float | str | None) -> str:
    if isinstance(value, str):
        return value
    return "never" if value is None else f"{value:.1f} s"


def _verdict_word(passed: bool | None) -> str:
    if passed is None:
        return NOT_REACHED
    return "pass" if passed else "FAIL"
