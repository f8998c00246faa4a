"""Each scoring rule on hand-built journals, including the edge cases a real game day
produces: no declaration, updates before the declaration, a relapse, an aborted drill,
two commanders."""

from __future__ import annotations

from scorecard_journals import (
    FAULT_T_S,
    TRUTH,
    good_run,
    planned,
    replaced,
    scorecard,
    seq_of,
    traffic,
    window,
    without,
)

from scorecards import WEIGHTS, render_markdown, render_summary
from scorecards.grade import grade, letter
from scorecards.model import Finding

DECLARE_BOB = (41.0, "team.declare", {"by": "alice", "severity": 2, "commander": "alice"})


def act(t_s: float, action: str, by: str = "carol", canary: str | None = None, ok: bool = True,
        detail: str = "done") -> list[tuple[float, str, dict[str, object]]]:
    return [(t_s, "team.act", {"by": by, "action": action, "canary": canary, "params": {}}),
            (t_s + 0.2, "action.result", {"action": action, "ok": ok, "nodes": [], "detail": detail})]


# ---- edge cases named by the issue ---------------------------------------------------


def test_no_declaration_at_all(tmp_path) -> None:
    card = scorecard(tmp_path, [*without(good_run(), "team.declare"), *traffic(10, 185, 30, 6)])

    declare = card.phase("declare")
    assert (declare.seconds_from_fault, declare.passed, declare.evidence) == (None, False, (3,))
    assert card.finding("declare").passed is False
    assert card.severity.declared is None and card.finding("severity").passed is None
    assert "never declared" in card.finding("severity").what_happened
    # The cadence then starts at the first update (fault + 60 s): 70 -> 150 -> 230 -> 260.
    assert card.cadence.longest_gap_s == 80.0
    early = card.finding("updates_before_declaration")
    assert early.passed is None and "never declared" in early.what_happened and len(early.evidence) == 3
    # No commander: the role fails; hands off the keyboard cannot be judged.
    assert card.finding("role_commander").passed is False
    assert "hands_off_keyboard" not in {f.name for f in card.findings}
    assert any(item.key == "declare" for item in card.action_items)


def test_updates_before_the_declaration(tmp_path) -> None:
    card = scorecard(tmp_path, replaced(good_run(), "team.declare",
                                        (80.0, "team.declare", {"by": "alice", "severity": 2, "commander": "alice"})))
    early = card.finding("updates_before_declaration")
    assert early.evidence == (seq_of(card, "team.update", 0),) and early.passed is None
    # The first update after declaring (80) is the one at 150: 70 s, within the SEV2 policy's 600 s.
    after = card.finding("first_update_after_declare")
    assert after.passed is True and "70 s after declaring SEV2" in after.what_happened
    assert card.phase("first_update").seconds_from_fault == 60.0  # still the first update after the fault


def test_a_relapse_after_a_restart_counts_against(tmp_path) -> None:
    script = [*without(good_run(), "team.act", "action.result"), *act(170.0, "restart"),
              *traffic(10, 185, 30, 20), *traffic(185, 205, 30, 0),
              (206.0, "slo.breached", {"window_end_t_s": 205.0, "error_rate": 0.6, "relapse": True}),
              *traffic(205, 240, 30, 18),
              (245.0, "restoration.detected", {"window_start_t_s": 240.0, "window_s": 10}),
              *traffic(240, 250, 30, 0)]
    card = scorecard(tmp_path, script)

    masked = card.finding("fixed_not_masked")
    assert masked.passed is False and "relapsed" in masked.what_happened and "restart" in masked.what_happened
    assert seq_of(card, "slo.breached") in masked.evidence
    # The mitigation is the restoration that held; the first one is only "masked at".
    mitigate = card.phase("mitigate")
    assert mitigate.seconds_from_fault == 230.0 and mitigate.masked_s == (175.5,)
    assert "masked at fault + 175.5 s" in card.finding("mitigate").what_happened
    assert card.impact.end_t_s == 240.0 and card.impact.restored
    assert card.impact.failed_requests == 175 * 20 + 35 * 18  # seconds 10-184 and 205-239
    assert any(e.kind == "slo.breached" and e.label.startswith("RELAPSE") for e in card.timeline)


