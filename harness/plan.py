"""A drill's plan in words, for `gamedrill run --dry-run`: what would happen, touching nothing."""

from __future__ import annotations

import random
from typing import Any

from harness.compression import compress
from harness.spec import Drill
from harness.stack.compose import load_compose
from harness.stack.roles import check_stack_roles


def _fault_words(fault: Any) -> str:
    fields = fault.model_dump(mode="json", exclude={"type", "at_s", "ttl_s", "hold"})
    if "artifact" in fields:
        artifact = fields.pop("artifact")
        fields = {"push": f"{artifact['kind']} {artifact['version']}", **fields}
    described = ", ".join(f"{key}={value}" for key, value in fields.items()
                          if value not in (None, "", {}, []) and not (key == "backdate_s" and value == 0))
    return f"{fault.type} ({described})"


def describe_plan(drill: Drill) -> list[str]:
    """The plan as lines of text; checks the compose file and the stack's roles in it, starts nothing."""
    factor = drill.time_compression
    drill = compress(drill)
    scenario = drill.scenario
    project = load_compose(scenario.stack.compose_file, allocate=False)
    check_stack_roles(scenario, project)
    # Without a surprise window the delay is fixed (no draw): the runner's own default applies.
    inject = (f"{drill.inject_delay_s(random.Random(0)):g} s after the baseline" if drill.surprise_window_s is None
              else f"at a random moment {drill.surprise_window_s[0]:g}-{drill.surprise_window_s[1]:g} s "
                   "after the baseline")
    lines = [
        f"drill {drill.name}: {drill.title}",
        f"scenario {scenario.name}: {scenario.title}",
        f"stack: {project.path} on the {drill.backend} backend: {', '.join(project.services)}; "
        f"traffic enters at {scenario.stack.entry}, nodes {', '.join(scenario.stack.nodes)}",
        *([f"time compression: {factor:g}x (every schedule and target below is already divided by {factor:g})"]
          if factor != 1.0 else []),
        *([f"pace: {drill.pace:g}x (the scenario's bakes, fault offsets and leak rates below are already "
           "stretched for people)"] if drill.pace != 1.0 else []),
        f"load: {drill.load.rate_per_s:g} arrivals/s, {drill.load.arrivals}, open loop (Locust), "
        f"ramped up over {drill.ramp_s:g} s",
        f"baseline: {drill.baseline_s:g} s, then the steady state must hold "
        f"(error rate <= {scenario.safety.steady_state.max_error_rate:.1%}, "
        f"p99 <= {scenario.safety.steady_state.max_p99_ms:g} ms) or nothing is injected",
    ]
    lines += [f"decoy: {d.artifact.kind} {d.artifact.version} by {d.author}, {d.before_fault_s:g} s before the fault"
              for d in scenario.changes]
    lines.append(f"inject: {inject}")
    lines += [f"  fault {'held for an inject' if f.hold else f'at +{f.at_s:g} s'}: {_fault_words(f)}; "
              f"lease {f.ttl_s:g} s" for f in scenario.faults]
    lines += [f"game master: {rule.name}: when {rule.when.condition}, "
              + ", ".join(effect.kind for effect in rule.then) + (" (repeats)" if rule.repeat else "")
              for rule in drill.injects]
    lines += [f"alert {a.name}: {a.describe()}" for a in scenario.alerts]
    r = scenario.restoration
    lines.append(f"restored: error rate <= {r.max_error_rate:.1%} and p99 <= {r.max_p99_ms:g} ms for {r.window_s:g} s")
    limit_s = drill.duration_limit_s
    lines.append(f"stops: after {limit_s:g} s, or when {scenario.safety.max_error_budget_burn:.0%} of requests "
                 "since the fault have failed; every fault is reverted either way")
    targets = {k: v for k, v in drill.targets.model_dump().items() if v is not None}
    lines.append("targets: " + (", ".join(f"{k} {v:g}" for k, v in targets.items()) or "none"))
    if drill.responder:
        lines.append(f"responder: {len(drill.responder)} steps: " + ", ".join(s.step for s in drill.responder))
    else:
        lines.append("responder: none (people play the team)")
    return lines
