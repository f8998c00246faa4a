"""What a running drill offers to the people (and the autopilot) responding to it.

The control API serves this protocol over HTTP; the runner implements it. Every team
event is timestamped by the journal when the session records it, never by the client.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

from harness.timeline import Event

TeamEventKind = Literal["ack", "declare", "role", "update", "note", "suspect", "scope", "escalate", "resolve",
                        "reply"]
TEAM_EVENT_KINDS: tuple[TeamEventKind, ...] = (
    "ack", "declare", "role", "update", "note", "suspect", "scope", "escalate", "resolve",
    "reply",  # to a stakeholder's question (harness.gamemaster)
)


@dataclass(frozen=True)
class ActionResult:
    """What a toolkit action did: which nodes it touched and what changed there."""

    action: str
    ok: bool
    nodes: tuple[str, ...]
    detail: str
    changed: dict[str, Any] = field(default_factory=dict)


class DrillSession(Protocol):
    run_id: str

    def record(self, kind: TeamEventKind, by: str, data: dict[str, Any]) -> Event:
        """Journal `team.<kind>` with the server's timestamp and return the event."""

    def act(self, by: str, action: str, canary: str | None, params: dict[str, Any]) -> tuple[Event, ActionResult]:
        """Journal `team.act`, run the toolkit action, journal `action.result`; unknown action: ValueError.

        Returns the `team.act` event (its time is when the team asked) and what the action did."""

    def status(self, facilitator: bool = False) -> dict[str, Any]:
        """What a team looks at: the drill's phase (starting, running, ending, over), SLO now
        (overall and per node), alerts firing; the facilitator's view adds the run `state`."""

    def changes(self) -> list[dict[str, Any]]:
        """The control plane's change log, oldest first."""

    def journal_events(self, since_seq: int, facilitator: bool) -> list[Event]:
        """Events after `since_seq`; the team sees only kinds timeline.team_may_see allows."""

    def truth(self) -> dict[str, Any]:
        """Facilitator only: the scenario's ground truth and the faults injected so far."""

    def abort(self, reason: str) -> None:
        """Facilitator only: stop the drill now; every fault is reverted."""

    def meta(self) -> dict[str, Any]:
        """What a console needs to draw its forms: the drill, its nodes, the toolkit, the roles."""

    def subscribe(self, listener: Callable[[Event], None]) -> None:
        """Call `listener` with every journal event from now on (quick, and it must not append)."""

    def unsubscribe(self, listener: Callable[[Event], None]) -> None: ...
