"""A drill paged by a real Prometheus through a real Alertmanager (Debian's packages).

The scenario's only alert is a PromQL rule over the shop's own /metrics. Prometheus runs
on the run's generated prometheus.yml and alerts.rules.yml, Alertmanager on its generated
alertmanager.yml, which routes to the harness's webhook on the control API; the autopilot
waits for that alert like any other. Loopback only; both processes stop with the test.
"""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest
from capture import capture_server
from promstack import alertmanager, free_port, prometheus, query

from harness.observability import ANNOTATIONS_FILE
from harness.runner import RunOptions, RunResult, prepare_run
from harness.spec import load_drill
from harness.timeline import read_journal
from harness.waiting import wait_until

DATA = Path(__file__).parent / "data"
NEVER_ANNOTATED = ("fault.", "change.pushed", "run.planned")


@pytest.mark.timeout(280)
def test_promql_alert_reaches_the_journal_through_alertmanager_and_times_detect(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    am_port = free_port()
    monkeypatch.setenv("GAMEDRILL_ALERTMANAGER", f"127.0.0.1:{am_port}")
    with capture_server() as grafana:
        monkeypatch.setenv("GAMEDRILL_GRAFANA_URL", f"http://127.0.0.1:{grafana.port}")
        monkeypatch.setenv("GAMEDRILL_GRAFANA_TOKEN", "grafana-test-token")
        run = prepare_run(load_drill(DATA / "promql-drill.yaml"), RunOptions(runs_dir=tmp_path, autopilot=True))
        results: list[RunResult] = []
        drill = threading.Thread(target=lambda: results.append(run.execute()), name="drill")
        drill.start()
        try:
            wait_until(lambda: (run.run_dir / "alertmanager.yml").exists() or not drill.is_alive(), 60,
                       "the run to write its Prometheus and Alertmanager files")
            assert drill.is_alive(), "the drill ended before serving"
            with alertmanager(run.run_dir / "alertmanager.yml", tmp_path, am_port), \
                    prometheus(run.run_dir / "prometheus.yml", tmp_path) as prom_port:
                drill.join(timeout=240)
                assert not drill.is_alive(), "the drill did not finish"
                # Prometheus scraped the real stack and the harness's load view.
                scraped = query(prom_port, 'max_over_time(up{job="stack"}[10m]) == 1')
                assert {r["metric"]["service"] for r in scraped} >= {
                    "lb", "web-1", "web-2", "web-3", "config", "inventory"}
                assert query(prom_port, "max_over_time(sum(gamedrill_load_requests_total)[10m:1s]) > 100")
                v3 = 'shop_assignment_info{service="web-1", config_version="v3"}'
                assert query(prom_port, f"max_over_time({v3}[10m])"), "the canary's info metric showed config v3"
        finally:
            if drill.is_alive():
                run.abort("test cleanup")
            drill.join(timeout=60)
    result = results[0]
    assert result.outcome == "resolved", result.reason
    events = read_journal(result.run_dir / "journal.jsonl")
    fault = next(e for e in events if e.kind == "fault.injected")
    alerts = [e for e in events if e.kind == "alert.fired"]
    assert alerts, "no alert reached the journal"
    alert = alerts[0]
    assert alert.data["source"] == "alertmanager" and alert.data["name"] == "node-5xx"
    assert alert.data["node"] == "web-1" and alert.data["value"] > 1
    assert fault.t_s < alert.t_s
    assert len([a for a in alerts if a.data["node"] == "web-1"]) == 1, "one alert.fired per firing alert"

    card = json.loads((result.run_dir / "scorecard.json").read_text())
    detect = next(p for p in card["phases"] if p["phase"] == "detect")
    assert detect["seconds_from_fault"] == pytest.approx(alert.t_s - fault.t_s, abs=1e-3)

    # Grafana got the team's events as annotations (with the token), never the fault; the file has the same.
    pushed = [body for path, _, body in grafana.posts if path == "/api/annotations"]
    kinds = [tag for body in pushed for tag in body["tags"] if "." in tag]
    assert "team.declare" in kinds and "restoration.detected" in kinds and "team.resolve" in kinds
    assert not [k for k in kinds if k.startswith(NEVER_ANNOTATED)]
    assert all(h.get("Authorization") == "Bearer grafana-test-token" for _, h, _ in grafana.posts)
    saved = json.loads((result.run_dir / ANNOTATIONS_FILE).read_text())["annotations"]
    assert [a["text"] for a in saved] == [b["text"] for b in pushed]
    assert all(a["pushed"] for a in saved)
