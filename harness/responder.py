"""The runbook as code: a drill's responder steps, played through the control API.

The autopilot is just another client of the API people use, so a regression suite
exercises the real path: every event it causes is journaled (and timed) by the server.

    responder = Responder(drill.responder, ControlClient.from_run_dir(run_dir))
    results = responder.run()       # [(0, "wait_for", True), (1, "declare", True), ...]
    responder.stop()                # from another thread: run() returns promptly
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

from harness.control.client import ControlClient, ControlError
from harness.errors import GamedrillError
from harness.spec_steps import (
    Ack,
    Act,
    AssignRole,
    Declare,
    Escalate,
    Note,
    Pause,
    Reply,
    Resolve,
    Scope,
    Step,
    Suspect,
    Update,
    WaitFor,
)

# What each `wait_for` waits for in the journal.
WAIT_EVENTS = {"alert": "alert.fired", "restored": "restoration.detected"}
DRILL_OVER = frozenset({"run.aborted", "run.finished"})  # nothing more will come: stop waiting


class ResponderError(GamedrillError):
    """A runbook step failed: names the step as its YAML path, `responder[3].declare`."""

    def __init__(self, index: int, step: str, reason: str) -> None:
        self.index, self.step, self.reason = index, step, reason
        super().__init__(f"responder[{index}].{step}: {reason}")


class StepResult(NamedTuple):
    position: int  # the step's index in the runbook (`index` is taken by tuple)
    step: str
    ok: bool  # False: the responder was stopped during this step


class _Stopped(Exception):
    pass


class _StepFailed(Exception):
    pass


class Responder:
    def __init__(self, steps: Sequence[Step], client: ControlClient,
                 on_step: Callable[[int, Step], None] | None = None, poll_interval_s: float = 0.1) -> None:
        self.steps = tuple(steps)
        self._client = client
        self._on_step = on_step
        self._poll_interval_s = poll_interval_s
        self._stopped = threading.Event()
        self._seen_seq = 0  # journal cursor: each wait_for looks only after what the last one found
        self._commander: str | None = None
        self._perform: dict[str, Callable[[Any], None]] = {
            "wait_for": self._wait_for, "ack": self._ack, "declare": self._declare, "role": self._role,
            "update": self._update, "note": self._note, "suspect": self._suspect, "scope": self._scope,
            "act": self._act, "escalate": self._escalate, "resolve": self._resolve, "pause": self._pause,
            "reply": self._reply,
        }

    def run(self) -> list[StepResult]:
        """Play every step in order; returns early (last result not ok) when stopped."""
        results: list[StepResult] = []
        for index, step in enumerate(self.steps):
            if self._stopped.is_set():
                break
            if self._on_step is not None:
                self._on_step(index, step)
            try:
                self._perform[step.step](step)
            except _Stopped:
                results.append(StepResult(index, step.step, False))
                break
            except (ControlError, _StepFailed) as exc:
                raise ResponderError(index, step.step, str(exc)) from exc
            results.append(StepResult(index, step.step, True))
        return results

    def stop(self) -> None:
        self._stopped.set()

    # ---- steps --------------------------------------------------------------------------

    def _wait_for(self, step: WaitFor) -> None:
        kind = WAIT_EVENTS[step.event]
        deadline = math.inf if step.timeout_s is None else time.monotonic() + step.timeout_s
        while True:
            for event in self._client.journal(self._seen_seq):
                self._seen_seq = event.seq
                if event.kind == kind:
                    return
                if event.kind in DRILL_OVER:
                    raise _StepFailed(f"the drill ended ({event.kind}) before any {kind}")
            remaining_s = deadline - time.monotonic()
            if remaining_s <= 0:
                raise _StepFailed(f"no {kind} within {step.timeout_s:g} s")
            if self._stopped.wait(min(self._poll_interval_s, remaining_s)):
                raise _Stopped

    def _pause(self, step: Pause) -> None:
        if self._stopped.wait(step.seconds):
            raise _Stopped

    def _ack(self, step: Ack) -> None:
        self._client.ack(step.by)

    def _declare(self, step: Declare) -> None:
        self._commander = step.commander
        self._client.declare(step.by or step.commander, step.severity, step.commander)

    def _role(self, step: AssignRole) -> None:
        # Without `by`, the commander hands out the role (or, before a declaration, the person takes it).
        self._client.role(step.by or self._commander or step.who, step.role, step.who)

    def _update(self, step: Update) -> None:
        # The API promises the next update in whole seconds; round up rather than promise early.
        next_update_s = None if step.next_update_s is None else math.ceil(step.next_update_s)
        self._client.update(step.by, step.impact, step.action, next_update_s, status=step.status,
                            impact_pct=step.impact_pct, components=list(step.components) if step.components else None)

    def _note(self, step: Note) -> None:
        self._client.note(step.by, step.text)

    def _suspect(self, step: Suspect) -> None:
        self._client.suspect(step.by, step.change)

    def _scope(self, step: Scope) -> None:
        self._client.scope(step.by, step.nodes)

    def _act(self, step: Act) -> None:
        outcome = self._client.act(step.by, step.action, step.canary, step.params)
        if not outcome.result.ok:  # a broken mitigation tool must fail the suite
            raise _StepFailed(f"{step.action} did not work: {outcome.result.detail}")

    def _escalate(self, step: Escalate) -> None:
        self._client.escalate(step.by, step.to)

    def _reply(self, step: Reply) -> None:
        deadline = math.inf if step.timeout_s is None else time.monotonic() + step.timeout_s
        while True:
            events = self._client.journal(0)
            answered = {e.data.get("question") for e in events if e.kind == "team.reply"}
            waiting = [e for e in events if e.kind == "stakeholder.asked" and e.data.get("id") not in answered]
            if waiting:
                self._client.reply(step.by, str(waiting[0].data["id"]), step.text)
                return
            if any(e.kind in DRILL_OVER for e in events):
                raise _StepFailed("the drill ended before any stakeholder asked a question")
            remaining_s = deadline - time.monotonic()
            if remaining_s <= 0:
                raise _StepFailed(f"no stakeholder question within {step.timeout_s:g} s")
            if self._stopped.wait(min(self._poll_interval_s, remaining_s)):
                raise _Stopped

    def _resolve(self, step: Resolve) -> None:
        self._client.resolve(step.by)
