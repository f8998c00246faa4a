"""Findings a fair reviewer agrees with, each checked on the journal of a real run.

The journals in tests/data/journals/ were left by real drills on the local backend (real
shop, real load, the real fault; most from tests/calibration's responders). Where a test
asks "what if the team had said X instead", it edits one team event of the real journal
and keeps everything the stack did.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click
from click.testing import CliRunner

from harness.cli_scorecard import SCORECARD_COMMANDS
from harness.timeline import Event, read_journal
from scorecards import Scorecard, build_scorecard, history
from scorecards.grade import FAILED_SCALE
from scorecards.policy import SEVERITY_WINDOW_S

JOURNALS = Path(__file__).parents[1] / "data" / "journals"
CLI = click.Group("gamedrill", commands={command.name or "": command for command in SCORECARD_COMMANDS})


def events_of(name: str) -> list[Event]:
    return read_journal(JOURNALS / f"{name}.jsonl")


def card_of(name: str, edit: Callable[[list[Event]], list[Event]] | None = None) -> Scorecard:
    events = events_of(name)
    return build_scorecard(edit(events) if edit else events)


def with_team_data(kind: str, first: bool = False, **data: Any) -> Callable[[list[Event]], list[Event]]:
    """The last (or first) `kind` team event said something else (same time, same seq)."""
    def edit(events: list[Event]) -> list[Event]:
        seqs = [e.seq for e in events if e.kind == kind]
        chosen = min(seqs) if first else max(seqs)
        return [Event(e.seq, e.kind, e.wall, e.t_s, {**e.data, **data}) if e.seq == chosen else e for e in events]
    return edit


def fault_t_s(events: list[Event]) -> float:
    return next(e.t_s for e in events if e.kind == "fault.injected")


# ---- scope ----------------------------------------------------------------------------------


def test_scope_counts_every_node_the_rollout_reached() -> None:
    # The team was slow: config v3 finished its bake and reached every node before the
    # rollback. The scenario says the fault starts on web-1; the windows show all three failing.
    card = card_of("bad-config-rollout-sloppy", with_team_data("team.scope", nodes=["web-1", "web-2", "web-3"]))
    assert card.diagnosis.scope_source == "measured"
    assert card.diagnosis.scope_truth == ("web-1", "web-2", "web-3")
    assert card.finding("scope").passed is True
    only_start = card_of("bad-config-rollout-sloppy", with_team_data("team.scope", nodes=["web-1"]))
    assert only_start.finding("scope").passed is False and "missed web-2, web-3" in only_start.finding(
        "scope").what_happened


def test_scope_on_a_contained_canary_is_the_canary() -> None:
    # Rolled back on its canary in seconds: only web-1 ever failed, so recording web-2 is wrong.
    card = card_of("bad-config-rollout-pause")
    assert card.diagnosis.scope_truth == ("web-1",) and card.diagnosis.scope_recorded == ("web-1", "web-2")
    assert card.finding("scope").passed is False and "never failed: web-2" in card.finding("scope").what_happened
    assert card_of("bad-config-rollout-canary").finding("scope").passed is True


# ---- mitigation time --------------------------------------------------------------------------


def test_mitigate_is_the_restoration_that_held(tmp_path: Path) -> None:
    events = events_of("fd-leak-release-relapse")
    restorations = [e for e in events if e.kind == "restoration.detected"]
    assert len(restorations) == 2 and any(e.kind == "slo.breached" and e.data["relapse"] for e in events)
    fault = fault_t_s(events)
    card = build_scorecard(events)
    mitigate = card.phase("mitigate")
    first, last = (round(e.data["window_start_t_s"] - fault, 6) for e in restorations)
    assert mitigate.seconds_from_fault == last and mitigate.masked_s == (first,)
    assert f"masked at fault + {round(first, 2):g} s" in card.finding("mitigate").what_happened
    # The history, and so trend and compare, keep the time that held.
    with history.connect(tmp_path / "history.sqlite") as db:
        history.store(db, card, tmp_path)
        stored = db.execute("SELECT seconds FROM phases WHERE phase = 'mitigate'").fetchone()[0]
    assert stored == last


# ---- trigger ----------------------------------------------------------------------------------


def test_none_and_no_change_are_the_same_answer_and_wrong_when_a_change_did_it() -> None:
    for said in ("none", "no change", "No Change"):
        card = card_of("bad-config-rollout-canary", with_team_data("team.suspect", change=said))
        assert card.diagnosis.suspects == ("no change",)
        assert card.finding("trigger").passed is False
        assert "a recent change did trigger it (config_push v3)" in card.finding("trigger").what_happened
    assert card_of("bad-config-rollout-canary").finding("trigger").passed is True


# ---- canary first -----------------------------------------------------------------------------


def test_pause_rollout_is_not_straight_to_every_node() -> None:
    card = card_of("bad-config-rollout-pause")
    pause = next(a for a in card.actions if a.action == "pause-rollout")
    assert pause.per_node is False and pause.canary is None
    canary = card.finding("canary_first")
    assert canary.passed is True and "pause-rollout" not in canary.what_happened


# ---- made worse / ineffective ---------------------------------------------------------------


def test_an_action_is_judged_against_the_trend_before_it_never_before_the_fault() -> None:
    events = events_of("fd-leak-release-relapse")
    fault = fault_t_s(events)
    card = build_scorecard(events)
    windows = {e.seq: e.data["start_t_s"] for e in events if e.kind == "slo.window"}
    for review in card.actions:
        seen = [windows[seq] for seq in review.evidence if seq in windows]
        assert all(start >= fault for start in seen), review
    # The leak was climbing when the team restarted: the restart held it below where the
    # trend was heading, so it is not blamed, and it is not "ineffective" either.
    restart = next(a for a in card.actions if a.action == "restart")
    assert restart.trend_rate is not None and restart.trend_rate > (restart.error_rate_before or 0)
    assert restart.verdict == "helped"
    worse, useless = card.finding("made_worse"), card.finding("ineffective")
    assert worse.passed is True and useless.passed is True


def test_no_action_is_both_worse_and_ineffective() -> None:
    for journal in sorted(JOURNALS.glob("*.jsonl")):
        card = build_scorecard(read_journal(journal))
        worse = {a.seq for a in card.actions if a.verdict == "worse"}
        useless = {a.seq for a in card.actions if a.verdict in ("no_effect", "failed")}
        assert not worse & useless, journal.name
        fixed = card.findings and next((f for f in card.findings if f.name == "fixed_not_masked"), None)
        if fixed is not None and fixed.passed:  # a fix credited with the restoration is not "ineffective"
            credited = {a.seq for a in card.actions if a.truth_label == "fixes"}
            assert not credited & useless, journal.name


# ---- severity ---------------------------------------------------------------------------------


def test_severity_is_measured_on_the_worst_sustained_window() -> None:
    events = events_of("hung-workers-never-restored")
    card = build_scorecard(events)
    windows = [e.data for e in events if e.kind == "slo.window" and e.data["start_t_s"] >= fault_t_s(events) - 1]
    worst = max(sum(w["failures"] for w in windows[i:i + int(SEVERITY_WINDOW_S)])
                / max(1, sum(w["requests"] for w in windows[i:i + int(SEVERITY_WINDOW_S)]))
                for i in range(len(windows) - int(SEVERITY_WINDOW_S) + 1))
    assert card.severity.failed_share is not None and abs(card.severity.failed_share - worst) < 0.02
    assert card.severity.measured == 1 and card.severity.worst_window_s == SEVERITY_WINDOW_S
    assert "in the worst 10 s (fault +" in card.finding("severity").what_happened


# ---- outcome, error budget --------------------------------------------------------------------


def test_a_drill_that_never_restored_service_cannot_pass() -> None:
    card = card_of("hung-workers-never-restored")
    assert card.phase("mitigate").seconds_from_fault is None
    assert card.grade.letter == "F" and card.finding("outcome").passed is False
    parts = [p for p in card.grade.parts if p.score is not None]
    unscaled = 100 * sum(p.weight * (p.score or 0) for p in parts) / sum(p.weight for p in parts)
    assert card.grade.score == round(unscaled * FAILED_SCALE, 1)
    # Sized to one drill, the error budget check fails here (84 % of requests failed for 85 s).
    assert card.finding("error_budget").passed is False


def test_compare_refuses_runs_of_different_scenarios(tmp_path: Path) -> None:
    db_path = tmp_path / "history.sqlite"
    with history.connect(db_path) as db:
        for name in ("hung-workers-never-restored", "bad-config-rollout-canary"):
            history.store(db, card_of(name), tmp_path / name)
    ids = [json.loads(line)["data"]["run_id"] for name in ("hung-workers-never-restored", "bad-config-rollout-canary")
           for line in (JOURNALS / f"{name}.jsonl").read_text().splitlines()[1:2]]
    refused = CliRunner().invoke(CLI, ["scorecard", "compare", *ids, "--history", str(db_path)])
    assert refused.exit_code != 0 and "different incidents" in refused.output and "--force" in refused.output
    forced = CliRunner().invoke(CLI, ["scorecard", "compare", *ids, "--force", "--history", str(db_path)])
    assert forced.exit_code == 0, forced.output


# ---- fact-checked updates -----------------------------------------------------------------------


def with_first_update(**data: Any) -> Callable[[list[Event]], list[Event]]:
    return with_team_data("team.update", first=True, **data)


def test_updates_are_checked_against_what_was_measured_when_posted() -> None:
    honest = card_of("bad-config-rollout-canary")
    assert honest.finding("update_facts").passed is True  # "restored" and "rolled back" after they were true
    # The first update went out while web-1 failed every request (a third of all traffic).
    for claim in ({"impact_pct": 33}, {"impact": "About 30 % of requests failing"},
                  {"components": ["web-1"]}):
        assert card_of("bad-config-rollout-canary", with_first_update(**claim)).finding(
            "update_facts").passed is True, claim
    for claim, words in (({"impact_pct": 2}, "measured"), ({"impact": "Service restored."}, "restored"),
                         ({"action": "Config v3 rolled back everywhere."}, "rolled back"),
                         ({"components": ["web-2"]}, "failing then: web-1")):
        facts = card_of("bad-config-rollout-canary", with_first_update(**claim)).finding("update_facts")
        assert facts.passed is False and words in facts.what_happened, (claim, facts.what_happened)
    # A plan is not a claim: "Rolling back" before the rollback is fine.
    plan = card_of("bad-config-rollout-canary", with_first_update(action="Rolling back config v3 on web-1."))
    assert plan.finding("update_facts").passed is True


def test_trend_and_compare_show_a_masked_restoration(tmp_path: Path) -> None:
    db_path = tmp_path / "history.sqlite"
    with history.connect(db_path) as db:
        for name in ("fd-leak-release-relapse", "fd-leak-release-relapse"):
            history.store(db, card_of(name), tmp_path / name)
    run_id = card_of("fd-leak-release-relapse").run_id
    compared = CliRunner().invoke(CLI, ["scorecard", "compare", run_id, run_id, "--history", str(db_path)],
                                  terminal_width=200)
    assert compared.exit_code == 0 and "30.0 s (masked at" in compared.output and "12.5 s)" in compared.output
    trended = CliRunner().invoke(CLI, ["scorecard", "trend", "--team", "alice", "--history", str(db_path)],
                                 terminal_width=200)
    assert trended.exit_code == 0 and "30.0*" in trended.output and "masked" in trended.output, trended.output


def test_an_older_history_is_upgraded_in_place(tmp_path: Path) -> None:
    db_path = tmp_path / "history.sqlite"
    import sqlite3
    old = sqlite3.connect(db_path)
    old.executescript("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);"
                      "INSERT INTO meta VALUES ('schema_version', '1');"
                      "CREATE TABLE phases (run_id TEXT NOT NULL, phase TEXT NOT NULL, seconds REAL, target_s REAL, "
                      "passed INTEGER, PRIMARY KEY (run_id, phase)) WITHOUT ROWID;")
    old.close()
    with history.connect(db_path) as db:
        history.store(db, card_of("fd-leak-release-relapse"), tmp_path / "r")
        assert db.execute("SELECT masked FROM phases WHERE phase = 'mitigate'").fetchone()[0] == "[12.509151]"
        assert db.execute("SELECT value FROM meta").fetchone()[0] == str(history.SCHEMA_VERSION)
