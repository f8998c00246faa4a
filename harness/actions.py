"""The responder toolkit: what a team may do to the stack, by name.

A per-node action takes an optional canary node: with one it acts on that node only (so
the team can see the effect before going global); without, on every node it applies to.
An action with no per-node meaning (`pause-rollout` acts on the control plane's rollouts)
refuses a canary, and the scorecard's canary-first rule leaves it out. An action reports
which nodes it touched and what changed there; the session journals it.
"""

from __future__ import annotations

import re
import signal
from collections.abc import Callable
from typing import Any

from harness.faults.base import FaultContext
from harness.faults.restart import restart_leased
from harness.session import ActionResult
from harness.spec_base import TOOLKIT_ACTIONS
from harness.workers import find_hung_workers

RESTART_LEASE_S = 30.0  # a node the team restarts is started again by then, even if the harness died
ARTIFACT_KINDS = ("config", "release", "script")  # what the control plane rolls out
FLAG_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,63}")  # a config data key, also part of a version name
Action = Callable[[FaultContext, str | None, dict[str, Any]], ActionResult]
_ACTIONS: dict[str, Action] = {}
_NOT_PER_NODE: set[str] = set()  # actions with no node to try them on first


def action(name: str, per_node: bool = True) -> Callable[[Action], Action]:
    if name not in TOOLKIT_ACTIONS:  # a file naming it would be refused before the drill starts
        raise RuntimeError(f"action {name!r} is missing from harness.spec_base.TOOLKIT_ACTIONS")

    def decorate(fn: Action) -> Action:
        _ACTIONS[name] = fn
        if not per_node:
            _NOT_PER_NODE.add(name)
        return fn
    return decorate


def known_actions() -> list[str]:
    return sorted(_ACTIONS)


def acts_per_node(name: str) -> bool:
    """Whether the action can be tried on one node first (`--canary`)."""
    return name not in _NOT_PER_NODE


def run_action(name: str, ctx: FaultContext, canary: str | None, params: dict[str, Any]) -> ActionResult:
    if name not in _ACTIONS:
        raise ValueError(f"unknown action {name!r}; known: {', '.join(known_actions())}")
    if canary is not None and not acts_per_node(name):
        raise ValueError(f"{name} takes no canary: it acts on the control plane, not on a node "
                         "(run it without --canary)")
    if canary is not None and canary not in ctx.nodes:
        raise ValueError(f"canary {canary!r} is not a node; nodes: {', '.join(ctx.nodes)}")
    return _ACTIONS[name](ctx, canary, params)


def _targets(ctx: FaultContext, canary: str | None) -> tuple[str, ...]:
    return (canary,) if canary else ctx.nodes


@action("kill-hung-workers")
def kill_hung_workers(ctx: FaultContext, canary: str | None, params: dict[str, Any]) -> ActionResult:
    """Kill workers spinning at high CPU; their master respawns fresh ones."""
    killed: dict[str, list[int]] = {}
    for node in _targets(ctx, canary):
        pids = find_hung_workers(ctx.backend, node)
        if pids:
            ctx.backend.signal(node, signal.SIGKILL, pids)
            killed[node] = pids
    detail = ", ".join(f"{node}: {len(pids)} killed" for node, pids in killed.items()) or "no hung worker found"
    return ActionResult("kill-hung-workers", True, _targets(ctx, canary), detail, {"killed": killed})


@action("restart")
def restart(ctx: FaultContext, canary: str | None, params: dict[str, Any]) -> ActionResult:
    """Restart whole nodes, one after the other (a rolling restart)."""
    nodes = _targets(ctx, canary)
    for node in nodes:
        restart_leased(ctx, node, RESTART_LEASE_S)
    return ActionResult("restart", True, nodes, f"restarted {', '.join(nodes)}", {"restarted": list(nodes)})