def test_a_relapse_seen_only_in_the_windows(tmp_path) -> None:
    """A journal without slo.breached (an older monitor) still shows the relapse in its windows."""
    script = [*good_run(), *traffic(186, 200, 30, 0), *traffic(200, 204, 30, 25)]
    card = scorecard(tmp_path, script)
    assert card.finding("fixed_not_masked").passed is False
    assert "still failing when the journal ended" in card.finding("fixed_not_masked").what_happened
    assert not card.impact.restored and card.impact.end_t_s == 270.0


def test_an_aborted_drill(tmp_path) -> None:
    script = [entry for entry in good_run() if entry[0] <= 70.0]
    script += [(80.0, "safety.tripped", {"limit": "max_error_budget_burn", "value": 0.95}),
               (80.5, "run.aborted", {"reason": "error budget burn 95% over the limit", "outcome": "aborted"}),
               (81.0, "run.finished", {"outcome": "aborted", "run_dir": "runs/r-1"})]
    card = scorecard(tmp_path, script)

    assert card.complete and card.outcome == "aborted"
    assert card.phase("declare").seconds_from_fault == 31.0
    assert card.phase("resolve").seconds_from_fault is None
    aborted = card.finding("aborted")
    assert aborted.passed is None and "error budget burn" in aborted.what_happened
    assert aborted.evidence == (seq_of(card, "run.aborted"),)
    assert card.grade.letter in {"A", "B", "C", "D", "F"}  # still graded on what happened before the abort


def test_an_aborted_drill_that_never_finished(tmp_path) -> None:
    script = [entry for entry in good_run() if entry[0] <= 70.0]
    card = scorecard(tmp_path, [*script, (80.0, "run.aborted", {"reason": "SIGTERM"})])
    assert not card.complete and card.outcome == "aborted"
    assert "never finished" in card.finding("aborted").what_happened
    assert "Incomplete run" in render_markdown(card)
    assert "INCOMPLETE" in render_summary(card)[0]


def test_two_commanders(tmp_path) -> None:
    script = [*good_run(), (50.0, "team.declare", {"by": "bob", "severity": 1, "commander": "bob"}),
              *act(120.0, "restart", by="bob"), *traffic(10, 185, 30, 18)]
    card = scorecard(tmp_path, script)

    clash = card.finding("single_commander")
    assert clash.passed is False and "two commanders" in clash.what_happened
    assert clash.evidence == (seq_of(card, "team.declare", 0), seq_of(card, "team.declare", 1))
    # bob, now believing he commands, typed the restart while others were present.
    assert card.finding("hands_off_keyboard").passed is False
    assert "re-declared as SEV1" in card.finding("severity").what_happened


def test_a_clean_handover_is_one_commander_at_a_time(tmp_path) -> None:
    card = scorecard(tmp_path, [*good_run(), (90.0, "team.role", {"by": "alice", "role": "commander", "who": "bob"})])
    handover = card.finding("single_commander")
    assert handover.passed is True and "handed over to bob" in handover.what_happened


# ---- roles ----------------------------------------------------------------------------


def test_roles_named_and_when(tmp_path) -> None:
    card = scorecard(tmp_path, good_run())
    assert [(r.role, r.who, r.seconds_from_fault) for r in card.roles] == [
        ("commander", "alice", 31.0), ("comms", "bob", 32.0), ("scribe", "dave", 33.0)]
    assert card.finding("role_scribe").passed is True
    assert "(planned: alice)" in card.finding("role_commander").target

    no_scribe = scorecard(tmp_path / "b", [e for e in good_run() if e[2].get("role") != "scribe"])
    assert no_scribe.finding("role_scribe").passed is False
    assert any(item.key == "role_scribe" for item in no_scribe.action_items)


def test_the_commander_also_holding_comms_fails_it(tmp_path) -> None:
    script = [e for e in good_run() if e[2].get("role") != "comms"]
    card = scorecard(tmp_path, [*script, (42.0, "team.role", {"by": "alice", "role": "comms", "who": "alice"})])
    comms = card.finding("role_comms")
    assert comms.passed is False and "also the commander" in comms.what_happened


