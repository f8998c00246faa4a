"""A client for the control API, standard library only: what the CLI and the autopilot use.

    client = ControlClient.from_run_dir(find_live_run(Path("runs")))
    client.declare("alice", severity=2, commander="alice")
"""

from __future__ import annotations

import http.client
import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any, Literal
from urllib.parse import urlencode, urlsplit

from harness.control.auth import Access, Tokens
from harness.control.server import CONTROL_FILE
from harness.errors import GamedrillError
from harness.session import ActionResult
from harness.timeline import Event, parse_wall


class ControlError(GamedrillError):
    """The control API refused a request (`status` is its HTTP status) or gave no answer (None).

    Without an answer, `sent` says whether the request left this machine: if it did, the
    harness may have recorded it (or be acting on it) before the connection broke."""

    def __init__(self, status: int | None, message: str, sent: bool = True) -> None:
        self.status, self.message, self.sent = status, message, sent
        super().__init__(f"{status}: {message}" if status is not None else message)


class NoLiveRunError(GamedrillError):
    """No run directory belongs to a drill that is still running."""


@dataclass(frozen=True)
class ActOutcome:
    event: Event  # the journaled team.act
    result: ActionResult


# An action runs before its answer comes: a rolling restart waits for each node to be healthy.
ACT_TIMEOUT_S = 120.0


class ControlClient:
    def __init__(self, url: str, token: str, timeout_s: float = 5.0) -> None:
        parts = urlsplit(url)
        if parts.scheme != "http" or not parts.hostname or parts.port is None:
            raise ValueError(f"expected a control API URL like http://127.0.0.1:8123, got {url!r}")
        self.url, self.timeout_s = url, timeout_s
        self._host, self._port = parts.hostname, parts.port
        self._token = token

    def __repr__(self) -> str:  # never the token
        return f"ControlClient({self.url!r})"

    @classmethod
    def from_run_dir(cls, run_dir: Path, role: Literal["team", "facilitator"] = "team") -> ControlClient:
        """A client for the drill running in `run_dir`, holding the team's or the facilitator's token."""
        try:
            record = json.loads((run_dir / CONTROL_FILE).read_text(encoding="utf-8"))
            tokens = Tokens.read(run_dir)
        except FileNotFoundError as exc:
            raise NoLiveRunError(f"{run_dir}: no running drill here ({exc.filename} is missing)") from exc
        return cls(str(record["url"]), tokens.token_for(Access(role)))

    # ---- team events ------------------------------------------------------------------

    def ack(self, by: str) -> Event:
        return self._event("ack", by=by)

    def declare(self, by: str, severity: int, commander: str) -> Event:
        return self._event("declare", by=by, severity=severity, commander=commander)

    def role(self, by: str, role: str, who: str) -> Event:
        return self._event("role", by=by, role=role, who=who)

    def update(self, by: str, impact: str, action: str, next_update_s: int | None = None,
               text: str | None = None, status: str | None = None, impact_pct: float | None = None,
               components: list[str] | None = None) -> Event:
        return self._event("update", by=by, impact=impact, action=action, next_update_s=next_update_s, text=text,
                           impact_pct=impact_pct, components=components, **({"status": status} if status else {}))

    def note(self, by: str, text: str) -> Event:
        return self._event("note", by=by, text=text)

    def suspect(self, by: str, change: str | int) -> Event:
        return self._event("suspect", by=by, change=change)

    def scope(self, by: str, nodes: Sequence[str]) -> Event:
        return self._event("scope", by=by, nodes=list(nodes))

    def escalate(self, by: str, to: str) -> Event:
        return self._event("escalate", by=by, to=to)

    def resolve(self, by: str) -> Event:
        return self._event("resolve", by=by)

    def reply(self, by: str, question: str, text: str) -> Event:
        return self._event("reply", by=by, question=question, text=text)

    def act(self, by: str, action: str, canary: str | None = None,
            params: Mapping[str, Any] | None = None) -> ActOutcome:
        reply = self._request("POST", "/v1/act", {"by": by, "action": action, "canary": canary,
                                                   "params": dict(params or {})},
                              timeout_s=max(self.timeout_s, ACT_TIMEOUT_S))
        result = reply["result"]
        return ActOutcome(_to_event(reply["event"]), ActionResult(
            action=str(result["action"]), ok=bool(result["ok"]), nodes=tuple(result["nodes"]),
            detail=str(result["detail"]), changed=dict(result["changed"])))

    # ---- what a team looks at --------------------------------------------------------

    def status(self) -> dict[str, Any]:
        return dict(self._request("GET", "/v1/status"))

    def changes(self) -> list[dict[str, Any]]:
        return list(self._request("GET", "/v1/changes"))

    def journal(self, since: int = 0) -> list[Event]:
        return [_to_event(record) for record in self._request("GET", f"/v1/journal?{urlencode({'since': since})}")]

    # ---- facilitator ------------------------------------------------------------------

    def truth(self) -> dict[str, Any]:
        return dict(self._request("GET", "/v1/truth"))

    def abort(self, reason: str) -> None:
        self._request("POST", "/v1/abort", {"reason": reason})

    # ---- HTTP -------------------------------------------------------------------------

    def _event(self, kind: str, **body: Any) -> Event:
        sent = {key: value for key, value in body.items() if value is not None}
        return _to_event(self._request("POST", f"/v1/events/{kind}", sent))

    def _request(self, method: str, path: str, body: Mapping[str, Any] | None = None,
                 timeout_s: float | None = None) -> Any:
        headers = {"Authorization": f"Bearer {self._token}", "Accept": "application/json"}
        payload = None
        if body is not None:
            payload = json.dumps(body).encode("utf-8")
            headers["Content-Type"] = "application/json"
        # http.client rather than urllib: no proxy settings from the environment, no redirects.
        connection = http.client.HTTPConnection(self._host, self._port, timeout=timeout_s or self.timeout_s)
        try:
            try:
                connection.connect()
            except OSError as exc:
                raise ControlError(None, f"cannot reach the control API at {self.url}: {exc}", sent=False) from exc
            try:
                connection.request(method, path, body=payload, headers=headers)
                response = connection.getresponse()
                status, text = response.status, response.read().decode("utf-8", errors="replace")
            except (OSError, http.client.HTTPException) as exc:
                raise ControlError(None, f"the control API at {self.url} took the request but gave no answer: "
                                   f"{exc}") from exc
        finally:
            connection.close()
        if status >= 400:
            raise ControlError(status, _error_text(text))
        return json.loads(text)


