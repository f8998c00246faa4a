"""`--json` on `scorecard list/show/trend/compare` and `actions`, unknown teams and runs named
with the known ones, and output to a pipe never cut (run ids whole)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from scorecard_journals import good_run, planned, replaced, traffic, write_run

from harness.cli import main
from harness.exitcodes import ExitCode
from scorecards import write_scorecard


def gamedrill(args: list[str]) -> Result:
    return CliRunner().invoke(main, args, catch_exceptions=False)


@pytest.fixture
def runs(tmp_path: Path) -> Path:
    runs = tmp_path / "runs"
    for name, run_id in (("a", "20240101-000000-aaaaaa"), ("b", "20240102-000000-bbbbbb")):
        script = [*replaced(good_run(), "run.planned", planned()), *traffic(10, 190, 20, 2)]
        run_dir = write_run(runs, script, name=name)
        journal = run_dir / "journal.jsonl"
        journal.write_text(journal.read_text(encoding="utf-8").replace('"run_id":"r-1"', f'"run_id":"{run_id}"'),
                           encoding="utf-8")
        write_scorecard(run_dir)
    return runs


def test_list_show_trend_compare_and_actions_speak_json(runs: Path) -> None:
    listed = gamedrill(["scorecard", "list", "--runs-dir", str(runs), "--json"])
    assert listed.exit_code == 0, listed.output
    rows = json.loads(listed.output)
    assert [row["run_id"] for row in rows] == ["20240101-000000-aaaaaa", "20240102-000000-bbbbbb"]
    team = rows[0]["team"]
    shown = json.loads(gamedrill(["scorecard", "show", "20240101-000000-aaaaaa", "--runs-dir", str(runs),
                                  "--json"]).output)
    assert shown["run_id"] == "20240101-000000-aaaaaa" and "phases" in shown
    trend = json.loads(gamedrill(["scorecard", "trend", "--team", team, "--runs-dir", str(runs), "--json"]).output)
    assert trend["team"] == team
    compared = json.loads(gamedrill(["scorecard", "compare", "20240101", "20240102", "--runs-dir", str(runs),
                                     "--json"]).output)
    assert compared["a"]["run_id"] == "20240101-000000-aaaaaa" and isinstance(compared["changes"], list)
    actions = json.loads(gamedrill(["actions", "--all", "--runs-dir", str(runs), "--json"]).output)
    assert isinstance(actions, list)


def test_a_mistyped_team_is_bad_input_listing_the_known_ones(runs: Path) -> None:
    for command in (["scorecard", "list"], ["scorecard", "trend"], ["actions"]):
        result = gamedrill([*command, "--team", "alcie", "--runs-dir", str(runs)])
        assert result.exit_code == ExitCode.BAD_INPUT, (command, result.output)
        assert "'alcie'" in result.output and "alice" in result.output


def test_an_unknown_run_is_bad_input_listing_the_known_ones(runs: Path) -> None:
    result = gamedrill(["scorecard", "show", "nosuchrun", "--runs-dir", str(runs)])
    assert result.exit_code == ExitCode.BAD_INPUT
    assert "under" in result.output and "a, b" in result.output and "20240102-000000-bbbbbb" in result.output


def test_a_table_to_a_pipe_keeps_every_run_id_whole(runs: Path) -> None:
    piped = subprocess.run([sys.executable, "-m", "harness.cli", "scorecard", "list", "--runs-dir", str(runs)],
                           capture_output=True, text=True, check=True, timeout=60, env={"COLUMNS": "40"})
    assert "20240101-000000-aaaaaa" in piped.stdout and "…" not in piped.stdout, piped.stdout
