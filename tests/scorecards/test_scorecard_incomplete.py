"""Runs a killed harness left behind (a journal without run.finished): phases the run had
not reached are neither passed nor failed, the grade is withheld, and the history's list,
trend and compare mark such runs and keep them from passing for finished ones."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click
import jsonschema
from click.testing import CliRunner, Result
from scorecard_journals import FAULT_T_S, Script, killed_run, replaced, scorecard, seq_of, traffic, without, write_run

from harness.cli_scorecard import SCORECARD_COMMANDS
from scorecards import (
    history,
    render_html,
    render_markdown,
    render_postmortem,
    render_summary,
    schema_path,
    write_scorecard,
)
from scorecards.trends import LEFT_OUT, compare, trend

CLI = click.Group("gamedrill", commands={command.name or "": command for command in SCORECARD_COMMANDS})
STOP_T_S = 100.0  # killed_run's default: fault + 90 s
GOOD_SCRIPT_END = 270.0


def finished(script: Script, t_s: float = 101.0) -> Script:
    return [*script, (t_s, "run.finished", {"outcome": "finished", "run_dir": "runs/r-1"})]


def test_phases_after_the_journal_ends_are_not_reached(tmp_path: Path) -> None:
    card = scorecard(tmp_path, [*killed_run(), *traffic(5, 98, 30, 12)])
    assert not card.complete and card.outcome == "unfinished"
    done = {t.phase: (t.seconds_from_fault, t.passed, t.status) for t in card.phases}
    assert done == {"detect": (12.5, True, "done"), "acknowledge": (20.25, True, "done"),
                    "declare": (31.0, True, "done"), "first_update": (60.0, True, "done"),
                    "mitigate": (None, None, "not_reached"), "resolve": (None, None, "not_reached")}
    last = max(e.seq for e in card.timeline)
    assert card.phase("mitigate").evidence == (seq_of(card, "fault.injected"), last)
    for name in ("mitigate", "resolve"):
        finding = card.finding(name)
        assert finding.passed is None and "not reached (harness stopped at fault + 90 s" in finding.what_happened
    assert not {"mitigate", "resolve"} & {item.key for item in card.action_items}


def test_the_same_journal_finished_fails_the_missing_phases(tmp_path: Path) -> None:
    """The contrast: with run.finished, a missing phase is a real miss."""
    card = scorecard(tmp_path, finished(killed_run()))
    assert card.complete
    mitigate = card.phase("mitigate")
    assert (mitigate.passed, mitigate.status) == (False, "never")
    assert "never" in card.finding("mitigate").what_happened and card.grade.letter in set("ABCDF")


def test_a_phase_already_overdue_when_the_harness_stopped_still_fails(tmp_path: Path) -> None:
    card = scorecard(tmp_path, without(killed_run(), "alert.fired"))  # detect is due at fault + 30 s
    detect = card.phase("detect")
    assert (detect.seconds_from_fault, detect.passed, detect.status) == (None, False, "overdue")
    assert "not by fault + 90 s, when the harness stopped" in card.finding("detect").what_happened
    assert "detect" in {item.key for item in card.action_items}

    early = scorecard(tmp_path / "early", without(killed_run(stop_t_s=FAULT_T_S + 25), "alert.fired"))
    assert (early.phase("detect").passed, early.phase("detect").status) == (None, "not_reached")


def test_what_the_team_had_not_done_yet_is_not_held_against_it(tmp_path: Path) -> None:
    """Killed at fault + 20 s, its last line the alert at fault + 12.5 s: roles, scope, trigger and updates
    are not reached."""
    script = killed_run(stop_t_s=FAULT_T_S + 20)
    card = scorecard(tmp_path, script)
    unjudged = ("role_commander", "role_comms", "role_scribe", "scope", "trigger", "update_cadence")
    for name in unjudged:
        finding = card.finding(name)
        assert finding.passed is None, finding
        assert "before the harness stopped (fault + 12.5 s): not reached" in finding.what_happened, finding
    assert card.diagnosis.trigger_identified is None and card.cadence.passed is None
    assert card.action_items == ()

    done = scorecard(tmp_path / "finished", finished(script, FAULT_T_S + 20))  # the same, but finished
    assert all(done.finding(name).passed is False for name in unjudged)
    assert {item.key for item in done.action_items} >= set(unjudged)


def test_a_late_first_update_is_judged_only_once_it_was_due(tmp_path: Path) -> None:
    declared = [e for e in killed_run() if e[1] != "team.update"]  # declared at fault + 31 s, no update since
    card = scorecard(tmp_path, declared)  # SEV2 policy: first update within 600 s of declaring
    finding = card.finding("first_update_after_declare")
    assert finding.passed is None and "not reached" in finding.what_happened
    overdue = scorecard(tmp_path / "late", [*declared, (FAULT_T_S + 700, "team.note", {"by": "bob", "text": "?"})])
    assert overdue.finding("first_update_after_declare").passed is False


def test_the_grade_is_withheld_and_its_parts_still_shown(tmp_path: Path) -> None:
    card = scorecard(tmp_path, [*killed_run(), *traffic(5, 98, 30, 12)])
    assert (card.grade.letter, card.grade.score) == ("-", None)
    assert card.grade.withheld and "incomplete run" in card.grade.withheld
    response = next(part for part in card.grade.parts if part.part == "response")
    assert (response.checks, response.passed) == (4, 4)  # the four phases reached, all on time
    assert "; the harness stopped at fault + 90 s, before" in card.finding("escalation").what_happened
    unfinished = card.finding("unfinished")
    assert unfinished.passed is None and "grade is withheld" in unfinished.what_happened

    markdown = render_markdown(card)
    assert "Incomplete run" in markdown and "**Grade: withheld**" in markdown
    assert "| mitigate (service restored) | not reached (harness stopped) | ≤ 300 s | — |" in markdown
    assert "| communication | 15 |" in markdown.lower()  # the parts table is still there
    summary = render_summary(card)
    assert "INCOMPLETE" in summary[0] and summary[1].strip() == "grade withheld (incomplete run)"
    assert "withheld" in render_html(card) and "not reached (harness stopped)" in render_html(card)
    postmortem = render_postmortem(card)
    assert "had not been restored when the harness stopped" in postmortem and "grade withheld" in postmortem


def test_the_schema_ties_the_grade_and_phase_status_to_complete(tmp_path: Path) -> None:
    validator = jsonschema.Draft202012Validator(json.loads(schema_path().read_text(encoding="utf-8")))
    incomplete = write_scorecard(write_run(tmp_path / "runs", killed_run())).to_dict()
    validator.validate(incomplete)
    graded = {**incomplete, "grade": {**incomplete["grade"], "letter": "F", "score": 20.0, "withheld": None}}
    assert not validator.is_valid(graded)

    complete = write_scorecard(write_run(tmp_path / "other", finished(killed_run()))).to_dict()
    validator.validate(complete)
    phases: list[dict[str, Any]] = complete["phases"]
    not_reached = [{**phases[0], "status": "not_reached"}, *phases[1:]]
    assert not validator.is_valid({**complete, "phases": not_reached})
    assert not validator.is_valid({**complete, "grade": {**complete["grade"], "withheld": "why not"}})


# ---- the history ------------------------------------------------------------------------


def store(runs: Path, run_id: str, script: Script) -> None:
    run_dir = write_run(runs, script, name=run_id)
    journal = run_dir / "journal.jsonl"
    journal.write_text(journal.read_text(encoding="utf-8").replace('"run_id":"r-1"', f'"run_id":"{run_id}"'),
                       encoding="utf-8")
    write_scorecard(run_dir)


def late_declaration_killed() -> Script:
    return replaced(killed_run(), "team.declare",
                    (90.0, "team.declare", {"by": "alice", "severity": 2, "commander": "alice"}))


def stored_runs(tmp_path: Path) -> Path:
    """a and c finished; b was killed at fault + 90 s, having declared late (fault + 80 s)."""
    runs = tmp_path / "runs"
    good = [*killed_run(GOOD_SCRIPT_END), (GOOD_SCRIPT_END, "run.finished", {"outcome": "resolved", "run_dir": "r"})]
    store(runs, "20240101-a", good)
    store(runs, "20240102-b", late_declaration_killed())
    store(runs, "20240103-c", good)
    return runs


def test_the_history_keeps_incomplete_runs_marked_and_ungraded(tmp_path: Path) -> None:
    runs = stored_runs(tmp_path)
    with history.connect(runs / "history.sqlite") as db:
        rows = {row.run_id: row for row in history.list_runs(db)}
    assert [rows[r].complete for r in sorted(rows)] == [True, False, True]
    assert (rows["20240102-b"].grade_letter, rows["20240102-b"].grade_score) == ("-", None)


def test_the_trend_leaves_incomplete_runs_out_and_counts_them(tmp_path: Path) -> None:
    runs = stored_runs(tmp_path)
    with history.connect(runs / "history.sqlite") as db:
        default = trend(db, "alice")
        everything = trend(db, "alice", include_incomplete=True)
    assert [r.run_id for r in default.runs] == ["20240101-a", "20240103-c"] and default.left_out == 1
    assert len(everything.runs) == 3 and everything.left_out == 0
    mitigate = everything.phases.index("mitigate")
    declare = everything.phases.index("declare")
    assert [row[mitigate] for row in everything.reached] == [True, False, True]
    assert [row[declare] for row in everything.seconds] == [31.0, 80.0, 31.0]


def test_compare_leaves_out_what_an_incomplete_run_had_not_reached(tmp_path: Path) -> None:
    runs = stored_runs(tmp_path)
    with history.connect(runs / "history.sqlite") as db:
        comparison = compare(db, "20240101-a", "20240102-b")
    verdicts = {change.what: change.verdict for change in comparison.changes}
    # What b did before the harness stopped is compared: its late declaration is a regression.
    assert verdicts["declare"] == "regressed" and verdicts["detect"] == "same"
    # What it had not reached, a finding it fails for want of time, and the grade are left out.
    assert verdicts["mitigate"] == verdicts["resolve"] == verdicts["grade"] == LEFT_OUT
    # Recorded at fault + 91 s in a; b stopped at fault + 90 s, so neither passed nor failed it.
    assert verdicts["scope"] == LEFT_OUT and dict((c.what, c.after) for c in comparison.changes)["scope"] == (
        "not reached")
    assert {c.what for c in comparison.regressed} == {"declare"}
    # So is everything about mitigation: b had not acted yet.
    assert {c.what for c in comparison.left_out} == {"mitigate", "resolve", "grade", "scope",
                                                      "first_update_after_declare", "canary_first", "made_worse",
                                                      "ineffective", "fixed_not_masked"}
    assert [r.run_id for r in comparison.incomplete] == ["20240102-b"]


def cli(args: list[str]) -> Result:
    return CliRunner().invoke(CLI, args, env={"COLUMNS": "250"}, catch_exceptions=False)


def test_the_cli_marks_incomplete_runs(tmp_path: Path) -> None:
    runs = str(stored_runs(tmp_path))
    listed = cli(["scorecard", "list", "--runs-dir", runs])
    assert listed.exit_code == 0 and "3 run(s), 1 incomplete" in listed.output
    row = next(line for line in listed.output.splitlines() if "20240102-b" in line)
    assert "INCOMPLETE" in row and "withheld" in row and " F " not in row

    trended = cli(["scorecard", "trend", "--team", "alice", "--runs-dir", runs])
    assert trended.exit_code == 0 and "2 run(s)" in trended.output
    assert "1 incomplete run(s) left out" in trended.output and "20240102-b" not in trended.output
    included = cli(["scorecard", "trend", "--team", "alice", "--runs-dir", runs, "--include-incomplete"])
    assert included.exit_code == 0 and "3 run(s)" in included.output and "left out" not in included.output
    row = next(line for line in included.output.splitlines() if "20240102-b" in line)
    assert "not reached" in row and "withheld" in row

    compared = cli(["scorecard", "compare", "20240101-a", "20240102-b", "--runs-dir", runs])
    assert compared.exit_code == 0 and "left out" in compared.output and "incomplete" in compared.output
