"""Phase timings, update cadence and customer impact, from hand-built journals."""

from __future__ import annotations

import pytest
from scorecard_journals import (
    FAULT_T_S,
    good_run,
    planned,
    replaced,
    scorecard,
    seq_of,
    traffic,
    window,
    without,
    write_run,
)

from scorecards import Scorecard, build_from_run_dir, render_markdown, render_summary


def seconds(card: Scorecard) -> dict[str, float | None]:
    return {p.phase: p.seconds_from_fault for p in card.phases}


def test_a_good_run_times_every_phase_from_the_fault(tmp_path) -> None:
    card = scorecard(tmp_path, good_run())

    assert seconds(card) == {"detect": 12.5, "acknowledge": 20.25, "declare": 31.0, "first_update": 60.0,
                             "mitigate": 175.5, "resolve": 250.0}
    assert all(p.passed for p in card.phases)
    assert [p.target_s for p in card.phases] == [30, 60, 120, 180, 300, 600]
    # seq 1 is journal.opened, 2 run.planned, 3 the fault, 4 the alert, 5 the ack...
    assert card.phase("detect").evidence == (3, 4)
    assert card.phase("mitigate").evidence == (3, seq_of(card, "restoration.detected"))
    assert (card.run_id, card.drill, card.scenario, card.fault_t_s) == ("r-1", "demo", "hung-workers", FAULT_T_S)
    assert card.complete and card.outcome == "resolved"
    # declare 41 -> update 70 -> update 150 (the longest: 80 s) -> update 230 -> resolve 260
    assert (card.cadence.longest_gap_s, card.cadence.passed, card.cadence.updates) == (80.0, True, 3)
    assert card.cadence.evidence == (seq_of(card, "team.update", 0), seq_of(card, "team.update", 1))
    assert card.cadence.target_source == "drill"
    assert not [f for f in card.findings if f.passed is False]
    assert card.grade.letter == "A" and card.grade.score == 100.0


def test_a_slow_declaration_fails_its_target(tmp_path) -> None:
    card = scorecard(tmp_path, replaced(good_run(), "team.declare",
                                        (FAULT_T_S + 145, "team.declare", {"by": "alice", "severity": 2,
                                                                           "commander": "alice"})))
    declare = card.phase("declare")
    assert (declare.seconds_from_fault, declare.target_s, declare.passed) == (145.0, 120, False)
    assert all(p.passed for p in card.phases if p.phase != "declare")
    assert card.finding("declare").passed is False
    assert card.finding("declare").target == "declare within 120 s of the fault"


def test_no_target_means_no_verdict(tmp_path) -> None:
    card = scorecard(tmp_path, [planned(targets={"detect_s": 30, "declare_s": None}),
                                *without(good_run(), "run.planned")])
    assert card.phase("detect").passed is True
    assert card.phase("declare").target_s is None and card.phase("declare").passed is None
    # Without the drill's update_every_s, the SEV2 policy's interval (30 minutes) applies.
    assert (card.cadence.target_s, card.cadence.target_source, card.cadence.passed) == (1800.0, "SEV2 policy", True)


def test_an_ack_before_the_fault_is_not_counted(tmp_path) -> None:
    card = scorecard(tmp_path, [*good_run(), (5.0, "team.ack", {"by": "dave"}), (6.0, "alert.fired", {"name": "x"})])
    assert card.phase("acknowledge").seconds_from_fault == 20.25
    assert card.phase("detect").seconds_from_fault == 12.5
    early = card.finding("before_fault")
    assert early.evidence == (3, 4) and "team.ack (seq 3)" in early.what_happened and early.passed is None

    only_early = scorecard(tmp_path / "b", [*without(good_run(), "team.ack"), (5.0, "team.ack", {"by": "dave"})])
    assert only_early.phase("acknowledge").seconds_from_fault is None
    assert only_early.phase("acknowledge").passed is False


def test_no_restoration(tmp_path) -> None:
    card = scorecard(tmp_path, [*without(good_run(), "restoration.detected", "team.resolve"), window(12, 10, 9)])
    mitigate = card.phase("mitigate")
    assert (mitigate.seconds_from_fault, mitigate.passed) == (None, False)
    assert card.phase("resolve").passed is False
    assert not card.impact.restored and card.impact.end_t_s == 270.0  # run.finished, the journal's end
    assert card.impact.failed_requests == 9
    assert "never" in card.finding("mitigate").what_happened


def test_an_unresolved_incident_is_silent_until_the_journal_ends(tmp_path) -> None:
    script = [entry for entry in without(good_run(), "team.resolve")
              if entry[1] != "team.update" or entry[0] == 70.0]
    card = scorecard(tmp_path, script)
    # declare 41 -> update 70 -> ... nothing until run.finished at 270
    assert (card.cadence.longest_gap_s, card.cadence.passed, card.cadence.updates) == (200.0, False, 1)
    assert card.cadence.evidence == (seq_of(card, "team.update"), seq_of(card, "run.finished"))
    assert "to the end of the journal" in card.finding("update_cadence").what_happened


