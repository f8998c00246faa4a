"""Scenario and drill files: the shipped ones load; bad ones give `file:line:col: field: message`."""

from __future__ import annotations

import os
import random
import subprocess
import sys
from pathlib import Path

import pytest
from pydantic import ValidationError

from harness.errors import SpecError
from harness.plan import describe_plan
from harness.proxy.errors import ApiError
from harness.proxy.toxics import REGISTRY, wire_fields
from harness.proxy.wire import decode_attributes, get_ttl_s
from harness.spec import (
    Act,
    Declare,
    Drill,
    Pause,
    Resolve,
    Scenario,
    Script,
    Suspect,
    ToxicFault,
    WaitFor,
    load_drill,
    load_scenario,
    validate_paths,
)
from harness.spec_base import DEFAULT_COMPOSE_FILE, REPO_ROOT
from harness.spec_scenario import MAX_LEASE_S
from harness.yamlsrc import MAX_BYTES

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


# The services the tiny scenario names when its stack holds one node: lb, config and web-1.
STACK_OF_THREE = "services:\n" + "".join(f'  {name}:\n    command: ["true"]\n' for name in ("lb", "config", "web-1"))


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
    pytest.param(11, "    bake_s: soon", "11:5: faults[0].bake_s: Input should be a valid number, got 'soon'",
                 id="wrong-type-in-fault"),
    pytest.param(3, "titel: A tiny scenario",
                 "1:1: title: required\n{path}:3:1: titel: unknown key; did you mean 'title'?", id="misspelt-key"),
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
                 "18:40: alerts[0].op: Input should be '>' or '<', got '>='; did you mean '>'?", id="bad-operator"),
    pytest.param(18, '  - {name: errors, metric: error_rate, op: ">", threshold: 5, for_s: 5}',
                 "18:49: alerts[0].threshold: an error rate is a fraction from 0 to 1, not 5.0",
                 id="rate-above-one"),
])
def test_bad_scenario_lines(tmp_path: Path, line: int, new: str, expected: str) -> None:
    path = tmp_path / "tiny.yaml"
    path.write_text(edit(SCENARIO, line, new), encoding="utf-8")
    assert problems_of(path) == f"{path}:{expected}".format(path=path).splitlines()


@pytest.mark.parametrize(("line", "new", "expected"), [
    pytest.param(5, "load: {users: many, rate_per_s: 5}",
                 "5:8: load.users: Input should be a valid integer, got 'many'",
                 id="wrong-type"),
    pytest.param(5, "load: {users: true, rate_per_s: 5}",
                 "5:8: load.users: Input should be a valid integer, got True",
                 id="bool-is-not-a-count"),
    pytest.param(12, "  - declare: {severity: 5, commander: alice}",
                 "12:15: responder[1].declare.severity: Input should be less than or equal to 4, got 5",
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
                 "update, note, suspect, scope, act, escalate, resolve, reply, pause", id="unknown-step"),
    pytest.param(11, "  - wait_for: lunch",
                 "11:5: responder[0].wait_for.event: Input should be 'alert' or 'restored', got 'lunch'",
                 id="bad-shorthand"),
    pytest.param(9, "  members: [alice, bob]\n  roles: {commander: carol}",
                 "10:11: team.roles.commander: 'carol' is not a team member (alice, bob)", id="role-holder"),
    pytest.param(6, "baseline_s: 1\ninject_after_s: 3\nsurprise_window_s: [10, 5]",
                 "8:1: surprise_window_s: give inject_after_s or surprise_window_s, not both\n"
                 "{path}:8:1: surprise_window_s: the window starts after it ends ([10.0, 5.0])",
                 id="inject-twice"),
    pytest.param(7, "max_duration_s: 50000",
                 "7:1: max_duration_s: 50000 s is longer than a drill may last (43200 s, 12 h)",
                 id="longer-than-a-drill-may-last"),
    pytest.param(4, "scenario: missing.yaml", "4:1: scenario: no such file: {dir}/missing.yaml",
                 id="missing-scenario-file"),
])
def test_bad_drill_lines(tmp_path: Path, line: int, new: str, expected: str) -> None:
    _, drill_path = write_pair(tmp_path, drill=edit(DRILL, line, new))
    assert problems_of(drill_path) == f"{drill_path}:{expected}".format(
        path=drill_path, dir=tmp_path).splitlines()


