"""Scenario and drill files: the shipped ones load; bad ones give `file:line:col: field: message`."""

from __future__ import annotations

import random
import subprocess
import sys
from pathlib import Path

import pytest

from harness.errors import SpecError
from harness.spec import (
    Act,
    Declare,
    Drill,
    Pause,
    Resolve,
    Scenario,
    Script,
    Suspect,
    WaitFor,
    load_drill,
    load_scenario,
    validate_paths,
)
from harness.spec_base import DEFAULT_COMPOSE_FILE, REPO_ROOT

SHIPPED_SCENARIO = REPO_ROOT / "scenarios" / "hung-workers.yaml"
SHIPPED_DRILL = REPO_ROOT / "drills" / "demo.yaml"

# Line numbers matter: the expected errors below point into these texts.
SCENARIO = """\
kind: scenario
name: tiny
title: A tiny scenario
faults:
  - type: rollout
    artifact:
      kind: script
      version: v9
      source: "def adjust(product, request):\\n    return product\\n"
    canary: web-1
    bake_s: 1
    author: dave
truth:
  trigger: {kind: script_push, version: v9}
  affected_nodes: [web-1]
  fixes: [kill-hung-workers]
alerts:
  - {name: errors, metric: error_rate, op: ">", threshold: 0.05, for_s: 5}
restoration: {max_error_rate: 0.01, max_p99_ms: 500, window_s: 5}
safety:
  max_duration_s: 120
  max_error_budget_burn: 0.5
  steady_state: {max_error_rate: 0.01, max_p99_ms: 500, window_s: 3}
"""

DRILL = """\
kind: drill
name: tiny-drill
title: A tiny drill
scenario: tiny.yaml
load: {users: 2, rate_per_s: 5}
baseline_s: 1
max_duration_s: 60
team:
  members: [alice, bob]
responder:
  - wait_for: alert
  - declare: {severity: 2, commander: alice}
  - act: {by: bob, action: kill-hung-workers, canary: web-1}
"""


def edit(text: str, line: int, new: str) -> str:
    """`text` with its 1-based `line` replaced by `new` (which may hold several lines)."""
    lines = text.splitlines()
    lines[line - 1] = new
    return "\n".join(lines) + "\n"


def write_pair(tmp_path: Path, scenario: str = SCENARIO, drill: str = DRILL) -> tuple[Path, Path]:
    scenario_path, drill_path = tmp_path / "tiny.yaml", tmp_path / "drill.yaml"
    scenario_path.write_text(scenario, encoding="utf-8")
    drill_path.write_text(drill, encoding="utf-8")
    return scenario_path, drill_path


def problems_of(*paths: Path) -> list[str]:
    return [str(problem) for problem in validate_paths(paths)]


# ---- the shipped files -------------------------------------------------------------------


def test_shipped_scenario_and_drill_validate() -> None:
    assert problems_of(SHIPPED_SCENARIO, SHIPPED_DRILL) == []


def test_shipped_scenario_holds_the_ground_truth() -> None:
    scenario = load_scenario(SHIPPED_SCENARIO)
    assert scenario.stack.compose_file == DEFAULT_COMPOSE_FILE and scenario.stack.compose_file.is_file()
    assert str(scenario.truth.trigger) == "script_push v2"
    assert [str(fault.change) for fault in scenario.faults] == ["script_push v2"]
    assert scenario.truth.fixes == ("kill-hung-workers",) and scenario.truth.masks == ("rollback-script",)
    assert {str(change.change) for change in scenario.changes} == {"config_push v2", "deploy v1.0.1"}
    assert scenario.alerts[0].threshold == 0.05 and scenario.alerts[0].for_s == 5


def run_adjust(source: str, sku: str, base_price: float, timeout_s: float) -> str:
    """The script's price for one product, in a child process (killed on timeout)."""
    call = f"print(adjust({{'sku': {sku!r}, 'base_price': {base_price}}}, {{'config': {{}}}})['price'])"
    done = subprocess.run([sys.executable, "-c", f"{source}\n{call}"], capture_output=True, text=True,
                          timeout=timeout_s, check=True)
    return done.stdout.strip()


