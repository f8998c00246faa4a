"""A user's own compose stack, not the sample shop: a drill with a process fault on a named
service and one with a network fault through the stack's own fault proxy."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.errors import SpecError
from harness.runner import RunOptions, prepare_run
from harness.spec import load_drill
from harness.timeline import Event, read_journal

USERSTACK = Path(__file__).parent / "data" / "userstack"


def run_user_drill(name: str, runs_dir: Path, backend: str = "local") -> list[Event]:
    drill = load_drill(USERSTACK / f"drill-{name}.yaml").model_copy(update={"backend": backend})
    result = prepare_run(drill, RunOptions(runs_dir=runs_dir, autopilot=True)).execute()
    events = read_journal(result.run_dir / "journal.jsonl")
    assert result.outcome == "resolved", (result.reason, [e.kind for e in events][-15:])
    return events


def node_failures(events: list[Event], node: str, start_t_s: float, end_t_s: float) -> tuple[int, int]:
    windows = [e for e in events if e.kind == "slo.window" and start_t_s <= e.data["start_t_s"] < end_t_s - 1]
    counts = [e.data["nodes"].get(node, [0, 0]) for e in windows]
    return sum(c[0] for c in counts), sum(c[1] for c in counts)


def check_frozen_node_restarted(events: list[Event]) -> None:
    fault = next(e for e in events if e.kind == "fault.injected")
    assert fault.data["type"] == "pause" and fault.data["service"] == "app-2"
    restart = next(e for e in events if e.kind == "team.act")
    result = next(e for e in events if e.kind == "action.result")
    assert result.data["ok"] and result.data["nodes"] == ["app-2"]
    served, failed = node_failures(events, "app-1", fault.t_s + 1, restart.t_s)
    assert served and failed == 0, "app-1 kept serving"
    windows = [e for e in events if e.kind == "slo.window" and fault.t_s + 1 <= e.data["start_t_s"] < restart.t_s - 1]
    assert sum(w.data["failures"] for w in windows) > 0, "the frozen app-2 failed its share of requests"
    restored = next(e for e in events if e.kind == "restoration.detected")
    assert restored.data["window_start_t_s"] >= restart.t_s - 0.05
    assert all(e.data["ok"] for e in events if e.kind == "fault.reverted")


def check_cut_link_fails_every_node(events: list[Event]) -> None:
    fault = next(e for e in events if e.kind == "fault.injected")
    assert fault.data["type"] == "link_down" and fault.data["lease"] == "held by the proxy"
    resolved = next(e for e in events if e.kind == "team.resolve")
    for node in ("app-1", "app-2"):
        served, failed = node_failures(events, node, fault.t_s + 1, resolved.t_s)
        assert served and failed / served > 0.9, f"{node} cannot reach the upstream"
    assert next(e for e in events if e.kind == "fault.reverted").data["ok"]


@pytest.mark.timeout(200)
def test_a_frozen_node_of_a_users_stack_is_restarted(tmp_path: Path) -> None:
    check_frozen_node_restarted(run_user_drill("pause", tmp_path))


@pytest.mark.timeout(200)
def test_a_network_fault_through_a_users_own_proxy(tmp_path: Path) -> None:
    check_cut_link_fails_every_node(run_user_drill("link", tmp_path))


def test_a_scenario_naming_a_service_the_stack_lacks_is_refused(tmp_path: Path) -> None:
    drill = load_drill(USERSTACK / "drill-pause.yaml")
    stack = drill.scenario.stack.model_copy(update={"nodes": ("app-1", "app-9")})
    wrong = drill.model_copy(update={"scenario": drill.scenario.model_copy(update={"stack": stack})})
    with pytest.raises(SpecError) as refused:
        prepare_run(wrong, RunOptions(runs_dir=tmp_path))
    assert "stack.nodes[1]: 'app-9' is not a service of this compose file" in str(refused.value)
    assert not list(tmp_path.iterdir()), "nothing was created"