def _error_text(text: str) -> str:
    try:
        reply = json.loads(text)
    except ValueError:
        return text.strip() or "no error message"
    return str(reply["error"]) if isinstance(reply, dict) and "error" in reply else text.strip()


def _to_event(record: Mapping[str, Any]) -> Event:
    return Event(seq=int(record["seq"]), kind=str(record["kind"]), wall=parse_wall(str(record["wall"])),
                 t_s=float(record["t_s"]), data=MappingProxyType(dict(record["data"])))


def find_live_run(runs_dir: Path) -> Path:
    """The newest run directory whose control.json belongs to a process that is still alive."""
    found: list[str] = []
    by_age = sorted(runs_dir.glob(f"*/{CONTROL_FILE}"), key=_mtime, reverse=True)
    for control_file in by_age:
        run = control_file.parent.name
        try:
            pid = int(json.loads(control_file.read_text(encoding="utf-8"))["pid"])
        except (OSError, ValueError, KeyError, TypeError) as exc:
            found.append(f"{run} (unreadable {CONTROL_FILE}: {exc})")
            continue
        if _alive(pid):
            return control_file.parent
        found.append(f"{run} (pid {pid} is gone)")
    if not runs_dir.is_dir():
        raise NoLiveRunError(f"no running drill: {runs_dir} does not exist")
    if not found:
        raise NoLiveRunError(f"no running drill in {runs_dir}: no run directory has a {CONTROL_FILE}")
    raise NoLiveRunError(f"no running drill in {runs_dir}; found: {', '.join(found)}")


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:
        return 0.0


def _alive(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, but someone else's
        return True
    return True
