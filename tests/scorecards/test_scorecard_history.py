"""The run history: stored runs, list filters, compare, trend, follow-up actions, and the
CLI on top of them (driven through click's runner, on a real SQLite file)."""

from __future__ import annotations

import sqlite3
from datetime import UTC, date, datetime
from pathlib import Path

import click
import pytest
from click.testing import CliRunner, Result
from scorecard_journals import FAULT_T_S, good_run, planned, replaced, traffic, without, write_run

from harness.cli_scorecard import SCORECARD_COMMANDS
from harness.timeline import FakeClock, Journal
from scorecards import HistoryError, history, write_scorecard
from scorecards.followups import assign_action, close_action, list_actions
from scorecards.trends import compare, trend

CLI = click.Group("gamedrill", commands={command.name or "": command for command in SCORECARD_COMMANDS})


def slow_run() -> list[tuple[float, str, dict[str, object]]]:
    """The good run, but declared late and without a scribe."""
    script = replaced(good_run(), "team.declare",
                      (FAULT_T_S + 150, "team.declare", {"by": "alice", "severity": 2, "commander": "alice"}))
    return [e for e in script if e[2].get("role") != "scribe"]


def run(args: list[str], env: dict[str, str] | None = None) -> Result:
    result = CliRunner().invoke(CLI, args, env=env, catch_exceptions=False)
    return result


@pytest.fixture
def two_runs(tmp_path: Path) -> tuple[Path, Path]:
    runs = tmp_path / "runs"
    slow = write_run(runs, [*replaced(slow_run(), "run.planned", planned()), *traffic(10, 190, 20, 4)], name="a")
    good = write_run(runs, [*good_run(), *traffic(10, 190, 20, 2)], name="b")
    # The run ids come from run.planned: give each its own.
    for run_dir, run_id in ((slow, "20240101-a"), (good, "20240102-b")):
        text = (run_dir / "journal.jsonl").read_text(encoding="utf-8").replace('"run_id":"r-1"', f'"run_id":"{run_id}"')
        (run_dir / "journal.jsonl").write_text(text, encoding="utf-8")
        write_scorecard(run_dir)
    return slow, good


def test_two_runs_are_two_rows_and_compare_shows_what_changed(two_runs: tuple[Path, Path], tmp_path: Path) -> None:
    with history.connect(tmp_path / "runs" / "history.sqlite") as db:
        rows = history.list_runs(db)
        assert [r.run_id for r in rows] == ["20240101-a", "20240102-b"]
        comparison = compare(db, "20240101-a", "20240102")  # a unique prefix is enough
    verdicts = {c.what: c.verdict for c in comparison.changes}
    assert verdicts["declare"] == "improved" and verdicts["detect"] == "same"
    assert verdicts["role_scribe"] == "improved" and verdicts["grade"] == "improved"
    assert comparison.regressed == ()
    with history.connect(tmp_path / "runs" / "history.sqlite") as db:
        backwards = compare(db, "20240102-b", "20240101-a")
    assert {c.what for c in backwards.regressed} >= {"declare", "role_scribe", "grade"}


def test_rebuilding_replaces_the_row_and_keeps_closed_actions_closed(two_runs: tuple[Path, Path],
                                                                    tmp_path: Path) -> None:
    slow, _ = two_runs
    db_path = tmp_path / "runs" / "history.sqlite"
    with history.connect(db_path) as db:
        open_items = list_actions(db)
        scribe = next(a for a in open_items if a.key == "role_scribe" and a.run_id == "20240101-a")
        close_action(db, scribe.id, "scribe rota agreed")
        assigned = assign_action(db, next(a.id for a in open_items if a.key == "declare"), "alice", "2024-02-01")
    assert (assigned.owner, assigned.due) == ("alice", "2024-02-01")
    write_scorecard(slow)  # rebuild
    with history.connect(db_path) as db:
        assert len(history.list_runs(db)) == 2
        still_open = list_actions(db)
        everything = list_actions(db, include_closed=True)
        with pytest.raises(HistoryError, match="no follow-up action #999"):
            close_action(db, 999)
    assert scribe.id not in {a.id for a in still_open}
    closed = next(a for a in everything if a.id == scribe.id)
    assert (closed.status, closed.note) == ("closed", "scribe rota agreed")
    assert next(a for a in still_open if a.key == "declare").owner == "alice"


def test_list_filters_by_team_member_scenario_and_date(two_runs: tuple[Path, Path], tmp_path: Path) -> None:
    with history.connect(tmp_path / "runs" / "history.sqlite") as db:
        assert len(history.list_runs(db, team="alice+bob+carol")) == 2
        assert len(history.list_runs(db, team="bob")) == 2  # a member
        assert history.list_runs(db, team="zoe") == []
        assert history.list_runs(db, scenario="other") == []
        today = datetime.now(UTC).date()
        started = history.list_runs(db)[0].started_wall
        assert started is not None and started.startswith("2024-01-01")  # FakeClock's wall start
        assert len(history.list_runs(db, since=date(2024, 1, 1), until=date(2024, 1, 1))) == 2
        assert history.list_runs(db, since=today.replace(year=today.year + 1)) == []


