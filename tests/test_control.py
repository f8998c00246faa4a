"""The control API over real HTTP: a fake session on a real journal, the real server and client."""

from __future__ import annotations

import http.client
import json
import logging
import os
import stat
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from harness.control import (
    Access,
    ControlClient,
    ControlError,
    ControlServer,
    NoLiveRunError,
    Tokens,
    create_app,
    find_live_run,
    issue_tokens,
)
from harness.errors import GamedrillError, UnknownServiceError
from harness.session import TEAM_EVENT_KINDS, ActionResult, TeamEventKind
from harness.timeline import Event, Journal, read_journal

NODES = ("web-1", "web-2", "web-3")
ACTIONS = ("kill-hung-workers", "restart", "rollback-script")
FACILITATOR_ONLY = frozenset({"run.planned"})
TRUTH = {"trigger": "script_push v2", "affected": list(NODES)}


class DrillOver(GamedrillError):
    """The fake drill has been aborted."""


class FakeSession:
    """A DrillSession without a stack: it journals what it is asked to, as the runner will."""

    def __init__(self, journal: Journal, run_id: str = "test-run") -> None:
        self.run_id = run_id
        self.journal_ = journal
        self.aborted = threading.Event()
        self.broken: Exception | None = None  # raised by changes(), to test the 500 path
        journal.append("run.planned", run_id=run_id, truth=TRUTH)

    def record(self, kind: TeamEventKind, by: str, data: dict[str, Any]) -> Event:
        self._refuse_when_over()
        return self.journal_.append(f"team.{kind}", by=by, **data)

    def act(self, by: str, action: str, canary: str | None, params: dict[str, Any]) -> tuple[Event, ActionResult]:
        self._refuse_when_over()
        if action not in ACTIONS:
            raise ValueError(f"unknown action {action!r}; known: {', '.join(ACTIONS)}")
        if canary is not None and canary not in NODES:
            raise UnknownServiceError(canary, list(NODES))
        asked = self.journal_.append("team.act", by=by, action=action, canary=canary, params=params)
        nodes = (canary,) if canary else NODES
        result = ActionResult(action, True, nodes, f"{action} on {', '.join(nodes)}")
        self.journal_.append("action.result", action=action, ok=True, nodes=list(nodes), detail=result.detail)
        return asked, result

    def status(self, facilitator: bool = False) -> dict[str, Any]:
        view = {"phase": "running", "alerts": [], "nodes": {node: {"error_rate": 0.0} for node in NODES}}
        return {**view, "state": "injected"} if facilitator else view

    def changes(self) -> list[dict[str, Any]]:
        if self.broken is not None:
            raise self.broken
        return [{"id": 1, "kind": "script_push", "version": "v2"}]

    def journal_events(self, since_seq: int, facilitator: bool) -> list[Event]:
        return [event for event in read_journal(self.journal_.path)
                if event.seq > since_seq and (facilitator or event.kind not in FACILITATOR_ONLY)]

    def truth(self) -> dict[str, Any]:
        return TRUTH

    def abort(self, reason: str) -> None:
        self.journal_.append("run.aborted", reason=reason)
        self.aborted.set()

    def _refuse_when_over(self) -> None:
        if self.aborted.is_set():
            raise DrillOver("the drill was aborted")


@dataclass
class Served:
    session: FakeSession
    journal: Journal
    run_dir: Path
    tokens: Tokens
    server: ControlServer
    team: ControlClient
    facilitator: ControlClient


@contextmanager
def serve(run_dir: Path) -> Iterator[Served]:
    """A fake drill in `run_dir` behind the real control server, with a client per role."""
    run_dir.mkdir(mode=0o700, parents=True)
    with Journal.open(run_dir / "journal.jsonl") as journal:
        session = FakeSession(journal)
        tokens = issue_tokens(run_dir)
        with ControlServer(create_app(session, tokens), run_dir=run_dir, run_id=session.run_id) as server:
            yield Served(session, journal, run_dir, tokens, server, ControlClient(server.url, tokens.team),
                         ControlClient(server.url, tokens.facilitator))


@pytest.fixture
def drill(tmp_path: Path) -> Iterator[Served]:
    with serve(tmp_path / "runs" / "test-run") as served:
        yield served


def raw(url: str, method: str, path: str, headers: dict[str, str] | None = None,
        body: Any = None) -> tuple[int, http.client.HTTPMessage, Any]:
    """A request the client would never send (no token, extra fields...)."""
    host, port = url.removeprefix("http://").rsplit(":", 1)
    connection = http.client.HTTPConnection(host, int(port), timeout=5)
    try:
        payload = None if body is None else json.dumps(body)
        connection.request(method, path, body=payload, headers={"Content-Type": "application/json", **(headers or {})})
        response = connection.getresponse()
        return response.status, response.headers, json.loads(response.read() or b"null")
    finally:
        connection.close()