def test_hands_off_keyboard(tmp_path) -> None:
    typing = scorecard(tmp_path, [*without(good_run(), "team.act", "action.result"),
                                  *act(160.0, "kill-hung-workers", by="alice", canary="web-1")])
    finding = typing.finding("hands_off_keyboard")
    assert finding.passed is False and "bob" in finding.what_happened
    assert finding.evidence == (seq_of(typing, "team.act"),)

    alone = scorecard(tmp_path / "alone", [planned(members=("alice",)), *[
        e for e in good_run() if e[1] in ("fault.injected", "team.declare", "restoration.detected")],
        *act(160.0, "kill-hung-workers", by="alice")])
    assert alone.finding("hands_off_keyboard").passed is True  # nobody else to hand the keyboard to


# ---- communication --------------------------------------------------------------------


def test_update_content_and_promises(tmp_path) -> None:
    script = replaced(good_run(), "team.update",
                      (70.0, "team.update", {"by": "bob", "impact": "checkout failing", "action": "rollback",
                                             "next_update_s": 30}),
                      (150.0, "team.update", {"by": "bob", "impact": "same", "action": " ", "next_update_s": None}),
                      (230.0, "team.update", {"by": "bob", "impact": "none", "action": "watching"}))
    card = scorecard(tmp_path, script)
    content = card.finding("update_content")
    second = seq_of(card, "team.update", 1)
    assert content.passed is False and content.evidence == (second,)
    assert f"seq {second} lacks current action and next-update time" in content.what_happened
    assert "2 of 3" in content.what_happened  # the closing update needs no next-update time
    promises = card.finding("update_promises")
    assert promises.passed is False and "50 s late" in promises.what_happened  # promised at 70 + 30, came at 150


def test_the_first_update_after_declaring_follows_the_severity_policy(tmp_path) -> None:
    late = replaced(good_run(), "team.declare",
                    (41.0, "team.declare", {"by": "alice", "severity": 1, "commander": "alice"}))
    late = without(late, "team.update")
    late = [*late, (41.0 + 301, "team.update", {"by": "bob", "impact": "x", "action": "y", "next_update_s": 60})]
    finding = scorecard(tmp_path, late).finding("first_update_after_declare")
    assert finding.passed is False and "SEV1 policy" in (finding.target or "") and "301 s" in finding.what_happened


# ---- severity, trigger, scope ---------------------------------------------------------


def test_severity_declared_against_measured(tmp_path) -> None:
    outage = traffic(10, 185, 30, 18)  # 60 % failing: a near-total outage is SEV1
    cases = {1: True, 2: False, 3: False}
    for declared, passed in cases.items():
        script = replaced(good_run(), "team.declare",
                          (41.0, "team.declare", {"by": "alice", "severity": declared, "commander": "alice"}))
        card = scorecard(tmp_path / f"sev{declared}", [*script, *outage])
        assert card.severity.measured == 1 and card.severity.failed_share == 0.6
        assert card.finding("severity").passed is passed, declared
    mild = scorecard(tmp_path / "mild", [*good_run(), *traffic(10, 185, 100, 3)])  # 3 %: SEV3
    assert mild.severity.measured == 3
    assert mild.finding("severity").passed is True  # declared SEV2: one level worse is caution
    assert "over-declared" in mild.finding("severity").what_happened


def test_trigger_identified_with_a_wrong_lead_first(tmp_path) -> None:
    script = replaced(good_run(), "team.suspect", (90.0, "team.suspect", {"by": "alice", "change": "config_push v2"}),
                      (100.0, "team.suspect", {"by": "alice", "change": "Script_Push  v2"}))
    card = scorecard(tmp_path, script)
    assert card.diagnosis.suspects == ("config_push v2", "script_push v2")
    assert card.diagnosis.trigger_identified is True and card.diagnosis.identify_s == 90.0
    assert card.finding("trigger").passed is True

    wrong_last = scorecard(tmp_path / "b", [*script, (110.0, "team.suspect", {"by": "bob", "change": "deploy v1.0.1"})])
    assert wrong_last.finding("trigger").passed is False
    assert "the last suspect is not the trigger" in wrong_last.finding("trigger").what_happened


def test_a_suspect_named_by_change_id(tmp_path) -> None:
    script = replaced(good_run(), "fault.injected",
                      (FAULT_T_S, "fault.injected", {"index": 0, "type": "rollout", "change_ids": [7, 8],
                                                     "change": {"kind": "script_push", "version": "v2"}}),
                      (5.0, "change.pushed", {"artifact_kind": "config", "version": "v2", "change_id": 6}))
    script = replaced(script, "team.suspect", (100.0, "team.suspect", {"by": "alice", "change": "6"}),
                      (110.0, "team.suspect", {"by": "alice", "change": "7"}))
    card = scorecard(tmp_path, script)
    assert card.diagnosis.suspects == ("config_push v2", "script_push v2")
    assert card.diagnosis.identify_s == 100.0 and card.diagnosis.trigger_identified