def test_the_bad_script_prices_most_skus_and_hangs_on_those_ending_in_7() -> None:
    artifact = load_scenario(SHIPPED_SCENARIO).faults[0].artifact
    assert isinstance(artifact, Script)
    assert run_adjust(artifact.source, "sku-006", 12.49, timeout_s=5) == "12.49"
    with pytest.raises(subprocess.TimeoutExpired):  # 13.74 is sku-007's catalog price
        run_adjust(artifact.source, "sku-007", 13.74, timeout_s=0.5)


def test_shipped_drill_is_the_one_minute_autopilot_demo() -> None:
    drill = load_drill(SHIPPED_DRILL)
    assert isinstance(drill.scenario, Scenario) and drill.scenario.name == "hung-workers"
    assert (drill.load.users, drill.load.rate_per_s, drill.baseline_s) == (20, 60.0, 5.0)
    assert drill.inject_delay_s(random.Random(1)) == 0.0
    steps = drill.responder
    assert [step.step for step in steps][:4] == ["wait_for", "ack", "declare", "role"]
    assert isinstance(steps[0], WaitFor) and steps[0].event == "alert"
    assert isinstance(steps[2], Declare) and (steps[2].severity, steps[2].commander) == (2, "alice")
    suspect = next(step for step in steps if isinstance(step, Suspect))
    assert suspect.change_ref == drill.scenario.truth.trigger
    acts = [(step.action, step.canary) for step in steps if isinstance(step, Act)]
    assert acts.index(("kill-hung-workers", "web-1")) < acts.index(("kill-hung-workers", None))
    assert any(isinstance(step, Pause) for step in steps)
    assert isinstance(steps[-1], Resolve) and steps[-1].by == "alice"


# ---- bad files: exact messages -----------------------------------------------------------


@pytest.mark.parametrize(("line", "new", "expected"), [
    pytest.param(11, "    bake_s: 1\n    colour: red", "12:5: faults[0].colour: unknown key",
                 id="unknown-key"),
    pytest.param(11, "    bake_s: soon", "11:5: faults[0].bake_s: Input should be a valid number",
                 id="wrong-type-in-fault"),
    pytest.param(3, "titel: A tiny scenario",
                 "1:1: title: required\n{path}:3:1: titel: unknown key", id="misspelt-key"),
    pytest.param(10, "    canary: web-9",
                 "10:5: faults[0].canary: 'web-9' is not a node (web-1, web-2, web-3)",
                 id="canary-not-a-node"),
    pytest.param(14, "  trigger: {kind: script_push, version: v8}",
                 "14:3: truth.trigger: no fault pushes script_push v8 (faults push: script_push v9)",
                 id="trigger-not-pushed"),
    pytest.param(14, "  trigger: {none: true, version: v9}",
                 "14:25: truth.trigger.version: must be absent with `none: true`",
                 id="trigger-none-and-version"),
    pytest.param(5, "  - type: chaos-monkey",
                 "5:5: faults[0].type: unknown type 'chaos-monkey'; expected one of: 'rollout', 'toxic', "
                     "'link_down', 'signal', 'restart', 'pause', 'fd_limit', 'cpu_hog'",
                 id="unknown-fault-type"),
    pytest.param(7, "      kind: release",
                 "6:5: faults[0].artifact.supported_schema: required\n"
                 "{path}:9:7: faults[0].artifact.source: unknown key", id="artifact-fields-by-kind"),
    pytest.param(9, '      source: "def adjust(product, request)\\n"',
                 "9:7: faults[0].artifact.source: SyntaxError: expected ':' (line 1 of the script)",
                 id="script-syntax-error"),
    pytest.param(18, '  - {name: errors, metric: error_rate, op: ">=", threshold: 5, for_s: 5}',
                 "18:40: alerts[0].op: Input should be '>' or '<'", id="bad-operator"),
    pytest.param(18, '  - {name: errors, metric: error_rate, op: ">", threshold: 5, for_s: 5}',
                 "18:49: alerts[0].threshold: an error rate is a fraction from 0 to 1, not 5.0",
                 id="rate-above-one"),
])
def test_bad_scenario_lines(tmp_path: Path, line: int, new: str, expected: str) -> None:
    path = tmp_path / "tiny.yaml"
    path.write_text(edit(SCENARIO, line, new), encoding="utf-8")
    assert problems_of(path) == f"{path}:{expected}".format(path=path).splitlines()