TEAM_CALLS: list[tuple[TeamEventKind, Callable[[ControlClient], Event], dict[str, Any]]] = [
    ("ack", lambda c: c.ack("alice"), {"by": "alice"}),
    ("declare", lambda c: c.declare("alice", 2, "alice"), {"by": "alice", "severity": 2, "commander": "alice"}),
    ("role", lambda c: c.role("alice", "comms", "bob"), {"by": "alice", "role": "comms", "who": "bob"}),
    ("update", lambda c: c.update("bob", "checkout failing", "killing workers", 300),
     {"by": "bob", "impact": "checkout failing", "action": "killing workers", "next_update_s": 300, "text": None}),
    ("note", lambda c: c.note("carol", "CPU at 100% on web-1"), {"by": "carol", "text": "CPU at 100% on web-1"}),
    ("suspect", lambda c: c.suspect("carol", "script_push v2"), {"by": "carol", "change": "script_push v2"}),
    ("scope", lambda c: c.scope("carol", ["web-1", "web-2"]), {"by": "carol", "nodes": ["web-1", "web-2"]}),
    ("escalate", lambda c: c.escalate("alice", "platform on-call"), {"by": "alice", "to": "platform on-call"}),
    ("resolve", lambda c: c.resolve("alice"), {"by": "alice"}),
    ("reply", lambda c: c.reply("bob", "Q1", "Not every customer"), {"by": "bob", "question": "Q1",
                                                                     "text": "Not every customer"}),
]


def test_every_team_kind_is_exercised() -> None:
    assert sorted(kind for kind, _, _ in TEAM_CALLS) == sorted(TEAM_EVENT_KINDS)


@pytest.mark.parametrize(("kind", "call", "data"), TEAM_CALLS, ids=[kind for kind, _, _ in TEAM_CALLS])
def test_team_event_is_journaled_with_the_servers_time(drill: Served, kind: str,
                                                       call: Callable[[ControlClient], Event],
                                                       data: dict[str, Any]) -> None:
    before_s = drill.journal.now_s()
    event = call(drill.team)
    after_s = drill.journal.now_s()
    assert event.kind == f"team.{kind}"
    assert dict(event.data) == data
    assert before_s <= event.t_s <= after_s
    assert read_journal(drill.journal.path)[-1] == event


def test_act_returns_the_journaled_request_and_the_result(drill: Served) -> None:
    before_s = drill.journal.now_s()
    outcome = drill.team.act("alice", "kill-hung-workers", canary="web-1", params={"signal": "KILL"})
    assert outcome.event.kind == "team.act"
    assert dict(outcome.event.data) == {"by": "alice", "action": "kill-hung-workers", "canary": "web-1",
                                        "params": {"signal": "KILL"}}
    assert outcome.event.t_s >= before_s
    assert outcome.result.ok and outcome.result.nodes == ("web-1",)
    assert [e.kind for e in read_journal(drill.journal.path)[-2:]] == ["team.act", "action.result"]


def test_what_the_team_looks_at(drill: Served) -> None:
    assert drill.team.status()["phase"] == "running" and "state" not in drill.team.status()
    assert drill.facilitator.status()["state"] == "injected"
    assert drill.team.changes() == [{"id": 1, "kind": "script_push", "version": "v2"}]


def test_unknown_action_and_unknown_node_are_400(drill: Served) -> None:
    with pytest.raises(ControlError) as unknown_action:
        drill.team.act("alice", "reboot-the-world")
    assert unknown_action.value.status == 400
    assert "unknown action 'reboot-the-world'" in unknown_action.value.message
    with pytest.raises(ControlError) as unknown_node:
        drill.team.act("alice", "restart", canary="web-9")
    assert unknown_node.value.status == 400
    assert "unknown service 'web-9'" in unknown_node.value.message


def test_a_bad_field_is_422_naming_it(drill: Served) -> None:
    with pytest.raises(ControlError) as bad:
        drill.team.declare("alice", 9, "alice")
    assert bad.value.status == 422
    assert "severity" in bad.value.message
    status, _, reply = raw(drill.server.url, "POST", "/v1/events/scope",
                           {"Authorization": f"Bearer {drill.tokens.team}"},
                           {"by": "carol", "nodes": ["web-1", " "], "t_s": 0})
    assert status == 422
    assert {field["field"] for field in reply["fields"]} == {"nodes[1]", "t_s"}  # no client timestamps


def test_no_token_is_401_with_a_bearer_challenge(drill: Served) -> None:
    status, headers, reply = raw(drill.server.url, "GET", "/v1/status")
    assert status == 401
    assert headers["WWW-Authenticate"] == "Bearer"
    assert "token" in reply["error"]


def test_a_wrong_token_is_401(drill: Served) -> None:
    with pytest.raises(ControlError) as wrong:
        ControlClient(drill.server.url, "not-the-token").ack("mallory")
    assert wrong.value.status == 401


