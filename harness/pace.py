"""Human pace: a scenario's reaction-time values slowed down for people.

A scenario is written at the pace of its autopilot runbook: a canary that bakes for 20 s,
a release that leaks forty sockets per failed lookup, a second fault half a second after
the first. A runbook acts in a second; people need minutes to page, read the change log and
agree. A drill with `pace: p` stretches what a team races against by p:

- the bake of every staged rollout (faults and decoy changes), so a canary can be contained;
- fault offsets (`at_s`) and lifetimes (`duration_s`), so a second act still lands mid-incident;
- a leak's rate (`flags.leak_on_error` of a release, divided by p, at least one socket), so
  the nodes reach EMFILE p times later.

Unlike time compression, pace changes the story, not the clock: phase targets, leases and
alert windows stay as written (a game-day drill states its targets for people directly).
Applied before compression, so `time_compression` still divides the paced schedule.
"""

from __future__ import annotations

import math
from typing import Any

from pydantic import BaseModel

from harness.spec_drill import Drill
from harness.spec_scenario import Release, Scenario


def at_pace(drill: Drill) -> Drill:
    """The drill with its scenario's reaction-time values stretched by `drill.pace` (itself at 1)."""
    if drill.pace == 1.0:
        return drill
    return drill.model_copy(update={"scenario": paced_scenario(drill.scenario, drill.pace)})


def paced_scenario(scenario: Scenario, pace: float) -> Scenario:
    changes = tuple(_stretch(change, pace, "bake_s") for change in scenario.changes)
    faults = tuple(_stretch(fault, pace, "at_s", "bake_s", "duration_s") for fault in scenario.faults)
    return scenario.model_copy(update={"changes": changes, "faults": faults})


def slower_leak(flag: Any, pace: float) -> Any:
    """`leak_on_error` at pace: N sockets per failed lookup become N / pace (at least one)."""
    if isinstance(flag, bool) or not isinstance(flag, int) or flag <= 1:
        return flag
    return max(1, math.floor(flag / pace))


def _stretch(model: BaseModel, pace: float, *fields: str) -> Any:
    update: dict[str, Any] = {name: getattr(model, name) * pace for name in fields
                              if getattr(model, name, None) is not None}
    artifact = getattr(model, "artifact", None)
    if isinstance(artifact, Release) and "leak_on_error" in artifact.flags:
        flags = {**artifact.flags, "leak_on_error": slower_leak(artifact.flags["leak_on_error"], pace)}
        update["artifact"] = artifact.model_copy(update={"flags": flags})
    return model.model_copy(update=update)
