"""The game master's part of a drill file: injects and stakeholders, checked at file:line."""

from __future__ import annotations

from pathlib import Path

from harness.compression import compress
from harness.spec import load_drill, validate_paths
from harness.spec_base import REPO_ROOT
from harness.spec_injects import escalated

EXAMPLES = REPO_ROOT / "drills" / "examples"
SCENARIO = EXAMPLES / "scenarios" / "game-master.yaml"

# Line numbers matter: the expected errors below point into this text.
DRILL = f"""\
kind: drill
name: gm
title: Game master
scenario: {SCENARIO}
load: {{users: 2, rate_per_s: 5}}
baseline_s: 1
max_duration_s: 60
team:
  members: [alice, bob]
stakeholders:
  - {{name: support-lead, title: Support}}
injects:
  - name: one
    when: {{no_ack_for_s: 5}}
    then:
      - ask: {{stakeholder: support-lead, text: "Is checkout down?"}}
"""


def problems(tmp_path: Path, injects: str) -> list[str]:
    path = tmp_path / "drill.yaml"
    path.write_text(DRILL.split("injects:\n")[0] + "injects:\n" + injects, encoding="utf-8")
    return [str(p).replace(str(path), "drill.yaml") for p in validate_paths([path])]


def test_the_examples_validate_and_hold_their_rules() -> None:
    assert [str(p) for p in validate_paths([EXAMPLES / "game-master.yaml", EXAMPLES / "game-master-autopilot.yaml",
                                            SCENARIO])] == []
    drill = load_drill(EXAMPLES / "game-master-autopilot.yaml")
    assert [rule.when.condition for rule in drill.injects] == ["no_ack_for_s", "at_s", "fixed_before_s"]
    assert drill.scenario.faults[1].hold and not drill.scenario.faults[0].hold


def test_a_good_rule_validates(tmp_path: Path) -> None:
    assert problems(tmp_path, DRILL.split("injects:\n")[1]) == []


def test_two_conditions_or_none_are_refused_at_their_line(tmp_path: Path) -> None:
    found = problems(tmp_path, "  - name: two\n    when: {at_s: 5, relapse: true}\n    then: [{inject: 1}]\n"
                               "  - name: none\n    when: {}\n    then: [{inject: 1}]\n")
    assert any(p.startswith("drill.yaml:14:") and "exactly one condition" in p and "at_s, relapse" in p
               for p in found), found
    assert any(p.startswith("drill.yaml:17:") and "(got none)" in p for p in found), found


def test_an_unknown_stakeholder_and_fault_index_name_the_effect(tmp_path: Path) -> None:
    found = problems(tmp_path, "  - name: r\n    when: {relapse: true}\n    then:\n"
                               "      - ask: {stakeholder: ceo, text: hi}\n"
                               "      - inject: 7\n"
                               "      - inject: 0\n")
    assert any(p.startswith("drill.yaml:16:") and "injects[0].then[0].ask.stakeholder" in p and "'ceo'" in p
               for p in found), found
    assert any(p.startswith("drill.yaml:17:") and "7 is not a fault of the scenario" in p for p in found), found
    assert any(p.startswith("drill.yaml:18:") and "hold: true" in p for p in found), found


def test_an_escalation_is_validated_as_the_fault_it_makes(tmp_path: Path) -> None:
    found = problems(tmp_path, "  - name: worse\n    when: {at_s: 3}\n    then:\n"
                               "      - escalate: {fault: 0, set: {attributes: {lag: 5}}}\n"
                               "      - escalate: {fault: 1, set: {proxy: x}}\n")
    assert any("injects[0].then[0].escalate.set" in p and "no attribute 'lag'" in p for p in found), found
    assert any("injects[0].then[1].escalate.set" in p and "a link_down fault has no strength" in p
               for p in found), found


def test_without_canary_needs_an_action(tmp_path: Path) -> None:
    found = problems(tmp_path, "  - name: a\n    when: {at_s: 3, without_canary: true}\n    then: [{inject: 1}]\n")
    assert any(p.startswith("drill.yaml:14:") and "without_canary" in p and "only with `action`" in p
               for p in found), found


def test_rule_names_are_unique(tmp_path: Path) -> None:
    found = problems(tmp_path, "  - name: a\n    when: {at_s: 3}\n    then: [{inject: 1}]\n"
                               "  - name: a\n    when: {action: restart}\n    then: [{inject: 1}]\n")
    assert any(p.startswith("drill.yaml:16:") and "duplicate rule name 'a'" in p for p in found), found


def test_escalated_merges_attributes_over_the_fault() -> None:
    latency = load_drill(EXAMPLES / "game-master-autopilot.yaml").scenario.faults[0]
    stronger = escalated(latency, {"attributes": {"latency": 1500}})
    assert stronger.attributes == {"latency": 1500, "jitter": 0} and stronger.toxic == "latency"
    assert latency.attributes["latency"] == 500  # the loaded scenario is never changed


def test_time_compression_divides_the_rules_times() -> None:
    drill = load_drill(EXAMPLES / "game-master.yaml")
    fast = compress(drill.model_copy(update={"time_compression": 3.0}))
    assert [r.when.no_ack_for_s for r in fast.injects][:1] == [30.0]
    assert fast.injects[1].when.at_s == 20.0 and fast.injects[3].when.no_update_for_s == 80.0
    assert fast.injects[5].when.fixed_before_s == 100.0


def test_stakeholder_names_are_unique(tmp_path: Path) -> None:
    path = tmp_path / "drill.yaml"
    path.write_text(DRILL.replace("  - {name: support-lead, title: Support}\n",
                                  "  - {name: support-lead, title: Support}\n  - {name: support-lead, title: B}\n"))
    assert any(":12:" in str(p) and "duplicate stakeholder" in str(p) for p in validate_paths([path]))