def test_trend_over_a_teams_runs(two_runs: tuple[Path, Path], tmp_path: Path) -> None:
    with history.connect(tmp_path / "runs" / "history.sqlite") as db:
        result = trend(db, "alice", scenario="hung-workers")
    assert [r.run_id for r in result.runs] == ["20240101-a", "20240102-b"]
    declare = result.phases.index("declare")
    assert [row[declare] for row in result.seconds] == [150.0, 31.0]


def test_the_history_location_is_configurable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    elsewhere = tmp_path / "shared" / "drills.sqlite"
    monkeypatch.setenv(history.ENV_VAR, str(elsewhere))
    write_scorecard(write_run(tmp_path / "runs", good_run()))
    assert elsewhere.is_file() and not (tmp_path / "runs" / "history.sqlite").exists()
    with history.connect(elsewhere) as db:
        assert [r.run_id for r in history.list_runs(db)] == ["r-1"]


def test_a_newer_history_schema_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "history.sqlite"
    with history.connect(path):
        pass
    with sqlite3.connect(path) as db:
        db.execute("UPDATE meta SET value = '99' WHERE key = 'schema_version'")
    db.close()
    with pytest.raises(HistoryError, match="newer"), history.connect(path):
        pass


def test_rebuild_recomputes_from_the_journal_alone(tmp_path: Path) -> None:
    run_dir = write_run(tmp_path / "runs", good_run())
    (run_dir / "tokens.json").write_text("{}", encoding="utf-8")  # what a real run also leaves; not read
    result = run(["scorecard", "rebuild", str(run_dir)])
    assert result.exit_code == 0, result.output
    assert "stored run r-1 in the history" in result.output
    assert all((run_dir / name).is_file() for name in ("scorecard.json", "scorecard.html", "postmortem.md"))
    # More journal lines (a reopened journal) change the scorecard on the next rebuild.
    with Journal.open(run_dir / "journal.jsonl", FakeClock(monotonic_start=5000.0)) as journal:
        journal.append("team.escalate", by="alice", to="vp-eng")
    assert run(["scorecard", "rebuild", str(run_dir)]).exit_code == 0
    assert "team.escalate" in (run_dir / "scorecard.json").read_text(encoding="utf-8")


def test_the_cli_commands(two_runs: tuple[Path, Path], tmp_path: Path) -> None:
    runs = str(tmp_path / "runs")
    shown = run(["scorecard", "show", "a", "--runs-dir", runs])
    assert shown.exit_code == 0 and "grade" in shown.output and "postmortem.md:" in shown.output
    assert run(["scorecard", "show", "20240102", "--runs-dir", runs, "--format", "md"]).output.startswith(
        "# Scorecard: demo")
    assert '"schema_version": "1"' in run(["scorecard", "show", "a", "--runs-dir", runs, "--format", "json"]).output
    listed = run(["scorecard", "list", "--runs-dir", runs, "--team", "alice", "--since", "2024-01-01"])
    assert listed.exit_code == 0 and "2 run(s)" in listed.output
    compared = run(["scorecard", "compare", "20240101-a", "20240102-b", "--runs-dir", runs])
    assert compared.exit_code == 0 and "improved" in compared.output and "0 regressed" in compared.output
    trended = run(["scorecard", "trend", "--team", "alice", "--runs-dir", runs])
    assert trended.exit_code == 0 and "2 run(s)" in trended.output and "▁" in trended.output
    listed_actions = run(["actions", "--runs-dir", runs])
    assert listed_actions.exit_code == 0 and "follow-up action(s)" in listed_actions.output
    closed = run(["actions", "--runs-dir", runs, "close", "1", "--note", "done"])
    assert closed.exit_code == 0 and closed.output.startswith("closed #1")
    assert run(["actions", "--runs-dir", runs, "assign", "2", "--owner", "bob", "--due", "2024-03-01"]).exit_code == 0


def test_cli_errors_are_one_clear_line(tmp_path: Path) -> None:
    runs = str(tmp_path / "runs")
    missing = run(["scorecard", "show", "nope", "--runs-dir", runs])
    assert missing.exit_code == 2 and "'nope' is neither a run directory" in missing.output
    write_scorecard(write_run(tmp_path / "runs", without(good_run(), "team.resolve")))
    unknown = run(["scorecard", "compare", "r-1", "zzz", "--runs-dir", runs])
    assert unknown.exit_code == 2 and "no run 'zzz' in the history" in unknown.output
    bad_date = run(["scorecard", "list", "--since", "yesterday", "--runs-dir", runs])
    assert bad_date.exit_code == 2 and "expected YYYY-MM-DD" in bad_date.output
    assert run(["actions", "--runs-dir", runs, "close", "42"]).exit_code == 2  # an unknown action: bad input
