"""Readiness: who has practised which duty on which kind of incident, and what to drill next.

From the history alone: for the runs of a team (its name or any member), each person's
duties (led as commander, ran comms, kept the timeline as scribe, operated the toolkit) per
incident family (scorecards.families), with a count and the last date. The suggestion is the
family the team has practised least (fewest person-duty pairs covered, then the longest
ago), a scenario of that family, and a roster that gives each key duty to the person who has
held it least there.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final

from scorecards.families import FAMILIES
from scorecards.history import OPERATOR

DUTIES: Final = ("commander", "comms", "scribe", OPERATOR)
KEY_DUTIES: Final = ("commander", "comms", OPERATOR)  # what the suggested roster fills


@dataclass(frozen=True)
class Practice:
    count: int
    last: str | None  # the date (UTC) of the latest run, "YYYY-MM-DD"


@dataclass(frozen=True)
class Suggestion:
    family: str
    scenario: str | None  # a scenario of that family, None when the catalogue has none
    roster: Mapping[str, str]  # duty -> person
    why: str


@dataclass(frozen=True)
class Readiness:
    team: str | None
    runs: int
    people: tuple[str, ...]
    families: tuple[str, ...]
    practice: Mapping[tuple[str, str, str], Practice]  # (person, duty, family)
    suggestion: Suggestion | None

    def of(self, person: str, duty: str, family: str) -> Practice:
        return self.practice.get((person, duty, family), Practice(0, None))


def readiness(db: sqlite3.Connection, team: str | None = None,
              catalogue: Mapping[str, str] | None = None) -> Readiness:
    """`catalogue`: scenario name -> family, for scenarios not yet run (the built-in ones)."""
    runs = _team_runs(db, team)
    marks = ",".join("?" * len(runs))
    people = sorted({m for (m,) in db.execute(f"SELECT DISTINCT member FROM members WHERE run_id IN ({marks})",
                                              runs)}) if runs else []
    practice: dict[tuple[str, str, str], Practice] = {}
    rows = db.execute(f"SELECT d.person, d.duty, f.family, COUNT(*), MAX(r.started_wall) FROM duties d "
                      f"JOIN families f ON f.run_id = d.run_id JOIN runs r ON r.run_id = d.run_id "
                      f"WHERE d.run_id IN ({marks}) GROUP BY d.person, d.duty, f.family", runs) if runs else []
    for person, duty, family, count, last in rows:
        practice[(person, duty, family)] = Practice(int(count), (last or "")[:10] or None)
    people = sorted(set(people) | {person for person, _, _ in practice})
    scenarios = dict(catalogue or {})
    for scenario, family in db.execute(f"SELECT r.scenario, f.family FROM runs r JOIN families f ON "
                                       f"f.run_id = r.run_id WHERE r.run_id IN ({marks})", runs) if runs else []:
        scenarios.setdefault(scenario, family)
    known = tuple(f for f in FAMILIES if f in set(scenarios.values()) or any(k[2] == f for k in practice))
    ready = Readiness(team, len(runs), tuple(people), known or FAMILIES, practice, None)
    return Readiness(team, len(runs), tuple(people), ready.families, practice, _suggest(ready, scenarios))


def _team_runs(db: sqlite3.Connection, team: str | None) -> list[str]:
    if team is None:
        return [r for (r,) in db.execute("SELECT run_id FROM runs WHERE complete = 1")]
    return [r for (r,) in db.execute("SELECT run_id FROM runs WHERE complete = 1 AND (team = ? OR run_id IN "
                                     "(SELECT run_id FROM members WHERE member = ?))", (team, team))]


def _suggest(ready: Readiness, scenarios: Mapping[str, str]) -> Suggestion | None:
    if not ready.people:
        return None

    def coverage(family: str) -> tuple[int, str]:
        covered = sum(1 for p in ready.people for d in KEY_DUTIES if ready.of(p, d, family).count)
        last = max((ready.of(p, d, family).last or "" for p in ready.people for d in DUTIES), default="")
        return covered, last

    family = min(ready.families, key=coverage)
    covered, last = coverage(family)
    roster: dict[str, str] = {}
    for duty in KEY_DUTIES:
        free = [p for p in ready.people if p not in roster.values()] or list(ready.people)
        roster[duty] = min(free, key=lambda p: (ready.of(p, duty, family).count,
                                                sum(ready.of(p, duty, f).count for f in ready.families),
                                                ready.of(p, duty, family).last or "", p))
    scenario = next((s for s, f in sorted(scenarios.items()) if f == family), None)
    total = len(ready.people) * len(KEY_DUTIES)
    when = f", last practised {last}" if last else ", never practised"
    why = f"{family}: {covered} of {total} person-duty pairs practised{when}"
    return Suggestion(family, scenario, roster, why)
