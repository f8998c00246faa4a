"""The control API: how the team (people, the CLI, the autopilot) acts on a running drill.

`create_app` serves a `DrillSession` over HTTP with per-run tokens (`issue_tokens`),
`ControlServer` runs it on 127.0.0.1, `ControlClient` calls it.
"""

from harness.control.app import ERROR_STATUS, create_app
from harness.control.auth import Access, Tokens, issue_tokens
from harness.control.client import ActOutcome, ControlClient, ControlError, NoLiveRunError, find_live_run
from harness.control.models import TEAM_EVENT_BODIES
from harness.control.server import ControlServer, ControlServerError

__all__ = [
    "ERROR_STATUS",
    "TEAM_EVENT_BODIES",
    "Access",
    "ActOutcome",
    "ControlClient",
    "ControlError",
    "ControlServer",
    "ControlServerError",
    "NoLiveRunError",
    "Tokens",
    "create_app",
    "find_live_run",
    "issue_tokens",
]
