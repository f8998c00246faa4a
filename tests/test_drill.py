"""A drill end to end on the local backend: real stack, real load, real fault, timed team."""

from __future__ import annotations

import contextlib
import json
import stat
import threading
import time
from pathlib import Path

import pytest

from harness.control import Tokens
from harness.runner import Run, RunOptions, prepare_run
from harness.spec import load_drill
from harness.stack import procfs
from harness.timeline import Event, read_journal

DATA = Path(__file__).parent / "data"


def first(events: list[Event], kind: str, **match: object) -> Event:
    for event in events:
        if event.kind == kind and all(event.data.get(k) == v for k, v in match.items()):
            return event
    raise AssertionError(f"no {kind} {match or ''} in the journal: {[e.kind for e in events]}")


class CpuWatch:
    """Samples the web workers' CPU time from /proc while the drill runs: what `top` would show."""

    def __init__(self, run: Run) -> None:
        self.run = run
        self.samples: list[tuple[float, float]] = []  # (drill t_s, cores busy in web workers)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def __enter__(self) -> CpuWatch:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _workers_cpu(self) -> dict[tuple[str, int], float]:
        cpu: dict[tuple[str, int], float] = {}  # by node too: a container's pids are its own
        for node in self.run.drill.scenario.stack.nodes:
            with contextlib.suppress(Exception):  # the stack is starting or going down
                cpu.update({(node, p.pid): p.cpu_s for p in self.run.backend.processes(node) if p.role == "worker"})
        return cpu

    def _loop(self) -> None:
        before, at = self._workers_cpu(), time.monotonic()
        while not self._stop.wait(0.5):
            now_cpu, now = self._workers_cpu(), time.monotonic()
            busy = sum(max(0.0, cpu - before.get(pid, cpu)) for pid, cpu in now_cpu.items())
            self.samples.append((self.run.journal.now_s(), busy / (now - at)))
            before, at = now_cpu, now


@pytest.mark.timeout(240)
def test_autopilot_drill_times_the_team_from_fault_to_resolution(tmp_path: Path) -> None:
    run = prepare_run(load_drill(DATA / "hung-autopilot.yaml"), RunOptions(runs_dir=tmp_path, autopilot=True))
    with CpuWatch(run) as watch:
        result = run.execute()
    assert result.outcome == "resolved", result.reason
    events = read_journal(result.run_dir / "journal.jsonl")

    fault = first(events, "fault.injected")
    alert = first(events, "alert.fired")
    declare = first(events, "team.declare")
    first_act = first(events, "team.act")
    global_kill = first(events, "team.act", action="kill-hung-workers", canary=None)
    restored = first(events, "restoration.detected")
    resolved = first(events, "team.resolve")
    restored_at = restored.data["window_start_t_s"]
    assert fault.t_s < alert.t_s < declare.t_s < first_act.t_s < restored_at < resolved.t_s
    assert restored_at >= global_kill.t_s, "restoration measured after the mitigation that healed it"
    assert restored.t_s >= restored_at + restored.data["window_s"], "a window is judged once it is over"

    # The looping workers really spun: web workers burned half a core or more (a busy machine shares
    # its two cores) before anyone acted.
    busy_before_act = [cores for t_s, cores in watch.samples if fault.t_s + 2 < t_s < first_act.t_s]
    assert busy_before_act and max(busy_before_act) >= 0.5, watch.samples  # idle workers burn ~0
    killed = first(events, "action.result", action="kill-hung-workers").data["changed"]["killed"]
    assert killed.get("web-1"), "the canary kill found spinning workers on web-1"

    # Every fault reverted, the stack torn down, nothing left running.
    assert first(events, "fault.reverted").data["ok"]
    assert events[-1].kind == "run.finished" and events[-1].data["outcome"] == "resolved"
    state = json.loads((result.run_dir / "stack.json").read_text())
    assert state["services"] == {}
    assert not [p for p in procfs.all_pids() if procfs.environ_of(p).get("GAMEDRILL_RUN_ID") == run.run_id]

    # The tokens live in tokens.json (0600) in a 0700 run directory, and in no other file of it.
    tokens = Tokens.read(result.run_dir)
    assert stat.S_IMODE(result.run_dir.stat().st_mode) == 0o700
    assert stat.S_IMODE((result.run_dir / "tokens.json").stat().st_mode) == 0o600
    for path in result.run_dir.rglob("*"):
        if path.is_file() and path.name != "tokens.json":
            content = path.read_bytes()
            assert tokens.team.encode() not in content and tokens.facilitator.encode() not in content, path

    card = json.loads((result.run_dir / "scorecard.json").read_text())
    phases = {p["phase"]: p for p in card["phases"]}
    assert phases["detect"]["seconds_from_fault"] == pytest.approx(alert.t_s - fault.t_s, abs=1e-3)
    assert phases["mitigate"]["seconds_from_fault"] == pytest.approx(restored_at - fault.t_s, abs=1e-3)
    assert (result.run_dir / "scorecard.md").read_text().count("detect") >= 1
