"""Alertmanager's webhook on the real control server: authenticated, this run's PromQL alerts only,
one `alert.fired` per firing alert and one `alert.cleared` when Alertmanager resolves it."""

from __future__ import annotations

import http.client
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from test_control import FakeSession

from harness.control import ControlServer, Tokens, create_app, issue_tokens
from harness.observability import WEBHOOK_PATH, AlertmanagerReceiver, webhook_token
from harness.spec import AlertRule
from harness.timeline import Event, Journal, read_journal

RULES = (AlertRule(name="node-5xx", promql='sum by (node) (rate(x[5s])) > 1', for_s=1.0),
         AlertRule(name="builtin", metric="error_rate", op=">", threshold=0.05))


@dataclass
class Hook:
    port: int
    tokens: Tokens
    journal: Journal

    def post(self, body: Any, token: str | None) -> tuple[int, Any]:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
        try:
            headers = {"Content-Type": "application/json", **({"Authorization": f"Bearer {token}"} if token else {})}
            conn.request("POST", WEBHOOK_PATH, body=json.dumps(body), headers=headers)
            response = conn.getresponse()
            return response.status, json.loads(response.read())
        finally:
            conn.close()

    def alerts(self) -> list[Event]:
        return [e for e in read_journal(self.journal.path) if e.kind.startswith("alert.")]


@pytest.fixture
def hook(tmp_path: Path) -> Iterator[Hook]:
    run_dir = tmp_path / "run"
    run_dir.mkdir(mode=0o700)
    with Journal.open(run_dir / "journal.jsonl") as journal:
        session, tokens = FakeSession(journal, "run-1"), issue_tokens(run_dir)
        receiver = AlertmanagerReceiver(journal, "run-1", RULES)
        with ControlServer(create_app(session, tokens, receiver), run_dir=run_dir, run_id="run-1") as server:
            yield Hook(int(server.url.rsplit(":", 1)[1]), tokens, journal)


def notification(status: str, alertname: str = "node-5xx", run: str = "run-1", source: str = "promql",
                 fingerprint: str = "f1", node: str = "web-1") -> dict[str, Any]:
    alert = {"status": status, "fingerprint": fingerprint, "startsAt": "2026-01-01T00:00:00Z",
             "labels": {"alertname": alertname, "gamedrill_run": run, "gamedrill_source": source, "node": node},
             "annotations": {"value": "3.25", "summary": "..."}}
    return {"version": "4", "status": status, "receiver": "gamedrill", "groupLabels": {}, "alerts": [alert]}


def test_the_webhook_refuses_a_missing_or_wrong_token_and_the_team_token(hook: Hook) -> None:
    for token in (None, "wrong", hook.tokens.team, hook.tokens.facilitator):
        status, body = hook.post(notification("firing"), token)
        assert status == 401, (token, body)
    assert hook.alerts() == []


def test_a_firing_alert_is_journaled_once_and_cleared_when_resolved(hook: Hook) -> None:
    token = webhook_token(hook.tokens.facilitator)
    assert hook.post(notification("firing"), token) == (200, {"fired": 1, "cleared": 0, "ignored": 0})
    assert hook.post(notification("firing"), token) == (200, {"fired": 0, "cleared": 0, "ignored": 0})  # a repeat
    assert hook.post(notification("resolved"), token) == (200, {"fired": 0, "cleared": 1, "ignored": 0})
    fired, cleared = hook.alerts()
    assert fired.kind == "alert.fired" and cleared.kind == "alert.cleared"
    assert fired.data["name"] == "node-5xx" and fired.data["node"] == "web-1" and fired.data["value"] == 3.25
    assert fired.data["source"] == "alertmanager" and fired.data["expr"] == RULES[0].promql


@pytest.mark.parametrize("other", [{"run": "another-run"}, {"alertname": "not-in-the-scenario"},
                                   {"alertname": "builtin", "source": "builtin"}])
def test_alerts_of_other_runs_unknown_rules_and_builtin_copies_are_ignored(hook: Hook, other: dict[str, str]) -> None:
    token = webhook_token(hook.tokens.facilitator)
    assert hook.post(notification("firing", **other), token) == (200, {"fired": 0, "cleared": 0, "ignored": 1})
    assert hook.alerts() == []


def test_a_malformed_body_is_a_422_naming_the_field(hook: Hook) -> None:
    status, body = hook.post({"status": "firing", "alerts": [{"labels": {}}]}, webhook_token(hook.tokens.facilitator))
    assert status == 422 and "alerts[0].status" in body["error"]
