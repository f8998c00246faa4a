"""Four scripted responders of known quality for each calibration scenario.

exemplary: fast, right severity and suspect, full roles, complete updates, canary then
    everywhere, fixes the cause, resolves once restored.
sound: the right fix with minor misses (no scribe, a vaguer update, no last update).
sloppy: late, wrong severity and suspect, no canary, masks first, incomplete updates, the
    commander typing every action alone; it does fix the cause in the end.
harmful: masks or worsens, never fixes, and resolves while customers still fail (a restart of
    a node with the bad config on it cannot come up, so harmful restarts a healthy one).

A drill file is written per (scenario, quality) from the scenario's shared base, so the four
differ only in how the team plays: same load, same targets, same fault.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Final

REPO: Final = Path(__file__).parents[2]
QUALITIES: Final = ("exemplary", "sound", "sloppy", "harmful")
TEAM: Final = {"members": ["alice", "bob", "carol", "dave"]}

Steps = list[dict[str, Any]]


def _roles(*roles: tuple[str, str]) -> Steps:
    return [{"role": {"role": role, "who": who}} for role, who in roles]


def _update(by: str, impact: str, action: str | None = None, next_update_s: int | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"by": by, "impact": impact}
    if action is not None:
        body["action"] = action
    if next_update_s is not None:
        body["next_update_s"] = next_update_s
    return {"update": body}


def _acts(by: str, action: str, canary: str | None = None) -> Steps:
    """`action` on the canary first, then everywhere (or only everywhere with no canary)."""
    steps: Steps = []
    if canary is not None:
        steps.append({"act": {"by": by, "action": action, "canary": canary}})
    steps.append({"act": {"by": by, "action": action}})
    return steps


def _opening(severity: int, impact: str, action: str, *, roles: Steps) -> Steps:
    return [{"wait_for": {"event": "alert", "timeout_s": 60}}, {"ack": {"by": "alice"}},
            {"declare": {"severity": severity, "commander": "alice"}}, *roles,
            _update("bob", impact, action, 60)]


def _closing(impact: str, action: str | None) -> Steps:
    last = [] if action is None else [_update("bob", impact, action)]
    return [{"wait_for": {"event": "restored", "timeout_s": 60}}, *last, {"resolve": {"by": "alice"}}]


def _rolling_restart(by: str) -> Steps:
    """Each node out of the balancer, restarted, back in: fresh workers with no customer lost.
    (The stuck workers could also be killed one by one, but telling a spinning worker from a
    busy one needs CPU that a shared test machine may not give them.)"""
    return [{"act": {"by": by, "action": action, "canary": node}}
            for node in ("web-1", "web-2", "web-3") for action in ("isolate", "restart", "restore")]


FULL_ROLES: Final = _roles(("comms", "bob"), ("scribe", "carol"), ("ops", "dave"))
FEW_ROLES: Final = _roles(("comms", "bob"), ("ops", "dave"))


def _sloppy_opening(severity: int) -> Steps:
    """Late to every step; one vague update with no action or next-update promise; no roles."""
    return [{"wait_for": {"event": "alert", "timeout_s": 60}}, {"pause": 12}, {"ack": {"by": "alice"}},
            {"pause": 6}, {"declare": {"severity": severity, "commander": "alice"}}, {"pause": 5},
            _update("bob", "errors", "looking")]


def _harmful_opening(severity: int) -> Steps:
    return [{"wait_for": {"event": "alert", "timeout_s": 60}}, {"pause": 8}, {"ack": {"by": "alice"}},
            {"declare": {"severity": severity, "commander": "alice"}}]


def _false_all_clear() -> Steps:
    """Declares victory while customers still fail: a claim the fact-check catches."""
    return [_update("alice", "Service restored.", "Monitoring."), {"resolve": {"by": "alice"}}]


# scenario -> (drill base, responders by quality)
SCENARIOS: Final[Mapping[str, tuple[dict[str, Any], dict[str, Steps]]]] = {
    "hung-workers": (
        {"load": {"users": 12, "rate_per_s": 50}, "baseline_s": 4, "inject_after_s": 0, "max_duration_s": 90,
         "targets": {"detect_s": 14, "ack_s": 14, "declare_s": 16, "first_update_s": 20, "update_every_s": 30,
                     "mitigate_s": 35, "resolve_s": 50}},
        {
            "exemplary": [
                *_opening(1, "Shop requests failing on every web node.", "Killing the stuck workers, canary first.",
                          roles=FULL_ROLES),
                {"suspect": {"by": "alice", "change": "script_push v2"}},
                {"scope": {"by": "alice", "nodes": ["web-1", "web-2", "web-3"]}},
                *_acts("dave", "rollback-script", "web-1"), *_rolling_restart("dave"),
                *_closing("Service restored.", "Script v2 rolled back; every node restarted, one at a time."),
            ],
            "sound": [
                *_opening(2, "Shop requests failing.", "Looking at the script push.", roles=FEW_ROLES),
                {"suspect": {"by": "alice", "change": "script_push v2"}},
                {"scope": {"by": "alice", "nodes": ["web-1", "web-2", "web-3"]}},
                *_acts("dave", "rollback-script", "web-1"), *_rolling_restart("dave"),
                *_closing("Service restored.", None),
            ],
            "sloppy": [
                *_sloppy_opening(4),
                {"suspect": {"by": "alice", "change": "config_push v2"}},
                {"scope": {"by": "alice", "nodes": ["web-2"]}},
                # Restarting every node at once (no canary) heals the stuck workers too, bluntly.
                *_acts("alice", "rollback-config"), {"pause": 4}, *_acts("alice", "rollback-script"),
                *_acts("alice", "restart"),
                *_closing("", None),
            ],
            "harmful": [
                *_harmful_opening(4),
                {"suspect": {"by": "alice", "change": "deploy v1.0.1"}},
                *_acts("alice", "rollback-release"), *_acts("alice", "rollback-script"), {"pause": 3},
                *_false_all_clear(),
            ],
        }),
    "bad-config-rollout": (
        {"load": {"users": 12, "rate_per_s": 50}, "baseline_s": 3, "inject_after_s": 0, "max_duration_s": 90,
         "targets": {"detect_s": 10, "ack_s": 10, "declare_s": 12, "first_update_s": 15, "update_every_s": 30,
                     "mitigate_s": 25, "resolve_s": 45}},
        {
            "exemplary": [
                *_opening(2, "A third of shop requests failing, all on web-1.",
                          "Rolling config v3 back on web-1 before it reaches the other nodes.", roles=FULL_ROLES),
                {"suspect": {"by": "alice", "change": "config_push v3"}},
                {"scope": {"by": "alice", "nodes": ["web-1"]}},
                {"act": {"by": "dave", "action": "rollback-config", "canary": "web-1"}},
                *_closing("Service restored; config v3 never reached web-2 or web-3.", "Config v3 rolled back."),
            ],
            "sound": [
                *_opening(2, "Some shop requests failing.", "Looking at the config push.", roles=FEW_ROLES),
                {"suspect": {"by": "alice", "change": "config_push v3"}},
                {"scope": {"by": "alice", "nodes": ["web-1", "web-2"]}},
                {"act": {"by": "dave", "action": "pause-rollout"}},
                {"act": {"by": "dave", "action": "rollback-config", "canary": "web-1"}},
                *_closing("Service restored.", None),
            ],
            "sloppy": [
                *_sloppy_opening(4),
                {"suspect": {"by": "alice", "change": "deploy v1.0.1"}},
                {"scope": {"by": "alice", "nodes": ["web-3"]}},
                {"act": {"by": "alice", "action": "isolate", "canary": "web-1"}}, {"pause": 3},
                *_acts("alice", "rollback-config"), {"act": {"by": "alice", "action": "restore", "canary": "web-1"}},
                *_closing("", None),
            ],
            "harmful": [
                *_harmful_opening(4),
                {"suspect": {"by": "alice", "change": "deploy v1.0.1"}},
                *_acts("alice", "rollback-release"), {"act": {"by": "alice", "action": "restart", "canary": "web-2"}},
                {"pause": 3}, *_false_all_clear(),
            ],
        }),
    "fd-leak-slow": (
        {"load": {"users": 30, "rate_per_s": 150, "mix": {"browse": 0, "product": 1, "checkout": 0}},
         "baseline_s": 3, "inject_after_s": 0, "max_duration_s": 150,
         # The leak sets the alert's time (17-28 s after the fault on a busy machine), not the team:
         # every step after the page gets at least detect_s, so a late alert never fails a fast team.
         "targets": {"detect_s": 36, "ack_s": 38, "declare_s": 40, "first_update_s": 44, "update_every_s": 40,
                     "mitigate_s": 70, "resolve_s": 90}},
        {
            "exemplary": [
                # SEV2, not 3: the leak grows while the nodes are restarted one by one, and its worst
                # 10 s reach SEV2 on a busy machine; one level worse than measured is caution.
                *_opening(2, "Some product pages failing with 'Too many open files' on every node.",
                          "Rolling back to release v1.0.0, canary first.", roles=FULL_ROLES),
                {"note": {"by": "carol", "text": "open_fds grow with uptime; nothing recent explains it"}},
                {"suspect": {"by": "alice", "change": "none"}},
                {"scope": {"by": "alice", "nodes": ["web-1", "web-2", "web-3"]}},
                *_acts("dave", "rollback-release", "web-1"),
                *(step for node in ("web-1", "web-2", "web-3") for step in (
                    {"act": {"by": "dave", "action": "isolate", "canary": node}},
                    {"act": {"by": "dave", "action": "restart", "canary": node}},
                    {"act": {"by": "dave", "action": "restore", "canary": node}})),
                *_closing("Service restored.", "Release v1.0.9 rolled back to v1.0.0; nodes restarted one by one."),
            ],
            "sound": [
                *_opening(3, "Some product pages failing.", "Rolling back the release.", roles=FEW_ROLES),
                {"suspect": {"by": "alice", "change": "deploy v1.0.9"}},
                {"scope": {"by": "alice", "nodes": ["web-1", "web-2", "web-3"]}},
                *_acts("dave", "rollback-release", "web-1"), *_acts("dave", "restart", "web-1"),
                *_closing("Service restored.", None),
            ],
            "sloppy": [
                *_sloppy_opening(4),
                {"suspect": {"by": "alice", "change": "config_push v2"}},
                {"scope": {"by": "alice", "nodes": ["web-1"]}},
                *_acts("alice", "restart"), {"pause": 5}, *_acts("alice", "rollback-release"),
                *_closing("", None),
            ],
            "harmful": [
                *_harmful_opening(4),
                {"suspect": {"by": "alice", "change": "script_push v1.1"}},
                *_acts("alice", "rollback-script"), *_acts("alice", "rollback-config"), {"pause": 3},
                *_false_all_clear(),
            ],
        }),
}


def write_drill(scenario: str, quality: str, directory: Path) -> Path:
    """The drill file for one responder (JSON is YAML): the scenario's base plus its runbook."""
    base, responders = SCENARIOS[scenario]
    drill = {"kind": "drill", "name": f"calibration-{scenario}-{quality}",
             "title": f"Calibration: {scenario}, a {quality} responder",
             "scenario": str(REPO / "scenarios" / f"{scenario}.yaml"), "backend": "local", **base,
             "team": TEAM, "responder": responders[quality]}
    path = directory / f"{scenario}-{quality}.yaml"
    path.write_text(json.dumps(drill, indent=2) + "\n")
    return path
