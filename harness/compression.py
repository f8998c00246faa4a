"""Time compression: a drill's schedule played `time_compression` times faster.

A game day rarely has the hours a real incident takes: a canary that bakes for ten
minutes, an update promised every half hour. With `time_compression: k` every scheduled
duration of the drill and of its scenario is divided by k, and the phase targets with it,
so the scorecard holds the team to the compressed clock it actually played.

What stays real-time, on purpose:
- fault leases (`ttl_s`): the safety net must not shrink with the story;
- alert `for_s` and the restoration/steady-state windows: they measure the traffic, and
  the traffic (the load's rate) is not compressed;
- `backdate_s` of a change: it only sets how old the change log says a change is.
The scorecard's severity policy (update cadence, escalation deadlines) is compressed by the
same factor, read from the journal's plan.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from harness.pace import at_pace
from harness.spec_drill import Drill, Targets
from harness.spec_scenario import Scenario
from harness.spec_steps import Pause, Reply, Update, WaitFor


def compress(drill: Drill) -> Drill:
    """The drill at its pace (harness/pace.py), its schedule divided by `drill.time_compression`."""
    drill = at_pace(drill)
    k = drill.time_compression
    if k == 1.0:
        return drill
    responder = tuple(_step(step, k) for step in drill.responder)
    return drill.model_copy(update={
        "scenario": _scenario(drill.scenario, k),
        "baseline_s": drill.baseline_s / k,
        "inject_after_s": _div(drill.inject_after_s, k),
        "surprise_window_s": None if drill.surprise_window_s is None
        else (drill.surprise_window_s[0] / k, drill.surprise_window_s[1] / k),
        "max_duration_s": _div(drill.max_duration_s, k),
        "targets": Targets(**{name: _div(value, k) for name, value in drill.targets}),
        "responder": responder,
        "injects": tuple(rule.model_copy(update={"when": _copy(rule.when, k, "at_s", "no_ack_for_s", "no_declare_for_s",
                                                             "no_update_for_s", "fixed_before_s")})
                         for rule in drill.injects),
    })


def _scenario(scenario: Scenario, k: float) -> Scenario:
    changes = tuple(_copy(change, k, "before_fault_s", "bake_s") for change in scenario.changes)
    faults = tuple(_copy(fault, k, "at_s", "bake_s", "duration_s") for fault in scenario.faults)
    safety = scenario.safety.model_copy(update={"max_duration_s": scenario.safety.max_duration_s / k})
    return scenario.model_copy(update={"changes": changes, "faults": faults, "safety": safety})


_STEP_DURATIONS: dict[type, tuple[str, ...]] = {WaitFor: ("timeout_s",), Update: ("next_update_s",),
                                                Pause: ("seconds",), Reply: ("timeout_s",)}


def _step(step: Any, k: float) -> Any:
    fields = _STEP_DURATIONS.get(type(step), ())
    return _copy(step, k, *fields) if fields else step


def _copy(model: BaseModel, k: float, *fields: str) -> Any:
    present = {name: _div(getattr(model, name), k) for name in fields if hasattr(model, name)}
    return model.model_copy(update=present)


def _div(value: float | None, k: float) -> float | None:
    return None if value is None else value / k
