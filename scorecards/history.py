"""The run history: every finished run's scorecard summary in one SQLite file.

The run directory stays the source of truth; this database is an index over many runs
that `store` fills (again, after a rebuild: the same run id replaces its rows). Follow-up
actions keep their status across rebuilds: a closed action stays closed.

Location: `GAMEDRILL_HISTORY` if set, else `history.sqlite` in the runs directory.
"""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Final

from harness.errors import GamedrillError
from scorecards.model import Scorecard

ENV_VAR: Final = "GAMEDRILL_HISTORY"
FILE_NAME: Final = "history.sqlite"
SCHEMA_VERSION: Final = 2  # 2: phases.masked (restorations that relapsed)
_SCHEMA: Final = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS runs (
    run_id TEXT PRIMARY KEY, run_dir TEXT NOT NULL, drill TEXT NOT NULL, scenario TEXT NOT NULL,
    team TEXT NOT NULL, started_wall TEXT, outcome TEXT NOT NULL, complete INTEGER NOT NULL,
    grade_letter TEXT NOT NULL, grade_score REAL, severity_declared INTEGER, severity_measured INTEGER,
    failed_requests INTEGER NOT NULL, total_requests INTEGER NOT NULL, peak_error_rate REAL, p99_max_ms REAL,
    error_budget_minutes REAL NOT NULL, longest_gap_s REAL, stored_at TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS runs_by_team ON runs (team, started_wall);
CREATE INDEX IF NOT EXISTS runs_by_scenario ON runs (scenario, started_wall);
CREATE TABLE IF NOT EXISTS members (run_id TEXT NOT NULL, member TEXT NOT NULL, PRIMARY KEY (member, run_id))
    WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS phases (run_id TEXT NOT NULL, phase TEXT NOT NULL, seconds REAL, target_s REAL,
    passed INTEGER, masked TEXT, PRIMARY KEY (run_id, phase)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS findings (run_id TEXT NOT NULL, name TEXT NOT NULL, category TEXT NOT NULL,
    passed INTEGER, what TEXT NOT NULL, target TEXT, evidence TEXT NOT NULL, PRIMARY KEY (run_id, name))
    WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS duties (run_id TEXT NOT NULL, person TEXT NOT NULL, duty TEXT NOT NULL,
    PRIMARY KEY (person, duty, run_id)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS families (run_id TEXT PRIMARY KEY, family TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS actions (id INTEGER PRIMARY KEY AUTOINCREMENT, run_id TEXT NOT NULL, key TEXT NOT NULL,
    text TEXT NOT NULL, owner TEXT, due TEXT, status TEXT NOT NULL DEFAULT 'open', closed_at TEXT, note TEXT,
    UNIQUE (run_id, key));
"""
RUN_COLUMNS: Final = ("run_id", "run_dir", "drill", "scenario", "team", "started_wall", "outcome", "complete",
                      "grade_letter", "grade_score", "severity_declared", "severity_measured", "failed_requests",
                      "total_requests", "peak_error_rate", "p99_max_ms", "error_budget_minutes", "longest_gap_s",
                      "stored_at")


class HistoryError(GamedrillError):
    """The history database cannot answer: an unknown run, an unknown action, a newer schema."""


@dataclass(frozen=True)
class RunRow:
    run_id: str
    run_dir: str
    drill: str
    scenario: str
    team: str
    started_wall: str | None
    outcome: str
    complete: bool
    grade_letter: str
    grade_score: float | None
    severity_declared: int | None
    severity_measured: int | None
    failed_requests: int
    total_requests: int
    peak_error_rate: float | None
    p99_max_ms: float | None
    error_budget_minutes: float
    longest_gap_s: float | None
    stored_at: str


def default_path(runs_dir: Path = Path("runs")) -> Path:
    configured = os.environ.get(ENV_VAR)
    return Path(configured) if configured else runs_dir / FILE_NAME


@contextmanager
def connect(path: Path) -> Iterator[sqlite3.Connection]:
    """A connection with the schema in place; one transaction, committed on success."""
    path.parent.mkdir(parents=True, exist_ok=True)
    db = sqlite3.connect(path, timeout=30)  # several drills may finish at once
    try:
        db.execute("PRAGMA foreign_keys = ON")
        _migrate(db, path)
        with db:
            yield db
    finally:
        db.close()


def _migrate(db: sqlite3.Connection, path: Path) -> None:
    with db:
        db.executescript(_SCHEMA)
        row = db.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
        if row is None:
            db.execute("INSERT INTO meta VALUES ('schema_version', ?)", (str(SCHEMA_VERSION),))
        elif int(row[0]) > SCHEMA_VERSION:
            raise HistoryError(f"{path}: history schema {row[0]} is newer than this gamedrill knows "
                               f"({SCHEMA_VERSION}); upgrade gamedrill")
        elif int(row[0]) < SCHEMA_VERSION:
            _upgrade(db, int(row[0]))


def _upgrade(db: sqlite3.Connection, version: int) -> None:
    """Bring an older history up to SCHEMA_VERSION in place (additive changes only)."""
    if version < 2 and "masked" not in {r[1] for r in db.execute("PRAGMA table_info(phases)")}:
        db.execute("ALTER TABLE phases ADD COLUMN masked TEXT")
    db.execute("UPDATE meta SET value = ? WHERE key = 'schema_version'", (str(SCHEMA_VERSION),))


def store(db: sqlite3.Connection, card: Scorecard, run_dir: Path) -> None:
    """Insert or replace the run; its open follow-up actions follow the current findings."""
    row = (card.run_id, str(run_dir), card.drill, card.scenario, card.team.name, card.started_wall, card.outcome,
           int(card.complete), card.grade.letter, card.grade.score, card.severity.declared, card.severity.measured,
           card.impact.failed_requests, card.impact.total_requests, card.impact.peak_error_rate,
           card.impact.p99_max_ms, card.impact.error_budget_minutes, card.cadence.longest_gap_s,
           datetime.now(UTC).isoformat(timespec="seconds"))
    db.execute(f"INSERT OR REPLACE INTO runs ({', '.join(RUN_COLUMNS)}) VALUES ({', '.join('?' * len(row))})", row)
    for table in ("members", "phases", "findings", "duties", "families"):
        db.execute(f"DELETE FROM {table} WHERE run_id = ?", (card.run_id,))
    db.executemany("INSERT OR IGNORE INTO duties VALUES (?, ?, ?)",
                   [(card.run_id, person, duty) for person, duty in duties(card)])
    if card.family:
        db.execute("INSERT INTO families VALUES (?, ?)", (card.run_id, card.family))
    db.executemany("INSERT INTO members VALUES (?, ?)", [(card.run_id, m) for m in set(card.team.members)])
    db.executemany("INSERT INTO phases VALUES (?, ?, ?, ?, ?, ?)",
                   [(card.run_id, p.phase, p.seconds_from_fault, p.target_s, _flag(p.passed),
                     json.dumps(list(p.masked_s)) if p.masked_s else None) for p in card.phases])
    db.executemany("INSERT INTO findings VALUES (?, ?, ?, ?, ?, ?, ?)",
                   [(card.run_id, f.name, f.category, _flag(f.passed), f.what_happened, f.target,
                     json.dumps(list(f.evidence))) for f in card.findings])
    keys = [item.key for item in card.action_items]
    still_failing = ", ".join("?" * len(keys))
    db.execute(f"DELETE FROM actions WHERE run_id = ? AND status = 'open' AND key NOT IN ({still_failing})",
               (card.run_id, *keys))
    db.executemany("INSERT INTO actions (run_id, key, text) VALUES (?, ?, ?) "
                   "ON CONFLICT (run_id, key) DO UPDATE SET text = excluded.text",
                   [(card.run_id, item.key, item.text) for item in card.action_items])


OPERATOR: Final = "operator"  # ran a toolkit action (the ops role, named or not)


def duties(card: Scorecard) -> set[tuple[str, str]]:
    """(person, duty) for readiness: each role they were named to, and operator if they acted."""
    held = {(r.who, r.role) for r in card.roles}
    held |= {(a.by, OPERATOR) for a in card.actions if a.by}
    return held


def list_runs(db: sqlite3.Connection, team: str | None = None, scenario: str | None = None,
              since: date | None = None, until: date | None = None) -> list[RunRow]:
    """Runs, oldest first; `team` matches the team's name or any member; `until` is inclusive."""
    clauses, params = _filters(team, scenario, since, until)
    where = f"WHERE {' AND '.join(clauses)}" if clauses else ""
    rows = db.execute(f"SELECT {', '.join(RUN_COLUMNS)} FROM runs {where} ORDER BY started_wall, run_id", params)
    return [_run_row(row) for row in rows]


def _filters(team: str | None, scenario: str | None, since: date | None,
             until: date | None) -> tuple[list[str], list[object]]:
    clauses: list[str] = []
    params: list[object] = []
    if team is not None:
        clauses.append("(team = ? OR run_id IN (SELECT run_id FROM members WHERE member = ?))")
        params += [team, team]
    if scenario is not None:
        clauses.append("scenario = ?")
        params.append(scenario)
    if since is not None:
        clauses.append("started_wall >= ?")
        params.append(since.isoformat())
    if until is not None:
        clauses.append("started_wall < ?")
        params.append((until + timedelta(days=1)).isoformat())
    return clauses, params


def get_run(db: sqlite3.Connection, ref: str) -> RunRow:
    """A run by id, or by a prefix of its id that only it has."""
    rows = db.execute(f"SELECT {', '.join(RUN_COLUMNS)} FROM runs WHERE run_id = ? OR run_id LIKE ? ESCAPE '\\' "
                      "ORDER BY run_id = ? DESC LIMIT 3", (ref, _like_prefix(ref), ref)).fetchall()
    if not rows:
        raise HistoryError(f"no run {ref!r} in the history (store it with `gamedrill scorecard rebuild RUN`)")
    if rows[0][0] != ref and len(rows) > 1:
        raise HistoryError(f"{ref!r} matches several runs: {', '.join(r[0] for r in rows)}...")
    return _run_row(rows[0])


def phases_of(db: sqlite3.Connection, run_ids: Sequence[str]) -> dict[str, dict[str, tuple[float | None, bool | None]]]:
    """run id -> phase -> (seconds from fault, passed)."""
    found: dict[str, dict[str, tuple[float | None, bool | None]]] = {run_id: {} for run_id in run_ids}
    for chunk in _chunks(list(run_ids), 500):
        rows = db.execute(f"SELECT run_id, phase, seconds, passed FROM phases WHERE run_id IN "
                          f"({', '.join('?' * len(chunk))})", chunk)
        for run_id, phase, seconds, passed in rows:
            found[run_id][phase] = (seconds, None if passed is None else bool(passed))
    return found


def masked_of(db: sqlite3.Connection, run_ids: Sequence[str]) -> dict[str, tuple[float, ...]]:
    """run id -> the restorations that relapsed before the mitigation (seconds from the fault)."""
    found: dict[str, tuple[float, ...]] = {}
    for chunk in _chunks(list(run_ids), 500):
        rows = db.execute(f"SELECT run_id, masked FROM phases WHERE phase = 'mitigate' AND masked IS NOT NULL AND "
                          f"run_id IN ({', '.join('?' * len(chunk))})", chunk)
        found.update({run_id: tuple(float(t) for t in json.loads(masked)) for run_id, masked in rows})
    return found


def findings_of(db: sqlite3.Connection, run_id: str) -> dict[str, tuple[str, bool | None, str]]:
    """name -> (category, passed, what happened)."""
    rows = db.execute("SELECT name, category, passed, what FROM findings WHERE run_id = ?", (run_id,))
    return {name: (category, None if passed is None else bool(passed), what) for name, category, passed, what in rows}


def _run_row(row: Sequence[object]) -> RunRow:
    values = dict(zip(RUN_COLUMNS, row, strict=True))
    values["complete"] = bool(values["complete"])
    return RunRow(**values)  # type: ignore[arg-type]


def _flag(passed: bool | None) -> int | None:
    return None if passed is None else int(passed)


def _like_prefix(ref: str) -> str:
    return ref.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def _chunks(items: list[str], size: int) -> Iterator[list[str]]:
    for start in range(0, len(items), size):
        yield items[start:start + size]