def test_no_change_triggered_it(tmp_path) -> None:
    leak = {**TRUTH, "trigger": {"none": True}}
    quiet = scorecard(tmp_path, [planned(truth=leak), *without(good_run(), "run.planned", "team.suspect")])
    assert quiet.diagnosis.trigger_truth == "no change"
    assert quiet.finding("trigger").passed is False and "never stated" in quiet.finding("trigger").what_happened
    # "none" (the CLI's word) and "no change" are the same answer, and right here.
    for said in ("none", "No change", "no recent change"):
        answered = scorecard(tmp_path / said, replaced([planned(truth=leak), *without(good_run(), "run.planned")],
                                                       "team.suspect", (95.0, "team.suspect",
                                                                        {"by": "alice", "change": said})))
        assert answered.finding("trigger").passed is True, said
        assert answered.diagnosis.suspects == ("no change",)

    blamed = scorecard(tmp_path / "b", [planned(truth=leak), *without(good_run(), "run.planned")])
    assert blamed.finding("trigger").passed is False and "no recent change did" in blamed.finding(
        "trigger").what_happened


def test_none_is_wrong_when_a_change_triggered_it(tmp_path) -> None:
    card = scorecard(tmp_path, replaced(good_run(), "team.suspect",
                                        (95.0, "team.suspect", {"by": "alice", "change": "none"})))
    trigger = card.finding("trigger")
    assert trigger.passed is False and "a recent change did trigger it (script_push v2)" in trigger.what_happened


def test_scope_against_the_affected_nodes(tmp_path) -> None:
    card = scorecard(tmp_path, replaced(good_run(), "team.scope",
                                        (101.0, "team.scope", {"by": "alice", "nodes": ["web-1", "lb"]})))
    scope = card.finding("scope")
    assert scope.passed is False and "missed web-2, web-3" in scope.what_happened and "never failed: lb" in \
        scope.what_happened
    assert card.diagnosis.scope_recorded == ("lb", "web-1")
    never = scorecard(tmp_path / "b", without(good_run(), "team.scope"))
    assert never.finding("scope").passed is False and never.diagnosis.scope_recorded is None


# ---- mitigation -----------------------------------------------------------------------


def test_canary_before_global(tmp_path) -> None:
    assert scorecard(tmp_path, good_run()).finding("canary_first").passed is True
    straight = scorecard(tmp_path / "b", [*without(good_run(), "team.act", "action.result"),
                                          *act(170.0, "kill-hung-workers")])
    finding = straight.finding("canary_first")
    assert finding.passed is False and finding.evidence == (seq_of(straight, "team.act"),)


def test_an_action_that_made_it_worse(tmp_path) -> None:
    script = [*good_run(), *act(120.0, "isolate", canary=None), *traffic(110, 120, 30, 3),
              *[window(t, 30, 25, nodes={"web-1": [10, 10], "web-2": [10, 10], "web-3": [10, 5]})
                for t in range(120, 125)]]
    card = scorecard(tmp_path, script)
    review = next(a for a in card.actions if a.action == "isolate")
    assert (review.error_rate_before, review.error_rate_after, review.verdict) == (0.1, 0.8333, "worse")
    assert review.truth_label == "worsens"
    assert review.failing_nodes_before == ("web-1", "web-2", "web-3")  # 1 of 10 each: above 5 %
    worse = card.finding("made_worse")
    assert worse.passed is False and "isolate" in worse.what_happened and review.seq in worse.evidence


def test_ineffective_actions(tmp_path) -> None:
    script = [*good_run(), *act(100.0, "rollback-release", ok=False, detail="no release rollout to roll back"),
              *act(130.0, "restart"), *traffic(95, 135, 30, 15)]
    card = scorecard(tmp_path, script)
    verdicts = {a.action: a.verdict for a in card.actions}
    assert verdicts["rollback-release"] == "failed" and verdicts["restart"] == "no_effect"
    finding = card.finding("ineffective")
    assert finding.passed is False and "no release rollout" in finding.what_happened
    assert "restart" in finding.what_happened


