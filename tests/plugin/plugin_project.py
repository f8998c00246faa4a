"""Helpers for the plugin's tests: a small scenario, drill files for it, inner pytest runs.

The scenario is a bad config push (a schema the release does not support makes every shop
request fail; rolling the config back heals at once). It burns no CPU, so two drills run
side by side under `-n 2` on this 2-core machine without starving each other.

Inner pytest runs that start drills run in a subprocess (`runpytest_subprocess`), so a
drill's threads, signals and stack never share the outer process.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from harness.cleanup import cleanup, find_leftovers

SCENARIO_PATH = "scenarios/bad-config.yaml"  # in the pytester project
SCENARIO = """\
kind: scenario
name: bad-config
title: A config push with a schema the release does not support
stack: {entry: lb, nodes: [web-1, web-2, web-3]}
faults:
  - type: rollout
    at_s: 0
    ttl_s: 15
    artifact:
      kind: config
      version: v3
      schema_version: 3
      data: {price_multiplier: 1.0, serve_cached_stock: false}
    author: dave
    description: "config: schema 3, ahead of the release"
truth:
  trigger: {kind: config_push, version: v3}
  affected_nodes: [web-1, web-2, web-3]
  fixes: [rollback-config]
alerts:
  - {name: high-error-rate, metric: error_rate, op: ">", threshold: 0.05, for_s: 3, scope: all}
restoration: {max_error_rate: 0.01, max_p99_ms: 500, window_s: 3}
safety:
  max_duration_s: 120
  max_error_budget_burn: 1.0  # a total outage by design: the duration limit is the stop
  steady_state: {max_error_rate: 0.01, max_p99_ms: 500, window_s: 3}
"""
# Locust's own pytest plugin monkey-patches with gevent on import: never in an inner run.
INNER_INI = """
[tool.pytest.ini_options]
addopts = "-p no:locust -p no:cacheprovider"
"""
INNER_TIMEOUT_S = 360  # a drill is ~25 s; the machine may be busy with other engineers' runs

# Everything the scorecard holds a team to: roles, updates, the trigger, the scope, canary first.
GOOD_RUNBOOK = """
- wait_for: {event: alert, timeout_s: 40}
- ack: {by: alice}
- declare: {severity: 1, commander: alice}
- role: {role: comms, who: bob}
- role: {role: scribe, who: carol}
- update: {by: bob, impact: "every shop request failing", action: "rolling back config v3", next_update_s: 60}
- suspect: {by: alice, change: "config_push v3"}
- scope: {by: alice, nodes: [web-1, web-2, web-3]}
- act: {by: dave, action: rollback-config, canary: web-1}
- act: {by: dave, action: rollback-config}
- wait_for: {event: restored, timeout_s: 45}
- update: {by: bob, impact: "service restored", action: "config v3 rolled back everywhere"}
- resolve: {by: alice}
"""
# Restarts a node instead of rolling the config back: the node comes back with the same config.
RESTART_INSTEAD = """
- wait_for: {event: alert, timeout_s: 40}
- declare: {severity: 1, commander: alice}
- act: {by: dave, action: restart, canary: web-1}
- wait_for: {event: restored, timeout_s: 15}
- resolve: {by: alice}
"""
NEVER_ACTS = """
- wait_for: {event: alert, timeout_s: 40}
- declare: {severity: 1, commander: alice}
- update: {by: bob, impact: "shop failing", action: "looking into it", next_update_s: 60}
- wait_for: {event: restored, timeout_s: 10}
- resolve: {by: alice}
"""


def drill_yaml(name: str, runbook: str, *, targets: str = "{detect_s: 30, mitigate_s: 60, resolve_s: 80}",
               scenario: str = f"../{SCENARIO_PATH}") -> str:
    """A short drill (in `drills/`) of the bad-config scenario with `runbook` as its responder."""
    head = textwrap.dedent(f"""\
        kind: drill
        name: {name}
        title: "plugin test: {name}"
        scenario: {scenario}
        load: {{users: 10, rate_per_s: 40}}
        baseline_s: 4
        inject_after_s: 0
        max_duration_s: 90
        team: {{members: [alice, bob, carol, dave]}}
        targets: {targets}
        responder:
        """)
    return head + textwrap.indent(textwrap.dedent(runbook).strip() + "\n", "  ")


def run_inner(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    return pytester.runpytest_subprocess("-p", "no:locust", *args, timeout=INNER_TIMEOUT_S)


def still_running(run_dir: Path) -> bool:
    """Does any process of this run (its run directory is named by its run id) still live?"""
    return bool(find_leftovers(run_dir.name))


def take_down(run_dir: Path) -> None:
    cleanup(run_dir.name, grace_s=10)