@pytest.mark.parametrize(("line", "new", "expected"), [
    pytest.param(5, "load: {users: many, rate_per_s: 5}", "5:8: load.users: Input should be a valid integer",
                 id="wrong-type"),
    pytest.param(5, "load: {users: true, rate_per_s: 5}", "5:8: load.users: Input should be a valid integer",
                 id="bool-is-not-a-count"),
    pytest.param(12, "  - declare: {severity: 5, commander: alice}",
                 "12:15: responder[1].declare.severity: Input should be less than or equal to 4",
                 id="bad-severity"),
    pytest.param(12, "  - declare: {severity: 2, commander: carol}",
                 "12:28: responder[1].declare.commander: 'carol' is not a team member (alice, bob)",
                 id="commander-not-in-team"),
    pytest.param(13, "  - act: {by: bob, action: kill-hung-workers, canary: web-9}",
                 "13:47: responder[2].act.canary: 'web-9' is not a node of the scenario's stack "
                 "(web-1, web-2, web-3)",
                 id="canary-not-a-scenario-node"),
    pytest.param(11, "  - acknowledge: alice",
                 "11:5: responder[0]: unknown step 'acknowledge'; steps: wait_for, ack, declare, role, "
                 "update, note, suspect, scope, act, escalate, resolve, pause", id="unknown-step"),
    pytest.param(11, "  - wait_for: lunch",
                 "11:5: responder[0].wait_for.event: Input should be 'alert' or 'restored'",
                 id="bad-shorthand"),
    pytest.param(9, "  members: [alice, bob]\n  roles: {commander: carol}",
                 "10:11: team.roles.commander: 'carol' is not a team member (alice, bob)", id="role-holder"),
    pytest.param(6, "baseline_s: 1\ninject_after_s: 3\nsurprise_window_s: [10, 5]",
                 "8:1: surprise_window_s: give inject_after_s or surprise_window_s, not both\n"
                 "{path}:8:1: surprise_window_s: the window starts after it ends ([10.0, 5.0])",
                 id="inject-twice"),
    pytest.param(7, "max_duration_s: 600",
                 "7:1: max_duration_s: above the scenario's safety.max_duration_s (120)",
                 id="longer-than-safe"),
    pytest.param(4, "scenario: missing.yaml", "4:1: scenario: no such file: {dir}/missing.yaml",
                 id="missing-scenario-file"),
])
def test_bad_drill_lines(tmp_path: Path, line: int, new: str, expected: str) -> None:
    _, drill_path = write_pair(tmp_path, drill=edit(DRILL, line, new))
    assert problems_of(drill_path) == f"{drill_path}:{expected}".format(
        path=drill_path, dir=tmp_path).splitlines()


def test_errors_in_the_scenario_name_the_scenario_file(tmp_path: Path) -> None:
    scenario_path, drill_path = write_pair(tmp_path, scenario=edit(SCENARIO, 11, "    bake_s: -1"),
                                           drill=edit(DRILL, 5, "load: {users: 0, rate_per_s: 5}"))
    assert problems_of(drill_path) == [
        f"{drill_path}:5:8: load.users: Input should be greater than or equal to 1",
        f"{scenario_path}:11:5: faults[0].bake_s: Input should be greater than or equal to 0",
    ]
    # Named directly as well, the scenario's problem is reported once.
    assert len(problems_of(drill_path, scenario_path)) == 2