def test_a_restoration_before_the_fault_does_not_count(tmp_path) -> None:
    card = scorecard(tmp_path, replaced(good_run(), "restoration.detected",
                                        (12.0, "restoration.detected", {"window_start_t_s": 2.0, "window_s": 10})))
    assert card.phase("mitigate").seconds_from_fault is None


def test_a_run_aborted_before_the_fault_times_nothing(tmp_path) -> None:
    card = scorecard(tmp_path, [planned(), (4.0, "team.ack", {"by": "alice"}),
                                (5.0, "run.aborted", {"reason": "facilitator"}),
                                (6.0, "run.finished", {"outcome": "aborted", "run_dir": "runs/r-1"})])
    assert card.fault_t_s is None and card.complete and card.outcome == "aborted"
    assert all(p.seconds_from_fault is None and p.passed is None for p in card.phases)
    assert card.cadence.passed is None and card.impact.start_t_s is None
    assert card.finding("fault").evidence == (4, 5)
    assert card.grade.letter == "-" and card.grade.score is None
    assert "| acknowledge | — | ≤ 60 s | — | — |" in render_markdown(card)


def test_a_crash_before_the_plan_is_named_by_its_directory(tmp_path) -> None:
    card = build_from_run_dir(write_run(tmp_path, [], name="20240101-000000-abcdef"))
    assert card.run_id == "20240101-000000-abcdef" and not card.complete
    assert {f.name for f in card.findings} == {"plan", "unfinished", "fault"}


def test_failed_requests_count_only_between_fault_and_restoration(tmp_path) -> None:
    script = [*good_run(),
              window(8, 10, 5), window(9, 10, 5),  # before the fault (at 10.0): not counted
              window(10, 10, 1), window(11, 10, 4, p99_ms=900.0), window(12, 20, 20, p99_ms=2500.0),
              window(150, 10, 0, p99_ms=None),
              window(185, 10, 2),  # restoration at 185.5: this second is still the incident
              window(186, 10, 7), window(187, 10, 7, p99_ms=9000.0)]  # after it: not counted
    impact = scorecard(tmp_path, script).impact
    assert (impact.windows, impact.total_requests, impact.failed_requests) == (5, 60, 27)
    assert (impact.start_t_s, impact.end_t_s, impact.restored) == (FAULT_T_S, 185.5, True)
    assert impact.peak_error_rate == 0.625  # seconds 10-12 together: 25 of 40
    assert impact.p99_max_ms == 2500.0
    assert impact.error_rate == pytest.approx(27 / 60)
    # Error-budget minutes: each second's failed share, summed, in minutes.
    assert impact.error_budget_minutes == pytest.approx(round((0.1 + 0.4 + 1.0 + 0 + 0.2) / 60, 4))
    assert impact.error_budget_share == pytest.approx(impact.error_budget_minutes / 43.2, abs=1e-6)


def test_the_second_the_fault_lands_in_counts(tmp_path) -> None:
    script = [*replaced(good_run(), "fault.injected", (10.4, "fault.injected", {"index": 0, "type": "rollout"})),
              window(9, 10, 3), window(10, 10, 6)]
    impact = scorecard(tmp_path, script).impact
    assert (impact.windows, impact.failed_requests) == (1, 6)


def test_markdown_has_a_row_per_phase(tmp_path) -> None:
    slow = replaced(good_run(), "team.declare",
                    (FAULT_T_S + 145, "team.declare", {"by": "alice", "severity": 2, "commander": "alice"}))
    card = scorecard(tmp_path, [*slow, *traffic(10, 20, 30, 15)])
    text = render_markdown(card)

    assert text.startswith("# Scorecard: demo\n")
    assert "| phase | time from fault | target | result | evidence |" in text
    assert f"| detect (first alert) | 12.5 s | ≤ 30 s | pass | seq 3, {seq_of(card, 'alert.fired')} |" in text
    assert f"| declare | 145 s | ≤ 120 s | **FAIL** | seq 3, {seq_of(card, 'team.declare')} |" in text
    assert "| longest gap between updates |" in text
    for heading in ("## Impact", "## Actions", "## Findings", "### Communication", "## Grade", "## Action items"):
        assert heading in text
    assert "Incomplete" not in text


def test_summary_lines(tmp_path) -> None:
    lines = render_summary(scorecard(tmp_path, [*good_run(), window(11, 10, 4)]))
    assert lines[0] == "scorecard demo · run r-1 · outcome resolved"
    assert lines[1].strip() == "grade A (100)"
    assert any(line.split()[:2] == ["detect", "(first"] and line.endswith("pass") for line in lines)
    assert lines[-1].strip().startswith("failed requests 4 of 10")
