"""The `gamedrill_drill` fixture's callable: run a scenario with a responder written in Python.

    def test_runbook(gamedrill_drill):
        def respond(team: ControlClient) -> None:
            wait_for_alert(team, timeout_s=30)
            team.act("alice", "kill-hung-workers")
            wait_for_restoration(team, timeout_s=60)
            team.resolve("alice")

        card = gamedrill_drill("scenarios/hung-workers.yaml", respond, targets={"mitigate_s": 45})
        assert card.phase("mitigate").passed

The responder runs in its own thread as soon as the drill's control API is up, holding the
team's token, like a person at a terminal. If it raises, the drill is aborted at once and
the exception is raised again in the test once everything is reverted and torn down.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

import pytest

from harness.pytest_report import GamedrillReporter, kept_note
from harness.pytest_run import DrillRun, prepare
from harness.pytest_settings import settings_for
from harness.waiting import wait_until

if TYPE_CHECKING:
    from harness.control.client import ControlClient
    from harness.spec import Drill, Scenario
    from scorecards import Scorecard

Responder = Callable[["ControlClient"], object]
CONTROL_UP_S: Final = 300.0  # the stack and the load come up first; a busy machine is slow
ACT_TIMEOUT_S: Final = 120.0  # an action answers when it is done: a rolling restart takes a while
RESPONDER_EXIT_S: Final = 30.0  # after the drill: its waits fail fast once the API is gone
DEFAULT_TEAM: Final = ("alice", "bob", "carol")


class DrillRunner:
    def __init__(self, item: pytest.Item) -> None:
        self._item = item
        self.runs: list[DrillRun] = []

    def __call__(self, source: str | Path, responder: Responder, *, check_targets: bool = False,
                 **fields: Any) -> Scorecard:
        """Run the scenario (or drill) file `source` with `responder` playing the team.

        A relative `source` is relative to the rootdir. `fields` are drill fields (targets,
        team, load, baseline_s, max_duration_s, ...) over the drill file's or, for a scenario,
        over short defaults. `check_targets=True` fails the test like a drill file would when
        a target is missed.
        """
        from harness.errors import RunNotStarted
        from harness.pytest_items import DrillMissed
        from harness.pytest_verdict import explain

        drill = build_drill(self._item.config.rootpath / source, fields)
        run = prepare(drill, settings_for(self._item), autopilot=False)
        reporter = GamedrillReporter.of(self._item.config)
        team = _Team(run.run_dir, responder)
        team.start()
        try:
            result = run.execute()
        except RunNotStarted as exc:  # nothing of it is left: no run directory to point at
            __tracebackhide__ = True  # the message says it all; the test's own line is the place
            raise RunNotStarted(str(exc)) from None
        except BaseException:
            reporter.note(self._item, f"run dir: {run.run_dir}")
            raise
        finally:
            team.finish()
        reporter.note(self._item, f"run dir: {run.run_dir}")
        done = DrillRun.finished(run, result)
        self.runs.append(done)
        self._item.user_properties.extend(done.properties())
        if done.kept:
            reporter.note(self._item, kept_note(done.run_dir))
        team.raise_failure(f"the drill ended {result.outcome} ({result.reason}); run dir {run.run_dir}")
        if check_targets:
            verdict = done.verdict
            if not verdict.passed:
                raise DrillMissed("\n".join(explain(drill.name, verdict, done.card, done.events)))
        return done.card

    def close(self, test_failed: bool) -> None:
        """Take kept stacks down unless the test failed (then they stay up for debugging)."""
        for done in self.runs:
            if done.kept and test_failed:
                GamedrillReporter.of(self._item.config).kept.append(kept_note(done.run_dir))
            else:
                done.release()


def build_drill(source: Path, fields: Mapping[str, Any]) -> Drill:
    """A drill from a drill file (its responder dropped) or a scenario file, `fields` applied."""
    from harness.errors import SpecError
    from harness.spec import Drill, load_drill, load_scenario
    from harness.yamlsrc import load_yaml

    data = load_yaml(source, SpecError).data
    if isinstance(data, dict) and data.get("kind") == "drill":
        # Every problem of the file, with its line, before any override; its scenario is a
        # path or builtin:NAME, loaded with it.
        scenario = load_drill(source).scenario
        base = dict(data)
    else:
        scenario = load_scenario(source)
        base = _defaults(scenario)
    merged = {**base, **fields, "scenario": scenario, "responder": []}
    return Drill.model_validate(merged, context={"base_dir": source.parent})


def _defaults(scenario: Scenario) -> dict[str, Any]:
    return {"kind": "drill", "name": scenario.name, "title": f"pytest: {scenario.title}",
            "load": {"users": 12, "rate_per_s": 50}, "baseline_s": 5, "inject_after_s": 0,
            "max_duration_s": min(90, scenario.safety.max_duration_s), "team": {"members": list(DEFAULT_TEAM)}}


class _Ended(Exception):
    """The drill ended while the responder waited for its control API: nothing to respond to."""


class _Team(threading.Thread):
    """Plays `responder` once the control API is up; aborts the drill if it raises."""

    def __init__(self, run_dir: Path, responder: Responder) -> None:
        super().__init__(name="gamedrill-responder", daemon=True)
        self._run_dir, self._responder = run_dir, responder
        self._ended = threading.Event()
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            self._responder(wait_until(self._client, CONTROL_UP_S, "the drill's control API"))
        except _Ended:
            pass
        except BaseException as exc:
            self.error = exc
            self._abort(f"the responder raised {type(exc).__name__}: {exc}")

    def finish(self) -> None:
        self._ended.set()
        self.join(RESPONDER_EXIT_S)

    def raise_failure(self, context: str) -> None:
        if self.is_alive():
            raise RuntimeError(f"the responder was still running {RESPONDER_EXIT_S:g} s after the drill ended; "
                               f"{context}")
        if self.error is not None:
            self.error.add_note(context)
            raise self.error

    def _client(self) -> ControlClient | None:
        from harness.control.client import ControlClient, NoLiveRunError

        if self._ended.is_set():
            raise _Ended
        try:
            client = ControlClient.from_run_dir(self._run_dir)
        except NoLiveRunError:
            return None
        client.timeout_s = ACT_TIMEOUT_S
        return client

    def _abort(self, reason: str) -> None:
        from harness.control.client import ControlClient, ControlError, NoLiveRunError

        with contextlib.suppress(ControlError, NoLiveRunError):  # the drill is over already
            ControlClient.from_run_dir(self._run_dir, role="facilitator").abort(reason)
