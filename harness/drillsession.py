"""The running drill as the team sees it: the DrillSession half of `Run`.

Team events are journaled here, so their timestamps are the server's. The team's view of
the journal hides what only the facilitator may see: the plan with its ground truth, the
injected faults, and which changes were decoys.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from harness.actions import acts_per_node, known_actions, run_action
from harness.errors import GamedrillError, StackError
from harness.runstate import team_phase
from harness.session import ActionResult, TeamEventKind
from harness.spec_steps import ROLES
from harness.timeline import Event, read_journal, team_may_see
from scorecards.policy import severity_table

if TYPE_CHECKING:
    from harness.faults import FaultContext, FaultStack
    from harness.monitor import Monitor
    from harness.runstate import StateMachine
    from harness.spec import Drill
    from harness.timeline import Journal



class DrillOver(GamedrillError):
    """The drill has ended; it takes no more team events."""


class DrillSessionMixin:
    drill: Drill
    run_id: str
    journal: Journal
    monitor: Monitor
    states: StateMachine
    ctx: FaultContext | None
    faults: FaultStack | None
    _stop: threading.Event
    _resolved: threading.Event
    _changes_seen: list[dict[str, Any]]

    def plan(self, drill_file: Path | None = None, history: Path | None = None) -> None:
        """The first event of the run: what it is, its targets and its ground truth (and where
        its drill file is, for `gamedrill run --resume`, and the history it goes to when not
        the default one: a pytest run's, which `--resume` and `scorecard rebuild` keep to)."""
        drill, scenario = self.drill, self.drill.scenario
        self.journal.append(
            "run.planned", run_id=self.run_id, drill=drill.name, scenario=scenario.name, backend=drill.backend,
            targets=drill.targets.model_dump(mode="json"), truth=scenario.truth.model_dump(mode="json"),
            load=drill.load.model_dump(mode="json"), team=drill.team.model_dump(mode="json"),
            nodes=list(scenario.stack.nodes), time_compression=drill.time_compression,
            max_duration_s=drill.duration_limit_s,
            drill_file=str(drill_file.resolve()) if drill_file else None,
            history=str(history.resolve()) if history else None)

    def record(self, kind: TeamEventKind, by: str, data: dict[str, Any]) -> Event:
        self._refuse_when_over()
        if kind == "reply":
            self._check_question(str(data.get("question")))
        event = self.journal.append(f"team.{kind}", by=by, **data)
        if kind == "resolve":
            self._resolved.set()
        return event

    def act(self, by: str, action: str, canary: str | None, params: dict[str, Any]) -> tuple[Event, ActionResult]:
        self._refuse_when_over()
        if action not in known_actions():
            raise ValueError(f"unknown action {action!r}; known: {', '.join(known_actions())}")
        if self.ctx is None:
            raise DrillOver("the stack is not up yet")
        asked = self.journal.append("team.act", by=by, action=action, canary=canary, params=params,
                                    per_node=acts_per_node(action))
        refused: Exception | None = None
        try:
            result = run_action(action, self.ctx, canary, params)
        except (GamedrillError, OSError) as exc:
            result = ActionResult(action, False, (), f"failed: {exc}")
        except ValueError as exc:  # bad arguments: journaled as a refusal, then the caller's 400
            refused, result = exc, ActionResult(action, False, (), f"refused: {exc}")
        except Exception as exc:  # a bug: journaled all the same (the request keeps its outcome), then a 500
            refused, result = exc, ActionResult(action, False, (), f"failed: internal error ({type(exc).__name__})")
        self.journal.append("action.result", action=action, ok=result.ok, nodes=list(result.nodes),
                            detail=result.detail, changed=result.changed)
        if refused is not None:
            raise refused
        return asked, result

    def status(self, facilitator: bool = False) -> dict[str, Any]:
        """The SLO now; the team sees the drill's phase, never the run's state (`injected` would
        tell it when the fault went in), the facilitator both."""
        state = self.states.state
        view = {"run_id": self.run_id, "phase": team_phase(state), "drill": self.drill.name,
                **self.monitor.snapshot(self.journal.now_s())}
        return {**view, "state": str(state)} if facilitator else view

    def changes(self) -> list[dict[str, Any]]:
        if self.ctx is None:
            return []
        try:
            self._changes_seen = self.ctx.control_plane.changes()
        except StackError:
            if not self._stop.is_set():
                raise
            # The control plane goes down with the drill: consoles still get the log as last read.
        return self._changes_seen

    def journal_events(self, since_seq: int, facilitator: bool) -> list[Event]:
        events = [e for e in read_journal(self.journal.path) if e.seq > since_seq]
        return events if facilitator else [e for e in events if team_may_see(e.kind)]

    def truth(self) -> dict[str, Any]:
        scenario = self.drill.scenario
        return {"scenario": scenario.name, "truth": scenario.truth.model_dump(mode="json"),
                "faults": [dict(f.detail) for f in (self.faults.active if self.faults else [])]}

    def abort(self, reason: str) -> None:
        self._finish("aborted", f"facilitator: {reason}")

    def meta(self) -> dict[str, Any]:
        drill = self.drill
        return {"run_id": self.run_id, "drill": drill.name, "title": drill.title,
                "nodes": list(drill.scenario.stack.nodes), "actions": known_actions(), "roles": list(ROLES),
                "members": list(drill.team.members), "severities": [1, 2, 3, 4],
                "severity_table": severity_table(), "canary_actions": [a for a in known_actions() if acts_per_node(a)]}

    def subscribe(self, listener: Callable[[Event], None]) -> None:
        self.journal.subscribe(listener)

    def unsubscribe(self, listener: Callable[[Event], None]) -> None:
        self.journal.unsubscribe(listener)

    def _check_question(self, question: str) -> None:
        asked = [str(e.data.get("id")) for e in read_journal(self.journal.path) if e.kind == "stakeholder.asked"]
        if question not in asked:
            raise ValueError(f"no stakeholder asked {question!r}; questions: {', '.join(asked) or 'none yet'}")

    def _finish(self, outcome: str, reason: str) -> None:
        raise NotImplementedError

    def _refuse_when_over(self) -> None:
        if self._stop.is_set():
            raise DrillOver("the drill is over; it takes no more events")
