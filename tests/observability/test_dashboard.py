"""The Grafana dashboard loads as JSON, has exactly the panels docs/observability.md names, and
every panel's query is PromQL that promtool accepts."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

from promstack import PROMTOOL, require

ROOT = Path(__file__).parents[2]
DASHBOARD = ROOT / "compose" / "grafana" / "shop-dashboard.json"
DOCS = ROOT / "docs" / "observability.md"


def documented_panels() -> list[str]:
    section = DOCS.read_text().split("## Grafana", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"^- \*\*(.+?)\*\*", section, flags=re.MULTILINE)


def test_the_dashboard_has_the_panels_the_docs_name() -> None:
    dashboard = json.loads(DASHBOARD.read_text())
    titles = [panel["title"] for panel in dashboard["panels"]]
    assert titles == documented_panels() and len(titles) >= 4
    assert all(panel["targets"] for panel in dashboard["panels"])
    tags = dashboard["annotations"]["list"][0]["target"]["tags"]
    assert tags == ["gamedrill"], "the dashboard shows the annotations the harness pushes"


def test_every_panel_query_is_valid_promql(tmp_path: Path) -> None:
    dashboard = json.loads(DASHBOARD.read_text())
    exprs = [target["expr"].replace("$__rate_interval", "1m")
             for panel in dashboard["panels"] for target in panel["targets"]]
    rules = {"groups": [{"name": "dashboard", "rules": [{"record": f"dashboard:query_{i}", "expr": expr}
                                                          for i, expr in enumerate(exprs)]}]}
    path = tmp_path / "dashboard.rules.yml"
    path.write_text(json.dumps(rules))  # JSON is YAML
    done = subprocess.run([require(PROMTOOL, "prometheus"), "check", "rules", str(path)], capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"SUCCESS: {len(exprs)} rules found" in done.stdout
