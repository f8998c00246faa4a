"""Stakeholder questions on hand-built journals: answered in time, by comms, or not at all."""

from __future__ import annotations

from pathlib import Path

from scorecard_journals import TARGETS, good_run, killed_run, planned, replaced, scorecard, traffic

from scorecards.model import Finding

ASK_1 = (50.0, "stakeholder.asked", {"id": "Q1", "stakeholder": "support-lead", "title": "Support",
                                     "text": "Is checkout down?", "rule": "support-asks"})
ASK_2 = (90.0, "stakeholder.asked", {"id": "Q2", "stakeholder": "cfo", "title": "CFO",
                                     "text": "When is the next update?", "rule": "silence"})


def findings(tmp_path: Path, script: list) -> dict[str, Finding]:
    return {f.name: f for f in scorecard(tmp_path, script).findings if f.name.startswith("stakeholder")}


def with_target(script: list) -> list:
    return replaced(script, "run.planned", planned(targets={**TARGETS, "reply_s": 30}))


def test_answered_in_time_by_comms(tmp_path: Path) -> None:
    found = findings(tmp_path, with_target([*good_run(), ASK_1, ASK_2,
                                            (60.0, "team.reply", {"by": "bob", "question": "Q1", "text": "no"}),
                                            (95.0, "team.reply", {"by": "bob", "question": "Q2", "text": "soon"})]))
    assert found["stakeholder_replies"].passed is True
    assert "Q1 from support-lead" in found["stakeholder_replies"].what_happened and "10 s later" in \
        found["stakeholder_replies"].what_happened
    assert found["stakeholder_reply_role"].passed is True


def test_late_unanswered_and_by_the_commander(tmp_path: Path) -> None:
    found = findings(tmp_path, with_target([*good_run(), ASK_1, ASK_2,
                                            (85.0, "team.reply", {"by": "alice", "question": "Q1", "text": "no"})]))
    replies = found["stakeholder_replies"]
    assert replies.passed is False and "35 s later" in replies.what_happened
    assert "Q2 from cfo" in replies.what_happened and "never answered" in replies.what_happened
    role = found["stakeholder_reply_role"]
    assert role.passed is False and "by alice, the commander (bob)" in role.what_happened


def test_a_harness_stopped_before_the_deadline_is_not_a_miss(tmp_path: Path) -> None:
    found = findings(tmp_path, with_target([*killed_run(100.0), ASK_2]))
    assert found["stakeholder_replies"].passed is None and "not reached" in found["stakeholder_replies"].what_happened
    assert "stakeholder_reply_role" not in found  # nothing answered: nothing to judge


def test_no_questions_no_findings(tmp_path: Path) -> None:
    assert findings(tmp_path, good_run()) == {}


def test_answers_are_held_to_the_measurements_like_updates(tmp_path: Path) -> None:
    failing = traffic(10, 186, 20, 8)  # 40 % of requests failing until the restoration at 185.5
    asked = [*good_run(), *failing, *traffic(186, 270, 20, 0), ASK_1, ASK_2]
    honest = findings(tmp_path, with_target([
        *asked, (60.0, "team.reply", {"by": "bob", "question": "Q1", "text": "About 40 % of checkouts fail."}),
        (95.0, "team.reply", {"by": "bob", "question": "Q2", "text": "Not restored yet; next update at 10:30."})]))
    assert honest["stakeholder_reply_facts"].passed is True, honest["stakeholder_reply_facts"]
    wrong = findings(tmp_path / "wrong", with_target([
        *asked, (60.0, "team.reply", {"by": "bob", "question": "Q1", "text": "Only 2 % of checkouts fail."}),
        (95.0, "team.reply", {"by": "bob", "question": "Q2", "text": "Restored; we rolled back the script."})]))
    facts = wrong["stakeholder_reply_facts"]
    assert facts.passed is False and "3 of 3 checked claim(s) did not match" in facts.what_happened, facts
    assert "said '2 % failing': measured 40 %" in facts.what_happened
    assert "no rollback-release / rollback-config / rollback-script had run" in facts.what_happened


def test_answers_that_claim_nothing_measurable_are_not_judged(tmp_path: Path) -> None:
    found = findings(tmp_path, with_target([*good_run(), ASK_1,
                                            (60.0, "team.reply", {"by": "bob", "question": "Q1", "text": "Looking."})]))
    assert "stakeholder_reply_facts" not in found
