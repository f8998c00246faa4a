"""Hand-built journals for the scorecard tests.

Each journal is written with the real Journal and a FakeClock, then read back from disk,
so the scorecard is tested on exactly what a run leaves behind. Times are seconds since
the journal opened; the fault lands at FAULT_T_S.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from harness.timeline import FakeClock, Journal
from scorecards import Scorecard, build_from_run_dir

Entry = tuple[float, str, dict[str, Any]]  # (seconds since the journal opened, kind, data)
Script = list[Entry]

FAULT_T_S = 10.0
TARGETS = {"detect_s": 30, "ack_s": 60, "declare_s": 120, "first_update_s": 180, "update_every_s": 120,
           "mitigate_s": 300, "resolve_s": 600}
TRUTH = {"trigger": {"kind": "script_push", "version": "v2", "none": False},
         "affected_nodes": ["web-1", "web-2", "web-3"], "fixes": ["kill-hung-workers"],
         "masks": ["rollback-script", "restart"], "worsens": ["isolate"]}
NODES = ("web-1", "web-2", "web-3")


def planned(targets: dict[str, Any] | None = None, truth: dict[str, Any] | None = None,
            members: tuple[str, ...] = ("alice", "bob", "carol")) -> Entry:
    return (0.5, "run.planned", {"run_id": "r-1", "drill": "demo", "scenario": "hung-workers", "backend": "local",
                                 "targets": TARGETS if targets is None else targets,
                                 "truth": TRUTH if truth is None else truth, "load": {"users": 5},
                                 "team": {"members": list(members), "roles": {"commander": "alice"}},
                                 "nodes": list(NODES)})


def window(start_t_s: float, requests: int, failures: int, p99_ms: float | None = 50.0,
           nodes: dict[str, list[int]] | None = None) -> Entry:
    """One second of traffic, spread over the nodes unless `nodes` says otherwise."""
    if nodes is None:
        share = [requests // 3 + (1 if i < requests % 3 else 0) for i in range(3)]
        fails = [failures // 3 + (1 if i < failures % 3 else 0) for i in range(3)]
        nodes = {node: [share[i], fails[i]] for i, node in enumerate(NODES)}
    # The monitor journals a second once it is over, so slightly after its end.
    return (start_t_s + 1.05, "slo.window", {"start_t_s": start_t_s, "requests": requests, "failures": failures,
                                             "p50_ms": 20.0, "p99_ms": p99_ms, "nodes": nodes})


def traffic(start_t_s: int, end_t_s: int, requests: int, failures: int, p99_ms: float = 50.0) -> Script:
    return [window(t, requests, failures, p99_ms) for t in range(start_t_s, end_t_s)]


def good_run() -> Script:
    """Every phase on time: detect 12.5, ack 20.25, declare 31, first update 60, mitigate 175.5, resolve 250."""
    return [
        planned(),
        (FAULT_T_S, "fault.injected", {"index": 0, "type": "rollout", "kind": "script", "version": "v2",
                                       "change": {"kind": "script_push", "version": "v2", "none": False}}),
        (22.5, "alert.fired", {"name": "errors", "metric": "error_rate", "value": 0.4, "threshold": 0.05,
                               "node": None}),
        (30.25, "team.ack", {"by": "alice"}),
        (41.0, "team.declare", {"by": "alice", "severity": 2, "commander": "alice"}),
        (42.0, "team.role", {"by": "alice", "role": "comms", "who": "bob"}),
        (43.0, "team.role", {"by": "alice", "role": "scribe", "who": "dave"}),
        (70.0, "team.update", {"by": "bob", "impact": "checkout failing", "action": "rollback",
                               "next_update_s": 120}),
        (100.0, "team.suspect", {"by": "alice", "change": "script_push v2"}),
        (101.0, "team.scope", {"by": "alice", "nodes": ["web-1", "web-2", "web-3"]}),
        (150.0, "team.update", {"by": "bob", "impact": "same", "action": "killing workers", "next_update_s": 120}),
        (160.0, "team.act", {"by": "carol", "action": "kill-hung-workers", "canary": "web-1", "params": {}}),
        (160.5, "action.result", {"action": "kill-hung-workers", "ok": True, "nodes": ["web-1"],
                                  "detail": "web-1: 4 killed"}),
        (170.0, "team.act", {"by": "carol", "action": "kill-hung-workers", "canary": None, "params": {}}),
        (170.5, "action.result", {"action": "kill-hung-workers", "ok": True, "nodes": list(NODES),
                                  "detail": "killed"}),
        (200.0, "restoration.detected", {"window_start_t_s": 185.5, "window_s": 10}),
        (230.0, "team.update", {"by": "bob", "impact": "none", "action": "watching", "next_update_s": None}),
        (260.0, "team.resolve", {"by": "alice"}),
        (270.0, "run.finished", {"outcome": "resolved", "run_dir": "runs/r-1"}),
    ]


def killed_run(stop_t_s: float = 100.0) -> Script:
    """The good run as a harness killed at `stop_t_s` leaves it: the journal just stops, no run.finished.
    At the default 100 s (fault + 90 s): alerted, acked, declared, first update out; not yet restored."""
    return [entry for entry in good_run() if entry[0] <= stop_t_s and entry[1] != "run.finished"]


def without(script: Script, *kinds: str) -> Script:
    return [entry for entry in script if entry[1] not in kinds]


def replaced(script: Script, kind: str, *entries: Entry) -> Script:
    return [*without(script, kind), *entries]


def write_run(tmp_path: Path, script: Script, name: str = "r-1") -> Path:
    run_dir = tmp_path / name
    run_dir.mkdir(parents=True)
    clock = FakeClock()
    with Journal.open(run_dir / "journal.jsonl", clock) as journal:
        for t_s, kind, data in sorted(script, key=lambda entry: entry[0]):
            clock.advance(t_s - clock.elapsed_s)
            journal.append(kind, **data)
    return run_dir


def scorecard(tmp_path: Path, script: Script, name: str = "r-1") -> Scorecard:
    return build_from_run_dir(write_run(tmp_path, script, name))


def seq_of(card: Scorecard, kind: str, nth: int = 0) -> int:
    """The journal seq of the nth event of a kind (the scorecard's timeline has every one but windows)."""
    return [e.seq for e in card.timeline if e.kind == kind][nth]
