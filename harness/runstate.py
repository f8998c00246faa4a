"""The drill's state machine: the states, the legal moves, and one place that makes them."""

from __future__ import annotations

import threading
from enum import StrEnum

from harness.errors import GamedrillError
from harness.timeline import Journal


class RunState(StrEnum):
    CREATED = "created"
    RESUMING = "resuming"  # a new harness takes over a drill whose harness died (--resume)
    STARTING = "starting"  # stack coming up, load starting
    BASELINE = "baseline"  # healthy traffic, decoy changes, steady-state check
    INJECTED = "injected"  # the fault is live; the team responds
    REVERTING = "reverting"  # every fault is being undone
    TEARING_DOWN = "tearing_down"
    FINISHED = "finished"


# What the team is told of the run's state: whether the drill is on, never whether the fault is in.
_TEAM_PHASES: dict[RunState, str] = {
    RunState.CREATED: "starting", RunState.STARTING: "starting", RunState.RESUMING: "running",
    RunState.BASELINE: "running", RunState.INJECTED: "running", RunState.REVERTING: "ending",
    RunState.TEARING_DOWN: "ending", RunState.FINISHED: "over",
}


def team_phase(state: RunState) -> str:
    """starting, running, ending or over."""
    return _TEAM_PHASES[state]


_MOVES: dict[RunState, frozenset[RunState]] = {
    RunState.CREATED: frozenset({RunState.STARTING, RunState.RESUMING, RunState.TEARING_DOWN}),
    RunState.RESUMING: frozenset({RunState.INJECTED, RunState.REVERTING, RunState.TEARING_DOWN}),
    RunState.STARTING: frozenset({RunState.BASELINE, RunState.TEARING_DOWN}),
    RunState.BASELINE: frozenset({RunState.INJECTED, RunState.REVERTING, RunState.TEARING_DOWN}),
    RunState.INJECTED: frozenset({RunState.REVERTING}),
    RunState.REVERTING: frozenset({RunState.TEARING_DOWN}),
    RunState.TEARING_DOWN: frozenset({RunState.FINISHED}),
    RunState.FINISHED: frozenset(),
}


class IllegalTransition(GamedrillError):
    pass


class StateMachine:
    def __init__(self, journal: Journal) -> None:
        self.journal = journal
        self._state = RunState.CREATED
        self._lock = threading.Lock()

    @property
    def state(self) -> RunState:
        return self._state

    def move(self, to: RunState) -> None:
        """Make a legal move and journal it; an illegal one raises and changes nothing."""
        with self._lock:
            if to not in _MOVES[self._state]:
                raise IllegalTransition(f"a drill cannot go from {self._state} to {to}")
            self.journal.append("run.state", **{"from": str(self._state), "to": str(to)})
            self._state = to
