"""The runbook as code, played through the real control API against a fake drill."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pydantic import TypeAdapter
from test_control import Served, serve

from harness.responder import Responder, ResponderError, StepResult
from harness.spec_steps import Act, ResponderStep, Step
from harness.timeline import read_journal

STEPS = TypeAdapter(list[ResponderStep])
EMITTED = {"alert": ("alert.fired", {"name": "error-rate", "metric": "error_rate", "value": 0.4,
                                     "threshold": 0.05, "node": None}),
           "restored": ("restoration.detected", {"window_start_t_s": 12.0, "window_s": 10.0})}


def runbook(*steps: dict[str, Any]) -> list[Step]:
    return list(STEPS.validate_python(list(steps)))


class StackReacts:
    """Plays the monitor: when the responder starts waiting, the awaited event follows shortly."""

    def __init__(self, drill: Served, delay_s: float = 0.05) -> None:
        self.drill, self.delay_s = drill, delay_s
        self.started: list[tuple[int, str]] = []
        self.waiting = threading.Event()
        self._timers: list[threading.Timer] = []

    def on_step(self, index: int, step: Step) -> None:
        self.started.append((index, step.step))
        event = getattr(step, "event", None)
        if event in EMITTED:
            kind, data = EMITTED[event]
            timer = threading.Timer(self.delay_s, self.drill.journal.append, args=(kind,), kwargs=data)
            self._timers.append(timer)
            timer.start()

    def close(self) -> None:
        for timer in self._timers:
            timer.cancel()
            timer.join()


@pytest.fixture
def drill(tmp_path: Path) -> Iterator[Served]:
    with serve(tmp_path / "runs" / "test-run") as served:
        yield served


@pytest.fixture
def stack(drill: Served) -> Iterator[StackReacts]:
    reacts = StackReacts(drill)
    yield reacts
    reacts.close()


def test_a_runbook_plays_the_team_through_the_api(drill: Served, stack: StackReacts) -> None:
    steps = runbook(
        {"wait_for": {"event": "alert", "timeout_s": 10}},
        {"ack": "alice"},
        {"declare": {"severity": 2, "commander": "alice"}},
        {"role": {"role": "comms", "who": "bob"}},
        {"update": {"by": "bob", "impact": "checkout failing", "action": "investigating", "next_update_s": 2.5}},
        {"suspect": {"by": "carol", "change": "script_push v2"}},
        {"scope": {"by": "carol", "nodes": ["web-1"]}},
        {"act": {"by": "alice", "action": "kill-hung-workers", "canary": "web-1"}},
        {"wait_for": {"event": "restored", "timeout_s": 10}},
        {"pause": 0.01},
        {"resolve": "alice"},
    )
    results = Responder(steps, drill.team, on_step=stack.on_step, poll_interval_s=0.01).run()

    assert results == [StepResult(i, step.step, True) for i, step in enumerate(steps)]
    assert stack.started == [(i, step.step) for i, step in enumerate(steps)]
    events = read_journal(drill.journal.path)
    order = [e.kind for e in events if e.kind.startswith(("team.", "alert.", "restoration."))]
    assert order == ["alert.fired", "team.ack", "team.declare", "team.role", "team.update", "team.suspect",
                     "team.scope", "team.act", "restoration.detected", "team.resolve"]
    by_kind = {e.kind: e for e in events}
    assert by_kind["team.declare"].data["by"] == "alice"  # without `by`, the commander declares
    assert by_kind["team.role"].data["by"] == "alice"  # ...and hands out the roles
    assert by_kind["team.update"].data["next_update_s"] == 3  # promised in whole seconds, never early
    assert by_kind["team.ack"].t_s >= by_kind["alert.fired"].t_s


def test_a_failing_step_names_its_yaml_path(drill: Served) -> None:
    # A file naming no toolkit action is refused when it loads; built in code unchecked, the API refuses it.
    unchecked = Act.model_construct(by="alice", action="reboot-the-world", canary=None, params={})
    steps = [*runbook({"ack": "alice"}), unchecked]
    with pytest.raises(ResponderError) as failed:
        Responder(steps, drill.team).run()
    assert (failed.value.index, failed.value.step) == (1, "act")
    assert str(failed.value).startswith("responder[1].act: 400: unknown action 'reboot-the-world'")


def test_wait_for_gives_up_at_its_timeout(drill: Served) -> None:
    steps = runbook({"wait_for": {"event": "alert", "timeout_s": 0.2}})
    with pytest.raises(ResponderError, match=r"responder\[0\]\.wait_for: no alert\.fired within 0\.2 s"):
        Responder(steps, drill.team, poll_interval_s=0.01).run()


def test_wait_for_gives_up_when_the_drill_ends(drill: Served) -> None:
    drill.facilitator.abort("out of time")
    with pytest.raises(ResponderError, match=r"the drill ended \(run\.aborted\) before any alert\.fired"):
        Responder(runbook({"wait_for": "alert"}), drill.team, poll_interval_s=0.01).run()


def test_wait_for_looks_after_what_the_previous_wait_found(drill: Served, stack: StackReacts) -> None:
    drill.journal.append("restoration.detected", window_start_t_s=0.0, window_s=10.0)  # before the incident
    steps = runbook({"wait_for": "alert"}, {"wait_for": {"event": "restored", "timeout_s": 10}})
    Responder(steps, drill.team, on_step=stack.on_step, poll_interval_s=0.01).run()
    restorations = [e for e in read_journal(drill.journal.path) if e.kind == "restoration.detected"]
    assert len(restorations) == 2  # the second wait did not settle for the stale one


@pytest.mark.parametrize("step", [{"wait_for": "alert"}, {"pause": 600}], ids=["wait_for", "pause"])
def test_stop_makes_run_return_promptly(drill: Served, step: dict[str, Any]) -> None:
    started = threading.Event()
    responder = Responder(runbook({"ack": "alice"}, step, {"resolve": "alice"}), drill.team,
                          on_step=lambda index, _: started.set() if index == 1 else None)
    results: list[StepResult] = []
    runner = threading.Thread(target=lambda: results.extend(responder.run()))
    runner.start()
    assert started.wait(timeout=5)
    responder.stop()
    runner.join(timeout=2)
    assert not runner.is_alive()
    assert results == [StepResult(0, "ack", True), StepResult(1, next(iter(step)), False)]
    assert "team.resolve" not in {e.kind for e in read_journal(drill.journal.path)}
