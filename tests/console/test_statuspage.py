"""The status page: states set by the team's updates, components measured, history; it outlives the drill."""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from harness.control import ControlClient, ControlServer, create_app, issue_tokens
from harness.control.statuspage import render_status_html, status_view, write_status_page
from harness.timeline import Event, FakeClock, Journal, read_journal

NODES = ("web-1", "web-2", "web-3")


def window(journal: Journal, second: int, failing: dict[str, int]) -> None:
    nodes = {node: [10, failing.get(node, 0)] for node in NODES}
    journal.append("slo.window", start_t_s=second, requests=30, failures=sum(failing.values()), p50_ms=10.0,
                   p99_ms=50.0, nodes=nodes)


def test_the_team_moves_the_incident_through_its_states(tmp_path: Path) -> None:
    clock = FakeClock()
    with Journal.open(tmp_path / "journal.jsonl", clock) as journal:
        window(journal, 0, {})
        assert status_view(read_journal(journal.path), NODES).status is None  # nothing posted: nothing public
        window(journal, 1, {"web-2": 10})
        journal.append("team.update", by="bob", impact="Some product pages fail", action="Looking into it",
                       next_update_s=600, text=None)
        view = status_view(read_journal(journal.path), NODES)
        assert view.status == "investigating" and view.headline == "Investigating an issue: Some product pages fail"
        assert [(c.name, c.state) for c in view.components] == [
            ("Storefront", "degraded"), ("Web node web-1", "operational"), ("Web node web-2", "major outage"),
            ("Web node web-3", "operational")]
        journal.append("team.update", by="bob", impact="Web-2 fails", action="Rolling back", status="identified")
        journal.append("team.update", by="bob", impact="Still web-2", action="Rolling back")  # keeps the state
        journal.append("team.update", by="bob", impact="Recovered", action="Watching", status="monitoring")
        assert status_view(read_journal(journal.path), NODES).status == "monitoring"
        journal.append("team.resolve", by="alice")
        window(journal, 2, {})
        view = status_view(read_journal(journal.path), NODES)
    assert view.status == "resolved" and view.headline == "Resolved"
    assert [u.status for u in view.updates] == ["monitoring", "identified", "identified", "investigating"]
    html = render_status_html(view, "Game day")
    assert 'data-status="resolved"' in html and "Rolling back" in html and "Web node web-2" in html


def test_what_the_team_writes_is_escaped_on_the_page(tmp_path: Path) -> None:
    with Journal.open(tmp_path / "journal.jsonl", FakeClock()) as journal:
        journal.append("team.update", by="eve", impact="<script>alert(1)</script>", action="x")
    html = render_status_html(status_view(read_journal(tmp_path / "journal.jsonl"), NODES), "t")
    assert "<script>alert(1)" not in html and "&lt;script&gt;" in html


def test_the_page_is_written_into_the_run_directory(tmp_path: Path) -> None:
    with Journal.open(tmp_path / "journal.jsonl", FakeClock()) as journal:
        journal.append("team.update", by="bob", impact="Checkout down", action="Fixing", status="identified")
        journal.append("run.finished", outcome="resolved", reason="done", run_dir=str(tmp_path))
    path = write_status_page(tmp_path, "Game day", NODES)
    assert path == tmp_path / "status.html"
    page = path.read_text()
    assert "Issue identified: Checkout down" in page and "As it stood when the drill ended" in page


class Session:
    """Just enough of a drill session for the public status endpoint."""

    run_id = "test-run"

    def __init__(self, journal: Journal) -> None:
        self.journal = journal

    def record(self, kind: str, by: str, data: dict[str, Any]) -> Event:
        return self.journal.append(f"team.{kind}", by=by, **data)

    def journal_events(self, since_seq: int, facilitator: bool) -> list[Event]:
        return [e for e in read_journal(self.journal.path) if e.seq > since_seq]

    def meta(self) -> dict[str, Any]:
        return {"nodes": list(NODES)}


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[ControlClient, str, Journal]]:
    run_dir = tmp_path / "run"
    run_dir.mkdir(mode=0o700)
    with Journal.open(run_dir / "journal.jsonl") as journal:
        tokens = issue_tokens(run_dir)
        app = create_app(Session(journal), tokens)  # type: ignore[arg-type]
        with ControlServer(app, run_dir=run_dir, run_id="test-run") as server:
            yield ControlClient(server.url, tokens.team), server.url, journal


def test_an_update_with_a_status_sets_the_live_page(served: tuple[ControlClient, str, Journal]) -> None:
    client, url, journal = served
    client.update("bob", "Pages slow", "Investigating", 300, status="identified")
    with urllib.request.urlopen(f"{url}/v1/public/status", timeout=5) as response:  # no token from loopback
        view = json.load(response)
    assert view["status"] == "identified" and view["updates"][0]["impact"] == "Pages slow"
    assert [e.data.get("status") for e in read_journal(journal.path) if e.kind == "team.update"] == ["identified"]
    client.update("bob", "Still slow", "Investigating")
    last = [e for e in read_journal(journal.path) if e.kind == "team.update"][-1]
    assert "status" not in last.data  # an update without one says nothing of it
