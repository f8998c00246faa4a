"""Follow-up actions from postmortems, tracked across drills in the history database.

Each failed finding of a stored run is an open action (history.store adds them); people
assign an owner and a due date and close them when done.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Final

from scorecards.history import HistoryError

_COLUMNS: Final = ("a.id", "a.run_id", "r.drill", "r.scenario", "r.team", "r.started_wall", "a.key", "a.text",
                   "a.owner", "a.due", "a.status", "a.closed_at", "a.note")


@dataclass(frozen=True)
class FollowUp:
    id: int
    run_id: str
    drill: str
    scenario: str
    team: str
    started_wall: str | None
    key: str
    text: str
    owner: str | None
    due: str | None
    status: str  # open or closed
    closed_at: str | None
    note: str | None


def list_actions(db: sqlite3.Connection, include_closed: bool = False, team: str | None = None) -> list[FollowUp]:
    """Open actions across every drill (oldest run first); `team` matches the team's name or a member."""
    clauses = [] if include_closed else ["a.status = 'open'"]
    params: list[object] = []
    if team is not None:
        clauses.append("(r.team = ? OR r.run_id IN (SELECT run_id FROM members WHERE member = ?))")
        params += [team, team]
    where = f"WHERE {' AND '.join(clauses)}" if clauses else ""
    rows = db.execute(f"SELECT {', '.join(_COLUMNS)} FROM actions a JOIN runs r ON r.run_id = a.run_id {where} "
                      "ORDER BY r.started_wall, a.id", params)
    return [FollowUp(*row) for row in rows]


def close_action(db: sqlite3.Connection, action_id: int, note: str | None = None) -> FollowUp:
    _require(db, action_id)
    db.execute("UPDATE actions SET status = 'closed', closed_at = ?, note = COALESCE(?, note) WHERE id = ?",
               (datetime.now(UTC).isoformat(timespec="seconds"), note, action_id))
    return get_action(db, action_id)


def assign_action(db: sqlite3.Connection, action_id: int, owner: str | None, due: str | None) -> FollowUp:
    _require(db, action_id)
    db.execute("UPDATE actions SET owner = COALESCE(?, owner), due = COALESCE(?, due) WHERE id = ?",
               (owner, due, action_id))
    return get_action(db, action_id)


def get_action(db: sqlite3.Connection, action_id: int) -> FollowUp:
    row = db.execute(f"SELECT {', '.join(_COLUMNS)} FROM actions a JOIN runs r ON r.run_id = a.run_id "
                     "WHERE a.id = ?", (action_id,)).fetchone()
    if row is None:
        raise HistoryError(f"no follow-up action #{action_id}")
    return FollowUp(*row)


def _require(db: sqlite3.Connection, action_id: int) -> None:
    get_action(db, action_id)
