"""Time compression: the schedule and targets shrink, the safety net and the measuring do not."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.compression import compress
from harness.plan import describe_plan
from harness.spec import load_drill
from harness.spec_steps import Pause, Update, WaitFor
from scorecards.policy import SEVERITY_POLICY, policy_for

REGRESSION = Path(__file__).parents[1] / "drills" / "regression"


def test_a_compressed_drill_divides_every_schedule_and_target() -> None:
    drill = load_drill(REGRESSION / "bad-config-rollout.yaml")
    fast = compress(drill.model_copy(update={"time_compression": 4.0}))

    assert fast.baseline_s == drill.baseline_s / 4
    assert fast.max_duration_s == drill.max_duration_s / 4
    assert fast.scenario.safety.max_duration_s == drill.scenario.safety.max_duration_s / 4
    assert fast.targets.detect_s == drill.targets.detect_s / 4  # type: ignore[operator]
    assert fast.targets.update_every_s == drill.targets.update_every_s / 4  # type: ignore[operator]
    fault, slow_fault = fast.scenario.faults[0], drill.scenario.faults[0]
    assert fault.bake_s == slow_fault.bake_s / 4  # type: ignore[union-attr,operator]
    assert [c.before_fault_s for c in fast.scenario.changes] == [c.before_fault_s / 4 for c in drill.scenario.changes]
    waits = [(a, b) for a, b in zip(fast.responder, drill.responder, strict=True) if isinstance(a, WaitFor)]
    assert waits and all(a.timeout_s == b.timeout_s / 4 for a, b in waits)  # type: ignore[operator]
    updates = [(a, b) for a, b in zip(fast.responder, drill.responder, strict=True)
               if isinstance(a, Update) and b.next_update_s is not None]  # type: ignore[union-attr]
    assert updates and all(a.next_update_s == b.next_update_s / 4 for a, b in updates)  # type: ignore[union-attr]

    # What keeps the drill safe and measured stays real-time.
    assert fault.ttl_s == slow_fault.ttl_s
    assert fast.scenario.alerts == drill.scenario.alerts
    assert fast.scenario.restoration == drill.scenario.restoration
    assert fast.scenario.safety.steady_state == drill.scenario.safety.steady_state
    assert fast.load == drill.load


def test_no_compression_is_the_same_drill() -> None:
    drill = load_drill(REGRESSION / "hung-workers.yaml")
    assert compress(drill) is drill


def test_pauses_shrink_and_the_dry_run_says_so() -> None:
    drill = load_drill(REGRESSION / "hung-workers.yaml")
    drill = drill.model_copy(update={"responder": (*drill.responder, Pause(seconds=10)), "time_compression": 2.0})
    fast = compress(drill)
    assert isinstance(fast.responder[-1], Pause) and fast.responder[-1].seconds == 5
    plan = describe_plan(drill)
    assert any(line.startswith("time compression: 2x") for line in plan)
    assert any(line.startswith(f"baseline: {drill.baseline_s / 2:g} s,") for line in plan), plan


@pytest.mark.parametrize("severity", sorted(SEVERITY_POLICY))
def test_the_severity_policy_runs_on_the_drills_clock(severity: int) -> None:
    real, fast = policy_for(severity), policy_for(severity, 10.0)
    assert fast.first_update_s == real.first_update_s / 10
    assert fast.update_every_s == real.update_every_s / 10
    assert fast.escalate_s == (None if real.escalate_s is None else real.escalate_s / 10)
