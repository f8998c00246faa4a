"""Paging on a real drill: alerts and the declaration reach webhooks on 127.0.0.1, in Slack's
incoming-webhook shape and as plain JSON; a receiver that is down is journaled, and the
drill carries on."""

from __future__ import annotations

import json
import re
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from harness.runner import RunOptions, prepare_run
from harness.spec import load_drill
from harness.timeline import read_journal

SCENARIO = Path(__file__).resolve().parents[2] / "scenarios" / "hung-workers.yaml"


class Receiver(ThreadingHTTPServer):
    def __init__(self) -> None:
        self.received: list[tuple[str, dict[str, Any]]] = []
        super().__init__(("127.0.0.1", 0), _Handler)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class _Handler(BaseHTTPRequestHandler):
    server: Receiver

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        self.server.received.append((self.path, body))
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])  # closed again: nothing listens there


@pytest.mark.timeout(200)
def test_alerts_and_the_declaration_are_paged_and_a_dead_receiver_never_stops_the_drill(
        tmp_path: Path, receiver: Receiver) -> None:
    drill_file = tmp_path / "paged.yaml"
    drill_file.write_text(f"""
kind: drill
name: paged
title: "Test: paging"
scenario: {SCENARIO}
load: {{users: 12, rate_per_s: 50}}
baseline_s: 4
inject_after_s: 0
max_duration_s: 90
team: {{members: [alice]}}
paging:
  webhooks:
    - {{url: "{receiver.url}/slack", format: slack}}
    - {{url: "{receiver.url}/json", format: json}}
    - {{url: "http://127.0.0.1:{closed_port()}/down", format: json, events: [alert]}}
responder:
  - wait_for: {{event: alert, timeout_s: 30}}
  - declare: {{by: alice, severity: 1, commander: alice}}
  - act: {{by: alice, action: rollback-script}}
  - act: {{by: alice, action: kill-hung-workers}}
  - wait_for: {{event: restored, timeout_s: 45}}
  - resolve: {{by: alice}}
""", encoding="utf-8")
    result = prepare_run(load_drill(drill_file), RunOptions(runs_dir=tmp_path / "runs", autopilot=True)).execute()
    events = read_journal(result.run_dir / "journal.jsonl")
    assert result.outcome == "resolved", result.reason

    alert = next(e for e in events if e.kind == "alert.fired")
    slack = [body for path, body in receiver.received if path == "/slack"]
    plain = [body for path, body in receiver.received if path == "/json"]
    assert slack and slack[0]["text"].startswith("[drill] ALERT high-error-rate")
    assert slack[0]["blocks"][0]["type"] == "section", "Slack's block layout"
    console_url = plain[0]["console_url"]  # the control API's, read back from the run's own console link
    assert re.fullmatch(r"http://127\.0\.0\.1:\d+/console", console_url), console_url
    context = slack[0]["blocks"][1]["elements"][0]["text"]
    assert f"<{console_url}|open the incident room>" in context, context
    tokens = json.loads((result.run_dir / "tokens.json").read_text())
    everything = json.dumps(receiver.received)
    assert not [name for name, token in tokens.items() if str(token) in everything], "a token was paged"
    assert any(b["text"].startswith("[drill] INCIDENT declared SEV1, commander alice") for b in slack)
    first = plain[0]
    assert first["event"] == "alert.fired" and first["seq"] == alert.seq and first["run_id"] == result.run_id
    assert first["data"]["name"] == "high-error-rate" and first["data"]["threshold"] == 0.05
    assert any(b["event"] == "team.declare" and b["data"]["commander"] == "alice" for b in plain)

    paged = [e for e in events if e.kind == "team.paged"]
    assert {(e.data["channel"], e.data["trigger"]) for e in paged} >= {
        ("webhooks[0]", "alert.fired"), ("webhooks[1]", "alert.fired"), ("webhooks[0]", "team.declare")}
    failed = [e for e in events if e.kind == "page.failed"]
    assert failed and all(e.data["channel"] == "webhooks[2]" for e in failed)
    assert "refused" in failed[0].data["error"].lower()
    assert not any(e.data["channel"] == "webhooks[2]" and e.data["trigger"] == "team.declare" for e in failed), \
        "that webhook asked for alerts only"


def test_a_webhook_off_this_machine_is_refused_at_the_line_that_names_it(tmp_path: Path) -> None:
    from harness.errors import SpecError

    drill_file = tmp_path / "remote.yaml"
    drill_file.write_text(f"""kind: drill
name: remote
title: "Test: a remote webhook"
scenario: {SCENARIO}
load: {{users: 1, rate_per_s: 1}}
baseline_s: 1
max_duration_s: 10
team: {{members: [alice]}}
paging:
  webhooks:
    - url: https://hooks.slack.com/services/T000/B000/XXXX
""", encoding="utf-8")
    with pytest.raises(SpecError) as refused:
        load_drill(drill_file)
    assert str(refused.value) == (f"{drill_file}:11:7: paging.webhooks[0].url: 'hooks.slack.com': pages go to "
                                  "loopback only (127.0.0.1, localhost, ::1); run a relay there to reach a chat "
                                  "service")