def test_the_drill_decides_its_duration_the_scenario_gives_the_default(tmp_path: Path) -> None:
    _, drill_path = write_pair(tmp_path, drill=edit(DRILL, 7, "max_duration_s: 3600"))
    assert load_drill(drill_path).duration_limit_s == 3600  # above the scenario's 120: the drill raises it
    _, drill_path = write_pair(tmp_path, drill=edit(DRILL, 7, "# no limit of its own"))
    drill = load_drill(drill_path)
    assert drill.max_duration_s is None and drill.duration_limit_s == 120
    assert "stops: after 120 s" in "\n".join(describe_plan(drill))


def test_errors_in_the_scenario_name_the_scenario_file(tmp_path: Path) -> None:
    scenario_path, drill_path = write_pair(tmp_path, scenario=edit(SCENARIO, 11, "    bake_s: -1"),
                                           drill=edit(DRILL, 5, "load: {users: 0, rate_per_s: 5}"))
    assert problems_of(drill_path) == [
        f"{drill_path}:5:8: load.users: Input should be greater than or equal to 1, got 0",
        f"{scenario_path}:11:5: faults[0].bake_s: Input should be greater than or equal to 0, got -1",
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
        f'{path}:3:1: name: while constructing a mapping found duplicate key "name" with value "tinier" '
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
    (tmp_path / "stack.yml").write_text(STACK_OF_THREE, encoding="utf-8")
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


# ---- the stack against its compose file --------------------------------------------------


def test_a_node_the_compose_file_lacks_is_named_at_its_line(tmp_path: Path) -> None:
    compose = tmp_path / "stack.yml"
    compose.write_text(STACK_OF_THREE, encoding="utf-8")
    path, _ = write_pair(tmp_path, scenario=SCENARIO.replace(
        "faults:\n", "stack:\n  compose_file: stack.yml\n  nodes: [web-1, web-2]\nfaults:\n"))
    assert problems_of(path) == [f"{path}:6:18: stack.nodes[1]: 'web-2' is not a service of this compose file, "
                                 f"{compose} (services: lb, config, web-1)"]


def test_a_role_left_to_its_default_is_named_at_the_nearest_key(tmp_path: Path) -> None:
    (tmp_path / "stack.yml").write_text(STACK_OF_THREE, encoding="utf-8")
    stack = "stack: {compose_file: stack.yml}\n"
    path, _ = write_pair(tmp_path, scenario=SCENARIO.replace("faults:\n", stack + "faults:\n"))
    assert [p.split(" is not")[0] for p in problems_of(path)] == [
        f"{path}:4:1: stack.nodes[1]: 'web-2'", f"{path}:4:1: stack.nodes[2]: 'web-3'"]


def test_validate_reports_the_compose_files_problems_at_its_lines(tmp_path: Path) -> None:
    compose = tmp_path / "stack.yml"
    compose.write_text(STACK_OF_THREE + "    stop_signal: SIGFOO\n", encoding="utf-8")
    _, drill_path = write_pair(tmp_path, scenario=SCENARIO.replace(
        "faults:\n", "stack: {compose_file: stack.yml, nodes: [web-1]}\nfaults:\n"))
    expected = (f"{compose}:8:5: services.web-1.stop_signal: 'SIGFOO' is not a signal name "
                "(like SIGTERM, SIGINT, SIGQUIT)")
    assert problems_of(drill_path) == [expected]
    with pytest.raises(SpecError) as refused:
        load_drill(drill_path)
    assert [str(p) for p in refused.value.problems] == [expected]


def test_the_dry_run_plan_checks_the_stack_and_defaults_the_delay() -> None:
    drill = load_drill(SHIPPED_DRILL)
    plan = describe_plan(drill.model_copy(update={"inject_after_s": None}))
    assert "inject: 0 s after the baseline" in plan  # what the runner does without inject_after_s
    stack = drill.scenario.stack.model_copy(update={"nodes": ("web-1", "web-9")})
    wrong = drill.model_copy(update={"scenario": drill.scenario.model_copy(update={"stack": stack})})
    with pytest.raises(SpecError, match=r"stack.nodes\[1\]: 'web-9' is not a service of this compose file"):
        describe_plan(wrong)


# ---- numbers: finite, bounded; toxics as the proxy runs them -----------------------------


@pytest.mark.parametrize(("line", "new", "expected"), [
    pytest.param(11, "    bake_s: 1\n    ttl_s: .inf",
                 "12:5: faults[0].ttl_s: Input should be a finite number, got inf",
                 id="infinite-lease"),
    pytest.param(11, "    bake_s: 1\n    ttl_s: 3601",
                 "12:5: faults[0].ttl_s: Input should be less than or equal to 3600, got 3601",
                 id="lease-over-an-hour"),
    pytest.param(11, "    bake_s: .nan", "11:5: faults[0].bake_s: Input should be a finite number, got nan",
                 id="nan-bake"),
    pytest.param(11, "    bake_s: 1\n    at_s: 604801",
                 "12:5: faults[0].at_s: Input should be less than or equal to 604800, got 604801",
                 id="at-after-a-week"),
    pytest.param(19, "restoration: {max_error_rate: 0.01, max_p99_ms: .inf, window_s: 5}",
                 "19:37: restoration.max_p99_ms: Input should be a finite number, got inf", id="infinite-p99"),
    pytest.param(9, '      source: "def adjust(product, request):\\n    return ' + "-" * 3000 + '1\\n"',
                 "9:7: faults[0].artifact.source: the script's expressions are nested too deeply to parse",
                 id="script-nested-too-deeply"),
])
def test_numbers_and_scripts_the_drill_cannot_use(tmp_path: Path, line: int, new: str, expected: str) -> None:
    path = tmp_path / "tiny.yaml"
    path.write_text(edit(SCENARIO, line, new), encoding="utf-8")
    assert problems_of(path) == [f"{path}:{expected}"]


def test_an_hour_long_lease_is_accepted_by_the_spec_and_the_proxy(tmp_path: Path) -> None:
    path = tmp_path / "tiny.yaml"
    path.write_text(edit(SCENARIO, 11, f"    bake_s: 1\n    ttl_s: {MAX_LEASE_S:g}"), encoding="utf-8")
    assert load_scenario(path).faults[0].ttl_s == MAX_LEASE_S
    assert get_ttl_s({"ttl_s": int(MAX_LEASE_S)}) == MAX_LEASE_S


def with_toxic(toxic: str) -> str:
    """The tiny scenario with a second fault, a toxic: `toxic` is line 14, its attributes line 15."""
    return edit(SCENARIO, 12, f"    author: dave\n  - type: toxic\n    toxic: {toxic}")


@pytest.mark.parametrize(("toxic", "expected"), [
    pytest.param("latency\n    attributes: {latency: 800, jitter: 50}", None, id="valid"),
    pytest.param("latency\n    attributes: {latncy: 800}",
                 "15:18: faults[1].attributes.latncy: latency has no attribute 'latncy' (its attributes: latency, "
                 "jitter)", id="misspelt"),
    pytest.param("latency\n    attributes: {latency: 800.5}",
                 "15:18: faults[1].attributes.latency: 800.5 is not a 64-bit integer (Toxiproxy's attributes are "
                 "whole numbers)", id="float"),
    pytest.param("latency\n    attributes: {latency: .nan}",
                 "15:18: faults[1].attributes.latency: nan is not a 64-bit integer (Toxiproxy's attributes are "
                 "whole numbers)", id="nan"),
    pytest.param("latency\n    attributes: {latency: 9223372036854775808}",
                 "15:18: faults[1].attributes.latency: 9223372036854775808 is not a 64-bit integer (Toxiproxy's "
                 "attributes are whole numbers)", id="above-int64"),
    pytest.param("slicer\n    attributes: {average_size: 10, size_variation: 10}",
                 "15:36: faults[1].attributes.size_variation: must be 0 or more and less than average_size (10), "
                 "got 10", id="refused-by-the-toxic"),
    pytest.param("slicer", "13:5: faults[1].attributes: average_size: must be at least 1 byte, got 0",
                 id="refused-default"),
    pytest.param("lag", f"14:5: faults[1].toxic: unknown toxic 'lag'; toxics: {', '.join(sorted(REGISTRY))}",
                 id="unknown-toxic"),
])
def test_toxic_attributes_are_the_proxys_own(tmp_path: Path, toxic: str, expected: str | None) -> None:
    path = tmp_path / "tiny.yaml"
    path.write_text(with_toxic(toxic), encoding="utf-8")
    assert problems_of(path) == ([] if expected is None else [f"{path}:{expected}"])


@pytest.mark.parametrize("toxic", sorted(REGISTRY))
def test_a_toxic_the_spec_accepts_is_one_the_proxy_accepts(toxic: str) -> None:
    """For every attribute of every toxic, over values around the edges, both agree."""
    base = {"type": "toxic", "toxic": toxic}
    for field in wire_fields(REGISTRY[toxic]) or [None]:
        for value in (-(1 << 63) - 1, -(1 << 63), -5, -1, 0, 1, 10, 1000, (1 << 63) - 1, 1 << 63):
            attributes = {} if field is None else {field.metadata["wire"]: value}
            try:
                ToxicFault.model_validate({**base, "attributes": attributes})
                spec_accepts = True
            except ValidationError:
                spec_accepts = False
            try:
                decode_attributes(toxic, REGISTRY[toxic](), attributes)
                proxy_accepts = True
            except ApiError:
                proxy_accepts = False
            assert spec_accepts == proxy_accepts, (toxic, attributes)


@pytest.mark.parametrize(("line", "new", "expected"), [
    pytest.param(5, "load: {users: 10001, rate_per_s: 5}",
                 "5:8: load.users: Input should be less than or equal to 10000, got 10001", id="users"),
    pytest.param(5, "load: {users: 2, rate_per_s: .inf}",
                 "5:18: load.rate_per_s: Input should be a finite number, got inf", id="rate"),
    pytest.param(6, "baseline_s: 1\nsurprise_window_s: [.nan, 5]",
                 "7:21: surprise_window_s[0]: Input should be a finite number, got nan", id="window"),
    pytest.param(12, "  - declare: {severity: 2, commander: alice}\n  - pause: .inf",
                 "13:5: responder[2].pause.seconds: Input should be a finite number, got inf", id="pause"),
    pytest.param(13, "  - act: {by: bob, action: kill-hung-workers, params: {x: .nan}}",
                 "13:56: responder[2].act.params.x: Input should be a finite number, got nan", id="json-param"),
])
def test_drill_numbers_are_finite_and_bounded(tmp_path: Path, line: int, new: str, expected: str) -> None:
    _, drill_path = write_pair(tmp_path, drill=edit(DRILL, line, new))
    assert problems_of(drill_path) == [f"{drill_path}:{expected}"]


# ---- hostile files: every problem located ------------------------------------------------


@pytest.mark.parametrize(("content", "expected"), [
    pytest.param(b"kind: scenario\nname: ti\x00ny\n",
                 "2:9: unacceptable character #x0000: special characters are not allowed", id="nul-byte"),
    pytest.param(b"kind: scenario\nname: ti\xffny\n", "2:9: not UTF-8 text (byte 0xff)", id="not-utf8"),
    pytest.param(b"kind: scenario\nfaults:\n  - at_s: " + b"9" * 5000 + b"\n",
                 "3:11: faults[0].at_s: an integer of more than 4300 digits: refused", id="5000-digits"),
    pytest.param(b"kind: scenario\nsafety:\n  max_duration_s: 1\n  max_duration_s: 2\n",
                 '4:3: safety.max_duration_s: while constructing a mapping found duplicate key "max_duration_s" '
                 'with value "2" (original value: "1")', id="duplicate-nested-key"),
])
def test_a_bad_byte_or_token_is_located(tmp_path: Path, content: bytes, expected: str) -> None:
    path = tmp_path / "tiny.yaml"
    path.write_bytes(content)
    assert problems_of(path) == [f"{path}:{expected}"]


def test_only_regular_files_are_read_and_only_so_much(tmp_path: Path) -> None:
    fifo, loop, zero, big = (tmp_path / name for name in ("fifo.yaml", "loop.yaml", "zero.yaml", "big.yaml"))
    os.mkfifo(fifo)  # no writer: opening it to read would block
    loop.symlink_to(loop)
    zero.symlink_to("/dev/zero")  # st_size 0, endless
    big.write_bytes(b"#" * (MAX_BYTES + 1))
    assert problems_of(fifo, loop, zero, big) == [
        f"{fifo}: not a regular file (a FIFO): refused",
        f"{loop}: cannot read: Too many levels of symbolic links",
        f"{zero}: not a regular file (a character device): refused",
        f"{big}: larger than 2 MiB: not a drill, scenario or compose file",
    ]