def _rollback_latest(ctx: FaultContext, kind: str, canary: str | None, name: str) -> ActionResult:
    live = [r for r in ctx.control_plane.rollouts()
            if r["kind"] == kind and [n for n in r["reached"] if n not in r["rolled_back"]]]
    if not live:
        return ActionResult(name, False, (), f"no {kind} rollout to roll back")
    latest = max(live, key=lambda r: r["id"])
    reached = [n for n in latest["reached"] if n not in latest["rolled_back"]]
    if canary is not None and canary not in reached:
        return ActionResult(name, False, (), f"{kind} {latest['version']} is not on {canary}")
    result = ctx.control_plane.rollback(latest["id"], [canary] if canary else None, author="team")
    nodes = (canary,) if canary else tuple(reached)
    previous = {n: result["previous"].get(n) for n in nodes}
    return ActionResult(name, True, nodes, f"{kind} {latest['version']} rolled back on {', '.join(nodes)}",
                        {"rollout_id": latest["id"], "from": latest["version"], "to": previous})


@action("rollback-script")
def rollback_script(ctx: FaultContext, canary: str | None, params: dict[str, Any]) -> ActionResult:
    """Put the previous per-request script back (stuck workers stay stuck)."""
    return _rollback_latest(ctx, "script", canary, "rollback-script")


@action("rollback-release")
def rollback_release(ctx: FaultContext, canary: str | None, params: dict[str, Any]) -> ActionResult:
    return _rollback_latest(ctx, "release", canary, "rollback-release")


@action("rollback-config")
def rollback_config(ctx: FaultContext, canary: str | None, params: dict[str, Any]) -> ActionResult:
    return _rollback_latest(ctx, "config", canary, "rollback-config")


def _named_nodes(ctx: FaultContext, canary: str | None, params: dict[str, Any], action_name: str) -> tuple[str, ...]:
    """Isolation needs to be told which nodes: the canary, or params `nodes` (comma-separated)."""
    if canary:
        return (canary,)
    nodes = tuple(n.strip() for n in str(params.get("nodes", "")).split(",") if n.strip())
    unknown = [n for n in nodes if n not in ctx.nodes]
    if not nodes or unknown:
        raise ValueError(f"{action_name} needs --canary NODE or --param nodes=web-1,web-2 "
                         f"(nodes: {', '.join(ctx.nodes)}; unknown: {', '.join(unknown) or 'none'})")
    return nodes


@action("isolate")
def isolate(ctx: FaultContext, canary: str | None, params: dict[str, Any]) -> ActionResult:
    """Take nodes out of the load balancer (weight 0); they keep running for inspection."""
    nodes = _named_nodes(ctx, canary, params, "isolate")
    before = {node: ctx.lb.set_weight(node, 0) for node in nodes}
    return ActionResult("isolate", True, nodes, f"weight 0 on {', '.join(nodes)}", {"weights_before": before})


MAX_WEIGHT = 1000  # the lb's weights are small shares; a larger one is a typo


def _weight_param(params: dict[str, Any]) -> int:
    """params `weight`: a whole number 0..MAX_WEIGHT, given as a number or a string ("2")."""
    raw = params.get("weight", 1)
    try:
        weight = int(raw) if isinstance(raw, int | str) and not isinstance(raw, bool) else None
    except ValueError:
        weight = None
    if weight is None or not 0 <= weight <= MAX_WEIGHT:
        raise ValueError(f"params.weight: expected a whole number 0..{MAX_WEIGHT}, got {raw!r}")
    return weight


@action("restore")
def restore(ctx: FaultContext, canary: str | None, params: dict[str, Any]) -> ActionResult:
    """Put isolated nodes back into the load balancer (weight 1, or params `weight`)."""
    nodes = _named_nodes(ctx, canary, params, "restore")
    weight = _weight_param(params)
    before = {node: ctx.lb.set_weight(node, weight) for node in nodes}
    return ActionResult("restore", True, nodes, f"weight {weight} on {', '.join(nodes)}",
                        {"weights_before": before})


