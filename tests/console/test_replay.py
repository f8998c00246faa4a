"""`gamedrill console RUN` on a finished run: scorecard, status page and timeline, read-only."""

from __future__ import annotations

import signal
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

from harness.control.statuspage import write_status_page
from harness.timeline import FakeClock, Journal
from harness.waiting import wait_until

ROOT = Path(__file__).resolve().parents[2]
NODES = ["web-1", "web-2", "web-3"]


def finished_run(run_dir: Path) -> None:
    """A small finished drill's run directory: its journal, then what the end of a drill writes."""
    from scorecards import write_scorecard

    run_dir.mkdir(mode=0o700, parents=True)
    clock = FakeClock()
    with Journal.open(run_dir / "journal.jsonl", clock) as journal:
        journal.append("run.planned", run_id=run_dir.name, drill="gameday-shop-halt", scenario="hung-workers",
                       backend="local", targets={"detect_s": 60}, truth={"trigger": {"kind": "script_push",
                                                                                     "version": "v2"}},
                       load={"users": 1, "rate_per_s": 1}, team={"members": ["alice"]}, nodes=NODES,
                       time_compression=1.0, drill_file=None)
        clock.advance(30)
        journal.append("fault.injected", index=0, type="rollout", ttl_s=15)
        for second in range(30, 40):
            clock.advance(1)
            journal.append("slo.window", start_t_s=second, requests=10, failures=9, p50_ms=5.0, p99_ms=900.0,
                           nodes={n: [3, 3] for n in NODES})
        journal.append("alert.fired", name="high-error-rate", metric="error_rate", value=0.9, op=">",
                       threshold=0.05, for_s=5, node=None)
        clock.advance(50)
        journal.append("team.ack", by="alice")
        journal.append("team.update", by="alice", impact="Product pages <b>down</b>", action="Rolling back",
                       status="identified")
        journal.append("team.resolve", by="alice")
        journal.append("run.finished", outcome="resolved", reason="the team resolved it", run_dir=str(run_dir))
    write_scorecard(run_dir)
    write_status_page(run_dir, "gameday-shop-halt", NODES)


def get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return int(response.status), response.read().decode()
    except urllib.error.HTTPError as refused:
        return int(refused.code), ""


def test_a_finished_run_is_served_read_only(tmp_path: Path) -> None:
    run_dir = tmp_path / "runs" / "20260101-000000-abcdef"
    finished_run(run_dir)
    proc = subprocess.Popen([sys.executable, "-m", "harness.cli", "console", str(run_dir)],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=ROOT)
    try:
        assert proc.stdout is not None
        first = wait_until(lambda: proc.stdout.readline() or None, 30, "the served link")  # type: ignore[union-attr]
        url = first.split()[0].rstrip("/")
        assert url.startswith("http://127.0.0.1:"), first
        status, index = get(f"{url}/")
        assert status == 200 and "resolved (the team resolved it)" in index
        status, card = get(f"{url}/scorecard")
        assert status == 200 and card == (run_dir / "scorecard.html").read_text()
        status, page = get(f"{url}/status")
        assert status == 200 and 'data-status="resolved"' in page and "&lt;b&gt;down&lt;/b&gt;" in page
        status, timeline = get(f"{url}/timeline")
        assert status == 200 and "alice acknowledged the page" in timeline and "T+00:" in timeline
        assert "team.ack" not in timeline  # plain words
        assert get(f"{url}/v1/events/ack")[0] == 404 and get(f"{url}/../tokens.json")[0] == 404
        request = urllib.request.Request(f"{url}/", data=b"{}", method="POST")
        try:
            urllib.request.urlopen(request, timeout=5)
            raise AssertionError("a POST was accepted")
        except urllib.error.HTTPError as refused:
            assert refused.code == 501  # read-only: no method but GET
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=10)
    assert proc.returncode == 0