def test_the_team_token_cannot_read_the_truth_or_abort(drill: Served) -> None:
    for forbidden in (drill.team.truth, lambda: drill.team.abort("we give up")):
        with pytest.raises(ControlError) as refused:
            forbidden()
        assert refused.value.status == 403
    assert not drill.session.aborted.is_set()


def test_the_facilitator_reads_the_truth_and_aborts(drill: Served) -> None:
    assert drill.facilitator.truth() == TRUTH
    drill.facilitator.abort("safety drill over")
    assert drill.session.aborted.is_set()
    with pytest.raises(ControlError) as over:  # GamedrillError from the session: 409
        drill.team.ack("alice")
    assert (over.value.status, over.value.message) == (409, "the drill was aborted")


def test_facilitator_only_events_are_hidden_from_the_team(drill: Served) -> None:
    drill.team.ack("alice")
    team_view = drill.team.journal()
    assert "run.planned" not in {e.kind for e in team_view}
    assert "run.planned" in {e.kind for e in drill.facilitator.journal()}
    since = team_view[-1].seq
    drill.team.note("bob", "looking at web-1")
    assert [e.kind for e in drill.team.journal(since)] == ["team.note"]


def test_an_unexpected_error_is_a_generic_500_and_logged(drill: Served, caplog: pytest.LogCaptureFixture) -> None:
    drill.session.broken = RuntimeError("secret internals")
    with caplog.at_level(logging.ERROR, logger="harness.control.app"), pytest.raises(ControlError) as failed:
        drill.team.changes()
    assert failed.value.status == 500
    assert "secret internals" not in failed.value.message
    assert "RuntimeError: secret internals" in caplog.text  # the traceback, in the log


def test_tokens_are_private_and_never_journaled(drill: Served) -> None:
    tokens_file = drill.run_dir / "tokens.json"
    assert stat.S_IMODE(tokens_file.stat().st_mode) == 0o600
    assert drill.tokens.team != drill.tokens.facilitator
    assert Tokens.read(drill.run_dir) == drill.tokens
    with pytest.raises(FileExistsError):  # never silently replaced
        issue_tokens(drill.run_dir)
    for call in (lambda: drill.team.ack("alice"), drill.facilitator.truth, lambda: drill.facilitator.abort("done")):
        call()
    journal_text = drill.journal.path.read_text(encoding="utf-8")
    assert drill.tokens.team not in journal_text
    assert drill.tokens.facilitator not in journal_text
    assert drill.tokens.team not in repr(drill.tokens) and drill.tokens.team not in repr(drill.team)


def test_control_file_finds_the_live_run(drill: Served, tmp_path: Path) -> None:
    record = json.loads((drill.run_dir / "control.json").read_text(encoding="utf-8"))
    assert record == {"url": drill.server.url, "pid": os.getpid(), "run_id": "test-run"}
    dead = tmp_path / "runs" / "dead-run"
    dead.mkdir()
    (dead / "control.json").write_text(json.dumps({"url": "http://127.0.0.1:1", "pid": 2**22 + 1, "run_id": "x"}))
    assert find_live_run(tmp_path / "runs") == drill.run_dir
    for access in Access:
        client = ControlClient.from_run_dir(drill.run_dir, role=access.value)
        assert client.journal()  # each role's token works


def test_stop_is_idempotent_and_removes_the_control_file(tmp_path: Path) -> None:
    with serve(tmp_path / "runs" / "r1") as served:
        served.server.stop()
        served.server.stop()
        assert not (served.run_dir / "control.json").exists()
        with pytest.raises(ControlError) as gone:
            served.team.status()
        assert gone.value.status is None
        with pytest.raises(NoLiveRunError, match=r"no run directory has a control\.json"):
            find_live_run(tmp_path / "runs")


def test_a_remote_host_needs_allow_remote(drill: Served, caplog: pytest.LogCaptureFixture) -> None:
    app = create_app(drill.session, drill.tokens)
    with pytest.raises(ValueError, match="not a loopback address"):
        ControlServer(app, host="0.0.0.0")
    with caplog.at_level(logging.WARNING, logger="harness.control.server"):
        ControlServer(app, host="0.0.0.0", allow_remote=True)  # constructed, never started
    assert "will listen on 0.0.0.0" in caplog.text


def test_openapi_documents_each_team_event_body(drill: Served) -> None:
    status, _, schema = raw(drill.server.url, "GET", "/openapi.json")
    assert status == 200
    for kind in TEAM_EVENT_KINDS:
        body = schema["paths"][f"/v1/events/{kind}"]["post"]["requestBody"]["content"]["application/json"]
        assert body["schema"]["$ref"].lower().endswith(f"/{kind}body")
    assert "HTTPBearer" in schema["components"]["securitySchemes"]
    assert drill.tokens.team not in json.dumps(schema)
