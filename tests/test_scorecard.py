"""The first scorecard: phase timings, cadence and impact from hand-built journals.

Each journal is written with the real Journal and a FakeClock, then read back from disk,
so the scorecard is tested on exactly what a run leaves behind.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from harness.timeline import FakeClock, Journal
from scorecards import (
    Scorecard,
    build_from_run_dir,
    render_markdown,
    render_summary,
    write_scorecard,
)

Entry = tuple[float, str, dict[str, Any]]  # (seconds since the journal opened, kind, data)
Script = list[Entry]

FAULT_T_S = 10.0
TARGETS = {"detect_s": 30, "ack_s": 60, "declare_s": 120, "first_update_s": 180, "update_every_s": 120,
           "mitigate_s": 300, "resolve_s": 600}


def planned(targets: dict[str, Any] | None = None) -> Entry:
    return (0.5, "run.planned", {"run_id": "r-1", "drill": "demo", "scenario": "hung-workers", "backend": "local",
                                 "targets": TARGETS if targets is None else targets,
                                 "truth": {"trigger": "script v2"}, "load": {"users": 5}})


def window(start_t_s: int, requests: int, failures: int, p99_ms: float | None = 50.0) -> Entry:
    # The monitor journals a second once it is over, so slightly after its end.
    return (start_t_s + 1.05, "slo.window", {"start_t_s": start_t_s, "requests": requests, "failures": failures,
                                             "p50_ms": 20.0, "p99_ms": p99_ms,
                                             "nodes": {"web-1": [requests, failures]}})


def good_run() -> Script:
    """Every phase on time: detect 12.5, ack 20.25, declare 31, first update 60, mitigate 175.5, resolve 250."""
    return [
        planned(),
        (FAULT_T_S, "fault.injected", {"index": 0, "type": "hung-workers", "target": "web-1", "ttl_s": 900}),
        (22.5, "alert.fired", {"name": "errors", "metric": "error_rate", "value": 0.4, "threshold": 0.05,
                               "node": None}),
        (30.25, "team.ack", {"by": "alice"}),
        (41.0, "team.declare", {"by": "alice", "severity": 2, "commander": "alice"}),
        (70.0, "team.update", {"by": "bob", "impact": "checkout failing", "action": "rollback", "next_update_s": 120}),
        (150.0, "team.update", {"by": "bob", "impact": "same", "action": "killing workers", "next_update_s": 120}),
        (160.0, "team.act", {"by": "carol", "action": "kill-hung-workers", "canary": "web-1", "params": {}}),
        (200.0, "restoration.detected", {"window_start_t_s": 185.5, "window_s": 10}),
        (230.0, "team.update", {"by": "bob", "impact": "none", "action": "watching", "next_update_s": 120}),
        (260.0, "team.resolve", {"by": "alice"}),
        (270.0, "run.finished", {"outcome": "completed", "run_dir": "runs/r-1"}),
    ]


def without(script: Script, kind: str) -> Script:
    return [entry for entry in script if entry[1] != kind]


def write_run(tmp_path: Path, script: Script, name: str = "r-1") -> Path:
    run_dir = tmp_path / name
    run_dir.mkdir(parents=True)
    clock = FakeClock()
    with Journal.open(run_dir / "journal.jsonl", clock) as journal:
        for t_s, kind, data in sorted(script, key=lambda entry: entry[0]):
            clock.advance(t_s - clock.elapsed_s)
            journal.append(kind, **data)
    return run_dir


def scorecard(tmp_path: Path, script: Script) -> Scorecard:
    return build_from_run_dir(write_run(tmp_path, script))


def seconds(card: Scorecard) -> dict[str, float | None]:
    return {p.phase: p.seconds_from_fault for p in card.phases}


def test_a_good_run_times_every_phase_from_the_fault(tmp_path: Path) -> None:
    card = scorecard(tmp_path, good_run())

    assert seconds(card) == {"detect": 12.5, "acknowledge": 20.25, "declare": 31.0, "first_update": 60.0,
                             "mitigate": 175.5, "resolve": 250.0}
    assert all(p.passed for p in card.phases)
    assert [p.target_s for p in card.phases] == [30, 60, 120, 180, 300, 600]
    # seq 1 is journal.opened, 2 run.planned, 3 the fault, 4 the alert, 5 the ack...
    assert card.phase("detect").evidence == (3, 4)
    assert card.phase("mitigate").evidence == (3, 10)
    assert (card.run_id, card.drill, card.scenario, card.fault_t_s) == ("r-1", "demo", "hung-workers", FAULT_T_S)
    assert card.complete and card.outcome == "completed"
    # declare 41 -> update 70 -> update 150 (the longest: 80 s) -> update 230 -> resolve 260
    assert (card.cadence.longest_gap_s, card.cadence.passed, card.cadence.updates) == (80.0, True, 3)
    assert card.cadence.evidence == (7, 8)
    assert not [f for f in card.findings if f.passed is False]


def test_a_slow_declaration_fails_its_target(tmp_path: Path) -> None:
    script = [*without(good_run(), "team.declare"),
              (FAULT_T_S + 145, "team.declare", {"by": "alice", "severity": 2, "commander": "alice"})]
    card = scorecard(tmp_path, script)

    declare = card.phase("declare")
    assert (declare.seconds_from_fault, declare.target_s, declare.passed) == (145.0, 120, False)
    assert all(p.passed for p in card.phases if p.phase != "declare")


def test_no_declaration_at_all(tmp_path: Path) -> None:
    card = scorecard(tmp_path, without(good_run(), "team.declare"))

    declare = card.phase("declare")
    assert (declare.seconds_from_fault, declare.passed, declare.evidence) == (None, False, (3,))
    finding = next(f for f in card.findings if f.name == "declaration")
    assert finding.passed is False and finding.target == "declare within 120 s of the fault"
    # The cadence then starts at the first update (fault + 60 s): 70 -> 150 -> 230 -> 260.
    assert card.cadence.longest_gap_s == 80.0


def test_no_target_means_no_verdict(tmp_path: Path) -> None:
    card = scorecard(tmp_path, [planned(targets={"detect_s": 30, "declare_s": None}),
                                *without(good_run(), "run.planned")])

    assert card.phase("detect").passed is True
    assert card.phase("declare").target_s is None and card.phase("declare").passed is None
    assert card.cadence.passed is None


def test_an_ack_before_the_fault_is_not_counted(tmp_path: Path) -> None:
    script = [*good_run(), (5.0, "team.ack", {"by": "dave"}), (6.0, "alert.fired", {"name": "noise"})]
    card = scorecard(tmp_path, script)

    assert card.phase("acknowledge").seconds_from_fault == 20.25
    assert card.phase("detect").seconds_from_fault == 12.5
    early = next(f for f in card.findings if f.name == "before_fault")
    assert early.evidence == (3, 4) and "team.ack (seq 3)" in early.what_happened

    only_early = scorecard(tmp_path / "b", [*without(good_run(), "team.ack"), (5.0, "team.ack", {"by": "dave"})])
    assert only_early.phase("acknowledge").seconds_from_fault is None
    assert only_early.phase("acknowledge").passed is False


def test_no_restoration(tmp_path: Path) -> None:
    script = [*without(without(good_run(), "restoration.detected"), "team.resolve"), window(12, 10, 9)]
    card = scorecard(tmp_path, script)

    mitigate = card.phase("mitigate")
    assert (mitigate.seconds_from_fault, mitigate.passed) == (None, False)
    assert card.phase("resolve").passed is False
    assert not card.impact.restored and card.impact.end_t_s == 270.0  # run.finished, the journal's end
    assert card.impact.failed_requests == 9
    assert next(f for f in card.findings if f.name == "restoration").passed is False


def test_an_unresolved_incident_is_silent_until_the_journal_ends(tmp_path: Path) -> None:
    script = [entry for entry in without(good_run(), "team.resolve")
              if entry[1] != "team.update" or entry[0] == 70.0]
    card = scorecard(tmp_path, script)

    # declare 41 -> update 70 -> ... nothing until run.finished at 270
    assert (card.cadence.longest_gap_s, card.cadence.passed, card.cadence.updates) == (200.0, False, 1)
    assert card.cadence.evidence == (7, 10)
    assert "to the end of the journal" in next(f for f in card.findings if f.name == "update_cadence").what_happened


def test_a_restoration_before_the_fault_does_not_count(tmp_path: Path) -> None:
    script = [*without(good_run(), "restoration.detected"),
              (12.0, "restoration.detected", {"window_start_t_s": 2.0, "window_s": 10})]
    assert scorecard(tmp_path, script).phase("mitigate").seconds_from_fault is None


def test_an_aborted_run_is_incomplete(tmp_path: Path) -> None:
    script = [entry for entry in good_run() if entry[0] <= 70.0]
    script.append((80.0, "run.aborted", {"reason": "safety limit: error budget"}))
    card = scorecard(tmp_path, script)

    assert not card.complete and card.outcome == "aborted"
    assert card.phase("declare").seconds_from_fault == 31.0
    assert card.phase("resolve").seconds_from_fault is None
    run = next(f for f in card.findings if f.name == "run")
    assert "safety limit" in run.what_happened and run.passed is None
    assert "Incomplete run" in render_markdown(card)
    assert "INCOMPLETE" in render_summary(card)[0]


def test_a_run_aborted_before_the_fault_times_nothing(tmp_path: Path) -> None:
    card = scorecard(tmp_path, [planned(), (4.0, "team.ack", {"by": "alice"}),
                                (5.0, "run.aborted", {"reason": "facilitator"}),
                                (6.0, "run.finished", {"outcome": "aborted", "run_dir": "runs/r-1"})])

    assert card.fault_t_s is None and card.complete and card.outcome == "aborted"
    assert all(p.seconds_from_fault is None and p.passed is None for p in card.phases)
    assert card.cadence.passed is None and card.impact.start_t_s is None
    assert next(f for f in card.findings if f.name == "fault").evidence == (4, 5)
    assert "| acknowledge | — | ≤ 60 s | — | — |" in render_markdown(card)


def test_a_crash_before_the_plan_is_named_by_its_directory(tmp_path: Path) -> None:
    card = build_from_run_dir(write_run(tmp_path, [], name="20240101-000000-abcdef"))
    assert card.run_id == "20240101-000000-abcdef" and not card.complete
    assert {f.name for f in card.findings} == {"plan", "run", "fault"}


def test_failed_requests_count_only_between_fault_and_restoration(tmp_path: Path) -> None:
    script = [*good_run(),
              window(8, 10, 5), window(9, 10, 5),  # before the fault (at 10.0): not counted
              window(10, 10, 1), window(11, 10, 4, p99_ms=900.0), window(12, 20, 20, p99_ms=2500.0),
              window(150, 10, 0, p99_ms=None),
              window(185, 10, 2),  # restoration at 185.5: this second is still the incident
              window(186, 10, 7), window(187, 10, 7, p99_ms=9000.0)]  # after it: not counted
    card = scorecard(tmp_path, script)

    impact = card.impact
    assert (impact.windows, impact.total_requests, impact.failed_requests) == (5, 60, 27)
    assert (impact.start_t_s, impact.end_t_s, impact.restored) == (FAULT_T_S, 185.5, True)
    assert impact.peak_error_rate == 0.625  # seconds 10-12 together: 25 of 40
    assert impact.p99_max_ms == 2500.0
    assert impact.error_rate == pytest.approx(27 / 60)


def test_the_second_the_fault_lands_in_counts(tmp_path: Path) -> None:
    script = [*without(good_run(), "fault.injected"),
              (10.4, "fault.injected", {"index": 0, "type": "hung-workers", "target": "web-1", "ttl_s": 900}),
              window(9, 10, 3), window(10, 10, 6)]
    impact = scorecard(tmp_path, script).impact
    assert (impact.windows, impact.failed_requests) == (1, 6)


def test_markdown_has_a_row_per_phase(tmp_path: Path) -> None:
    slow = [*without(good_run(), "team.declare"),
            (FAULT_T_S + 145, "team.declare", {"by": "alice", "severity": 2, "commander": "alice"})]
    text = render_markdown(scorecard(tmp_path, slow))

    assert text.startswith("# Scorecard: demo\n")
    assert "| phase | time from fault | target | result | evidence |" in text
    assert "| detect (first alert) | 12.5 s | ≤ 30 s | pass | seq 3, 4 |" in text
    assert "| declare | 145 s | ≤ 120 s | **FAIL** | seq 3, 8 |" in text
    assert "| mitigate (service restored) | 175.5 s | ≤ 300 s | pass | seq 3, 10 |" in text
    assert "| longest gap between updates | 80 s | ≤ 120 s | pass |" in text
    assert "Incomplete" not in text and "## Impact" in text and "## Findings" in text


def test_summary_lines(tmp_path: Path) -> None:
    lines = render_summary(scorecard(tmp_path, [*good_run(), window(11, 10, 4)]))
    assert lines[0] == "scorecard demo · run r-1 · outcome completed"
    assert any(line.split()[:2] == ["detect", "(first"] and line.endswith("pass") for line in lines)
    assert lines[-1].strip().startswith("failed requests 4 of 10")


def test_write_scorecard_writes_json_that_round_trips_and_markdown(tmp_path: Path) -> None:
    run_dir = write_run(tmp_path, [*good_run(), window(11, 10, 4)])
    card = write_scorecard(run_dir)

    text = (run_dir / "scorecard.json").read_text(encoding="utf-8")
    data = json.loads(text)
    assert text == json.dumps(data, indent=2, sort_keys=True) + "\n"
    assert data == card.to_dict() and data["schema_version"] == "1"
    assert Scorecard.from_dict(data) == card
    assert (run_dir / "scorecard.md").read_text(encoding="utf-8") == render_markdown(card)
    assert sorted(p.name for p in run_dir.iterdir()) == ["journal.jsonl", "scorecard.json", "scorecard.md"]

    write_scorecard(run_dir)  # rebuilding replaces the files with the same content
    assert (run_dir / "scorecard.json").read_text(encoding="utf-8") == text
