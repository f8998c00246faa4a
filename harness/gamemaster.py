"""The game master at work: the effects of the inject rules that fire (harness.injects).

Driven from the runner's monitor loop. Every firing is journaled as `inject.fired`
(facilitator-only) with the rule, why it fired and what each effect did; a stakeholder's
question is journaled as `stakeholder.asked` (the team sees it and answers with
`gamedrill reply`). Faults go through the run's FaultStack, so they are leased and
reverted like the scheduled ones.
"""

from __future__ import annotations

import logging
import random
from typing import TYPE_CHECKING, Any

from harness.injects import Firing, InjectRules
from harness.spec_injects import Effect, escalated

if TYPE_CHECKING:
    from harness.faults import FaultStack
    from harness.monitor import Monitor
    from harness.schedule import FaultSchedule
    from harness.spec import Drill
    from harness.timeline import Event, Journal

log = logging.getLogger(__name__)
QUESTION_PREFIX = "Q"


class GameMaster:
    def __init__(self, drill: Drill, journal: Journal, rng: random.Random) -> None:
        self.drill = drill
        self.journal = journal
        self.rules = InjectRules(drill.injects, rng)
        self._asked = 0
        self._live: set[int] = set()  # fault indexes injected and not reverted, as journaled
        self._specs: dict[int, Any] = {}  # an escalated fault's spec: a second escalation builds on it
        journal.subscribe(self.rules.observe)
        journal.subscribe(self._track_faults)

    def catch_up(self, journaled: list[Event]) -> None:
        """A resumed run: the conditions and the questions so far come from the journal."""
        self.rules.catch_up(journaled)
        for event in journaled:
            self._track_faults(event)
        self._asked = sum(1 for e in journaled if e.kind == "stakeholder.asked")

    def step(self, faults: FaultStack, monitor: Monitor, schedule: FaultSchedule | None) -> None:
        """Apply the rules that fire now (a fault brought in keeps its `duration_s` on the schedule)."""
        for firing in self.rules.due(self.journal.now_s()):
            outcomes = [self._apply(effect, firing, faults, monitor, schedule) for effect in firing.rule.then]
            self.journal.append("inject.fired", rule=firing.rule.name, index=firing.index,
                                condition=firing.rule.when.condition, why=firing.why,
                                occurrence=firing.occurrence, effects=outcomes)
            log.info("inject %s fired: %s", firing.rule.name, firing.why)

    def next_due_t_s(self) -> float | None:
        return self.rules.next_due_t_s(self.journal.now_s())

    def _apply(self, effect: Effect, firing: Firing, faults: FaultStack, monitor: Monitor,
               schedule: FaultSchedule | None) -> dict[str, Any]:
        try:
            if effect.ask is not None:
                return self._ask(effect.ask.stakeholder, effect.ask.text, firing.rule.name)
            if effect.inject is not None:
                return self._widen(effect.inject, faults, monitor, schedule)
            if effect.escalate is not None:
                return self._escalate(effect.escalate.fault, effect.escalate.set, faults)
        except Exception as exc:  # an effect that fails is journaled; the drill goes on
            log.exception("inject %s: effect %s failed", firing.rule.name, effect.kind)
            return {"effect": effect.kind, "done": False, "error": f"{type(exc).__name__}: {exc}"}
        raise AssertionError(f"an effect with no kind: {effect!r}")

    def _track_faults(self, event: Event) -> None:
        if event.kind == "fault.injected":
            self._live.add(int(event.data["index"]))
        elif event.kind == "fault.reverted":
            self._live.discard(int(event.data["index"]))

    def _ask(self, stakeholder: str, text: str, rule: str) -> dict[str, Any]:
        persona = next(s for s in self.drill.stakeholders if s.name == stakeholder)
        self._asked += 1
        question = f"{QUESTION_PREFIX}{self._asked}"
        # The team sees the question, never the rule that asked it (inject.fired, facilitator-only, names it).
        self.journal.append("stakeholder.asked", id=question, stakeholder=persona.name, title=persona.title,
                            text=text)
        return {"effect": "ask", "done": True, "question": question, "stakeholder": persona.name, "rule": rule}

    def _widen(self, index: int, faults: FaultStack, monitor: Monitor,
               schedule: FaultSchedule | None) -> dict[str, Any]:
        if index in self._live:
            return {"effect": "inject", "done": False, "fault": index, "skipped": "already injected"}
        fault = self.drill.scenario.faults[index]
        faults.inject(index, fault)
        if schedule is not None:
            schedule.injected(index, fault, self.journal.now_s())
        if len(faults.active) == 1:  # the first fault since the others went: a new incident to watch
            monitor.arm_restoration(self.journal.now_s())
        return {"effect": "inject", "done": True, "fault": index, "type": fault.type}

    def _escalate(self, index: int, changes: dict[str, Any], faults: FaultStack) -> dict[str, Any]:
        if index not in self._live:
            return {"effect": "escalate", "done": False, "fault": index, "skipped": "the fault is not injected"}
        stronger = escalated(self._specs.get(index, self.drill.scenario.faults[index]), changes)
        faults.revert(index, "escalated")
        faults.inject(index, stronger)
        self._specs[index] = stronger
        return {"effect": "escalate", "done": True, "fault": index, "set": changes}