def test_a_canary_is_judged_on_its_own_node(tmp_path) -> None:
    healing = [window(t, 30, 20, nodes={"web-1": [10, 0 if t >= 160 else 10], "web-2": [10, 10],
                                        "web-3": [10, 10]}) for t in range(150, 165)]
    card = scorecard(tmp_path, [*good_run(), *healing])
    canary = card.actions[0]
    assert canary.canary == "web-1" and (canary.error_rate_before, canary.error_rate_after) == (1.0, 0.0)
    assert canary.verdict == "helped"


def test_only_masked_without_a_relapse(tmp_path) -> None:
    card = scorecard(tmp_path, [*without(good_run(), "team.act", "action.result"),
                                *act(160.0, "rollback-script", canary="web-1"), *act(170.0, "rollback-script")])
    finding = card.finding("fixed_not_masked")
    assert finding.passed is False and "relieve the symptom" in finding.what_happened


# ---- escalation, impact, grade --------------------------------------------------------


def test_escalation(tmp_path) -> None:
    outage = traffic(10, 185, 30, 18)
    quick = scorecard(tmp_path, [*good_run(), *outage])
    assert quick.finding("escalation").passed is None  # over before the SEV1 policy's 300 s were up

    target = planned(targets={"escalate_s": 20})
    late = scorecard(tmp_path / "late", [target, *without(good_run(), "run.planned"), *outage,
                                         (60.0, "team.escalate", {"by": "alice", "to": "payments-oncall"})])
    finding = late.finding("escalation")
    assert finding.passed is False and "payments-oncall" in finding.what_happened
    assert "(drill;" in (finding.target or "")

    never = scorecard(tmp_path / "never", [target, *without(good_run(), "run.planned"), *outage])
    assert never.finding("escalation").passed is False and "never escalated" in never.finding(
        "escalation").what_happened

    mild = scorecard(tmp_path / "mild", [*good_run(), *traffic(10, 185, 100, 3)])
    assert mild.finding("escalation").passed is None and "no escalation expected" in mild.finding(
        "escalation").what_happened


def test_error_budget(tmp_path) -> None:
    # Sized to the drill: a full outage for all 175 s from the fault to the restoration burns far
    # more than a quarter of what this 4-minute drill could burn (though only 7 % of the month).
    card = scorecard(tmp_path, [*good_run(), *traffic(10, 185, 30, 30)])
    budget = card.finding("error_budget")
    assert card.impact.error_budget_minutes == round(175 / 60, 4)
    assert budget.passed is False and budget.category == "impact" and "this drill could burn" in budget.what_happened
    # One request in ten failing over the same stretch is 17.5 s of outage: within a quarter.
    light = scorecard(tmp_path / "light", [*good_run(), *traffic(10, 185, 30, 3)])
    assert light.finding("error_budget").passed is True


def test_grade_weights_and_parts() -> None:
    assert sum(WEIGHTS.values()) == 100
    findings = [Finding("response", "detect", "", None, True, ()), Finding("response", "declare", "", None, False, ()),
                Finding("roles", "role_scribe", "", None, False, ()), Finding("roles", "x", "", None, None, ()),
                Finding("run", "aborted", "", None, None, ())]
    result = grade(findings)
    parts = {p.part: p for p in result.parts}
    assert (parts["response"].checks, parts["response"].passed, parts["response"].score) == (2, 1, 0.5)
    assert parts["roles"].checks == 1 and parts["escalation"].score is None
    # Only response (20) and roles (10) had checks: (20 * 0.5 + 10 * 0) / 30.
    assert result.score == 33.3 and result.letter == "F"
    assert [letter(s) for s in (95, 85, 75, 65, 10)] == ["A", "B", "C", "D", "F"]


def test_every_finding_explains_itself(tmp_path) -> None:
    card = scorecard(tmp_path, [*good_run(), *traffic(10, 185, 30, 18), *act(175.0, "restart")])
    for finding in card.findings:
        assert finding.what_happened and finding.category in (*WEIGHTS, "run"), finding
        if finding.passed is not None:
            assert finding.target, finding
            assert finding.evidence or finding.name.startswith("role_"), finding
    assert {f.category for f in card.findings} >= {"response", "communication", "roles", "severity", "diagnosis",
                                                   "mitigation", "impact", "escalation"}
