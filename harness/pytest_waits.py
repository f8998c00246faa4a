"""Waits a Python-written responder uses: for the page (an alert) and for the restoration.

They read the journal through the control API, as a person's terminal would, so a test
waits on what the team can see and never on a sleep:

    def respond(team: ControlClient) -> None:
        alert = wait_for_alert(team, timeout_s=30)
        team.act("alice", "kill-hung-workers")
        wait_for_restoration(team, timeout_s=60, since_seq=alert.seq)
        team.resolve("alice")
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

from harness.errors import GamedrillError
from harness.waiting import wait_until

if TYPE_CHECKING:
    from harness.control.client import ControlClient
    from harness.timeline import Event

DRILL_OVER: Final = frozenset({"run.aborted", "run.finished"})  # nothing more will come
POLL_S: Final = 0.1


class DrillEnded(GamedrillError):
    """The drill ended before the event a responder was waiting for."""


def wait_for_event(client: ControlClient, kind: str, timeout_s: float, *, since_seq: int = 0,
                   name: str | None = None) -> Event:
    """The first `kind` event after `since_seq` (with `data.name == name` if given).

    Raises WaitTimeout after `timeout_s`, DrillEnded if the drill ends first.
    """
    cursor = since_seq

    def found() -> Event | None:
        nonlocal cursor
        for event in client.journal(cursor):
            cursor = event.seq
            if event.kind == kind and (name is None or event.data.get("name") == name):
                return event
            if event.kind in DRILL_OVER:
                raise DrillEnded(f"the drill ended ({event.kind}, seq {event.seq}) before any {kind}")
        return None

    what = f"{kind} named {name!r}" if name else kind
    return wait_until(found, timeout_s, what, interval_s=POLL_S)


def wait_for_alert(client: ControlClient, timeout_s: float = 60.0, *, name: str | None = None,
                   since_seq: int = 0) -> Event:
    """The first alert that fired (the page), optionally a named alert rule."""
    return wait_for_event(client, "alert.fired", timeout_s, since_seq=since_seq, name=name)


def wait_for_restoration(client: ControlClient, timeout_s: float = 120.0, *, since_seq: int = 0) -> Event:
    """The harness saw a sustained healthy window: `data.window_start_t_s` is when service came back."""
    return wait_for_event(client, "restoration.detected", timeout_s, since_seq=since_seq)