def test_yaml_syntax_error(tmp_path: Path) -> None:
    path = tmp_path / "tiny.yaml"
    path.write_text(edit(SCENARIO, 15, "  affected_nodes: [web-1"), encoding="utf-8")
    assert problems_of(path) == [
        f"{path}:16:8: while parsing a flow sequence expected ',' or ']', but got ':'"]


def test_duplicate_key(tmp_path: Path) -> None:
    path = tmp_path / "tiny.yaml"
    path.write_text(edit(SCENARIO, 2, "name: tiny\nname: tinier"), encoding="utf-8")
    assert problems_of(path) == [
        f'{path}:3:1: while constructing a mapping found duplicate key "name" with value "tinier" '
        '(original value: "tiny")']


@pytest.mark.parametrize(("text", "expected"), [
    pytest.param(SCENARIO.replace("kind: scenario\n", ""), "1:1: kind: required: scenario or drill",
                 id="no-kind"),
    pytest.param(edit(SCENARIO, 1, "kind: runbook"), "1:1: kind: expected scenario or drill, not 'runbook'",
                 id="unknown-kind"),
    pytest.param("- just\n- a list\n", "1:1: expected a mapping with `kind: scenario` or `kind: drill`",
                 id="not-a-mapping"),
    pytest.param("", "expected a mapping with `kind: scenario` or `kind: drill`", id="empty"),
])
def test_kind_tells_scenarios_from_drills(tmp_path: Path, text: str, expected: str) -> None:
    path = tmp_path / "thing.yaml"
    path.write_text(text, encoding="utf-8")
    assert problems_of(path) == [f"{path}:{expected}" if expected[0].isdigit() else f"{path}: {expected}"]


def test_unreadable_files_are_problems_not_tracebacks(tmp_path: Path) -> None:
    missing = tmp_path / "nope.yaml"
    assert problems_of(missing) == [f"{missing}: cannot read: No such file or directory"]
    assert problems_of(tmp_path) == [f"{tmp_path}: cannot read: Is a directory"]


def test_loaders_raise_every_problem_at_once(tmp_path: Path) -> None:
    drill = edit(edit(DRILL, 12, "  - declare: {severity: 0, commander: al}"), 6, "baseline_s: -1")
    _, drill_path = write_pair(tmp_path, drill=drill)
    with pytest.raises(SpecError) as caught:
        load_drill(drill_path)
    assert [p.field for p in caught.value.problems] == ["baseline_s", "responder[1].declare.severity"]
    with pytest.raises(SpecError, match=r"kind: Input should be 'scenario'"):
        load_scenario(drill_path)


def test_paths_resolve_relative_to_their_file(tmp_path: Path) -> None:
    (tmp_path / "stack.yml").write_text("services: {}\n", encoding="utf-8")
    stack = "stack: {compose_file: stack.yml, nodes: [web-1]}\n"
    scenario_text = SCENARIO.replace("faults:\n", stack + "faults:\n")
    (tmp_path / "drills").mkdir()
    write_pair(tmp_path, scenario=scenario_text)
    drill_path = tmp_path / "drills" / "drill.yaml"
    drill_path.write_text(edit(DRILL, 4, "scenario: ../tiny.yaml\nruns_dir: ../runs"), encoding="utf-8")
    drill = load_drill(drill_path)
    assert isinstance(drill, Drill)
    assert drill.scenario.stack.compose_file == tmp_path / "stack.yml"
    assert drill.runs_dir == tmp_path / "runs"


def test_surprise_window_draws_from_the_rng(tmp_path: Path) -> None:
    _, drill_path = write_pair(tmp_path, drill=edit(DRILL, 6, "baseline_s: 1\nsurprise_window_s: [10, 20]"))
    drill = load_drill(drill_path)
    delays = {drill.inject_delay_s(random.Random(seed)) for seed in range(20)}
    assert all(10 <= delay <= 20 for delay in delays) and len(delays) > 1