@action("pause-rollout", per_node=False)
def pause_rollout(ctx: FaultContext, canary: str | None, params: dict[str, Any]) -> ActionResult:
    """Stop every staged rollout that is still baking (or only those of params `kind`); the
    nodes its next stages would have reached are spared. No canary: it acts on rollouts."""
    kind = params.get("kind")
    if kind is not None and kind not in ARTIFACT_KINDS:
        raise ValueError(f"params.kind: expected one of {', '.join(ARTIFACT_KINDS)}, got {kind!r}")
    baking = [r for r in ctx.control_plane.rollouts()
              if r["state"] == "baking" and r["pending"] and (kind is None or r["kind"] == kind)]
    if not baking:
        return ActionResult("pause-rollout", False, (), "no rollout is baking")
    for rollout in baking:
        ctx.control_plane.pause(rollout["id"])
    spared = sorted({node for r in baking for node in r["pending"]})
    paused = ", ".join(f"{r['kind']} {r['version']}" for r in baking)
    return ActionResult("pause-rollout", True, tuple(spared), f"paused {paused}; spared {', '.join(spared)}",
                        {"paused": [r["id"] for r in baking]})


def _set_flag(ctx: FaultContext, canary: str | None, params: dict[str, Any], value: bool) -> ActionResult:
    """Push each node's own config again with one data flag changed (canary first if asked).

    Nodes can run different configs (a canary of a bad config, an earlier flag canary): each
    keeps its own with the flag set, so a flag never spreads one node's config to the rest.
    A node that already has the flag is left alone."""
    name = "flag-on" if value else "flag-off"
    flag = params.get("flag", "serve_cached_stock")
    if not isinstance(flag, str) or not FLAG_NAME.fullmatch(flag):
        raise ValueError(f"params.flag: expected a flag name (letters, digits, _; up to 64), got {flag!r}")
    groups: dict[str, list[str]] = {}
    configs: dict[str, dict[str, Any]] = {}
    for node in _targets(ctx, canary):
        config = ctx.control_plane.node(node)["config"]
        if config["data"].get(flag) is not value:
            groups.setdefault(config["version"], []).append(node)
            configs[config["version"]] = config
    if not groups:
        return ActionResult(name, True, (), f"{flag} is already {value} on {', '.join(_targets(ctx, canary))}",
                            {"flag": flag, "value": value, "config_versions": {}, "rollout_ids": []})
    versions: dict[str, str] = {}
    rollout_ids: list[int] = []
    for old, nodes in groups.items():
        version = _flagged_version(old, flag, value)
        ctx.control_plane.register("config", {"version": version, "schema_version": configs[old]["schema_version"],
                                              "data": {**configs[old]["data"], flag: value}, "author": "team",
                                              "description": f"{name} {flag}"})
        everywhere = canary is None and len(groups) == 1 and len(nodes) == len(ctx.nodes)
        for target in [None] if everywhere else nodes:
            rollout = ctx.control_plane.rollout("config", version, canary=target, bake_s=3600 if target else None,
                                                author="team", description=f"{name} {flag}")
            if target is not None and rollout["pending"]:  # this node only: the rest is another push
                ctx.control_plane.pause(rollout["id"])
            rollout_ids.append(rollout["id"])
        versions.update(dict.fromkeys(nodes, version))
    touched = tuple(versions)
    return ActionResult(name, True, touched, f"{flag}={value} on {', '.join(touched)} "
                        f"(config {', '.join(sorted(set(versions.values())))})",
                        {"flag": flag, "value": value, "config_versions": versions, "rollout_ids": rollout_ids})


def _flagged_version(version: str, flag: str, value: bool) -> str:
    """`v1` -> `v1+serve_cached_stock=on`; flipping it again does not stack suffixes."""
    for state in ("on", "off"):
        version = version.removesuffix(f"+{flag}={state}")
    return f"{version}+{flag}={'on' if value else 'off'}"


@action("flag-on")
def flag_on(ctx: FaultContext, canary: str | None, params: dict[str, Any]) -> ActionResult:
    """Turn a feature flag on: `serve_cached_stock` (the downgrade: stock from cache) by default."""
    return _set_flag(ctx, canary, params, True)


@action("flag-off")
def flag_off(ctx: FaultContext, canary: str | None, params: dict[str, Any]) -> ActionResult:
    return _set_flag(ctx, canary, params, False)
