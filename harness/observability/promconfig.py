"""The files that point a real Prometheus and Alertmanager at one drill.

    prometheus.yml       scrape config for the run's ports (the stack and the harness's load view)
    alerts.rules.yml     every alert rule of the scenario as a Prometheus alerting rule
    alertmanager.yml     a route to the harness's webhook (its token in alertmanager.token, 0600)

A `promql` rule is the scenario's own expression; a built-in rule (`metric`, `op`,
`threshold`) is translated to PromQL over the load's view, labelled `gamedrill_source:
builtin`: the harness already journals its own evaluation of it, so the webhook ignores
that copy, which is there for the team's dashboards and their own alerting.
"""

from __future__ import annotations

import io
import os
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from ruamel.yaml import YAML

from harness.monitor import ALERT_WINDOW_S
from harness.observability.settings import ObservabilitySettings
from harness.spec import AlertRule, Stack

PROMETHEUS_FILE: Final = "prometheus.yml"
RULES_FILE: Final = "alerts.rules.yml"
ALERTMANAGER_FILE: Final = "alertmanager.yml"
WEBHOOK_TOKEN_FILE: Final = "alertmanager.token"
WEBHOOK_PATH: Final = "/v1/alerts/alertmanager"
RUN_LABEL: Final = "gamedrill_run"
SOURCE_LABEL: Final = "gamedrill_source"


@dataclass(frozen=True)
class ScrapeTarget:
    service: str
    port: int
    path: str = "/metrics"


def scrape_targets(stack: Stack, port_of: Callable[[str], int]) -> list[ScrapeTarget]:
    """The role services at /metrics, then `stack.metrics` (which may also change a role's path)."""
    roles = [stack.entry, *stack.nodes, stack.control_plane, stack.balancer]
    paths = {service: "/metrics" for service in roles if service is not None} | dict(stack.metrics)
    return [ScrapeTarget(service, port_of(service), path) for service, path in paths.items()]


def duration(seconds: float) -> str:
    """Prometheus's duration syntax, to the millisecond."""
    return f"{max(0, round(seconds * 1000))}ms"


def prometheus_config(run_id: str, targets: Iterable[ScrapeTarget], exporter_port: int, rules_path: Path,
                      settings: ObservabilitySettings) -> dict[str, Any]:
    interval = duration(settings.scrape_interval_s)
    config: dict[str, Any] = {
        "global": {"scrape_interval": interval, "scrape_timeout": interval, "evaluation_interval": interval,
                   "external_labels": {RUN_LABEL: run_id}},
        "rule_files": [str(rules_path)],
        "scrape_configs": [
            {"job_name": "stack", "static_configs": [
                {"targets": [f"127.0.0.1:{t.port}"], "labels": {"service": t.service, "__metrics_path__": t.path}}
                for t in targets]},
            {"job_name": "gamedrill-load", "static_configs": [{"targets": [f"127.0.0.1:{exporter_port}"]}]},
        ],
    }
    if settings.alertmanager is not None:
        config["alerting"] = {"alertmanagers": [{"static_configs": [{"targets": [settings.alertmanager]}]}]}
    return config


def builtin_expr(rule: AlertRule, window_s: float) -> str:
    """A built-in rule over the load's view, as PromQL (the harness's window, at least two scrapes)."""
    window = duration(window_s)
    by = " by (node)" if rule.scope == "per_node" else ""
    le_by = " by (le, node)" if rule.scope == "per_node" else " by (le)"
    quantile = {"p99_ms": 0.99, "p50_ms": 0.5}.get(rule.metric or "")
    if rule.metric == "error_rate":
        value = (f"sum{by} (rate(gamedrill_load_failed_requests_total[{window}])) / "
                 f"sum{by} (rate(gamedrill_load_requests_total[{window}]))")
    elif rule.metric == "failed_requests":
        value = f"sum{by} (increase(gamedrill_load_failed_requests_total[{window}]))"
    else:
        value = (f"1000 * histogram_quantile({quantile}, sum{le_by} "
                 f"(rate(gamedrill_load_request_duration_seconds_bucket[{window}])))")
    return f"{value} {rule.op} {rule.threshold:g}"


def alert_rules(run_id: str, alerts: Sequence[AlertRule], settings: ObservabilitySettings) -> dict[str, Any]:
    window_s = max(ALERT_WINDOW_S, 4 * settings.scrape_interval_s)
    rules = []
    for rule in alerts:
        source = "promql" if rule.promql is not None else "builtin"
        rules.append({
            "alert": rule.name,
            "expr": rule.promql if rule.promql is not None else builtin_expr(rule, window_s),
            "for": duration(rule.for_s),
            "labels": {RUN_LABEL: run_id, SOURCE_LABEL: source},
            "annotations": {"summary": f"drill alert {rule.name}: {rule.describe()}", "value": "{{ $value }}"},
        })
    return {"groups": [{"name": f"gamedrill-{run_id}", "interval": duration(settings.scrape_interval_s),
                        "rules": rules}]}


def alertmanager_config(webhook_url: str, token_file: Path) -> dict[str, Any]:
    return {
        "route": {"receiver": "gamedrill", "group_by": ["alertname", RUN_LABEL, "node"],
                  "group_wait": "0s", "group_interval": "1s", "repeat_interval": "1h"},
        "receivers": [{"name": "gamedrill", "webhook_configs": [{
            "url": webhook_url, "send_resolved": True,
            "http_config": {"authorization": {"type": "Bearer", "credentials_file": str(token_file)}}}]}],
    }


def dump_yaml(data: dict[str, Any], header: str) -> str:
    yaml = YAML(typ="safe", pure=True)
    yaml.default_flow_style = False
    out = io.StringIO()
    yaml.dump(data, out)
    return f"# {header}\n{out.getvalue()}"


def write_private(path: Path, text: str) -> Path:
    """A file only its owner can read (it holds a credential), replaced whole."""
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        out.write(text)
    os.replace(tmp, path)
    return path
