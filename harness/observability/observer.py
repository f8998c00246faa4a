"""One drill's observability: the load exporter, the Alertmanager receiver, the Grafana
annotations, and the Prometheus / Alertmanager files in the run directory.

Built by the runner when it starts serving (`DrillObserver.start`), fed every load record,
stopped when the drill winds down. Nothing here can stop a drill: the built-in evaluator
stays the default, and Prometheus, Alertmanager and Grafana are optional extras.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from harness.observability.annotations import GrafanaAnnotations
from harness.observability.exporter import LoadExporter
from harness.observability.promconfig import (
    ALERTMANAGER_FILE,
    PROMETHEUS_FILE,
    RULES_FILE,
    WEBHOOK_PATH,
    WEBHOOK_TOKEN_FILE,
    alert_rules,
    alertmanager_config,
    dump_yaml,
    prometheus_config,
    scrape_targets,
    write_private,
)
from harness.observability.settings import ObservabilitySettings
from harness.observability.webhook import AlertmanagerReceiver, webhook_token
from harness.spec import Scenario
from harness.timeline import Journal


@dataclass
class DrillObserver:
    run_id: str
    run_dir: Path
    scenario: Scenario
    settings: ObservabilitySettings
    exporter: LoadExporter
    receiver: AlertmanagerReceiver
    annotations: GrafanaAnnotations

    @classmethod
    def start(cls, journal: Journal, run_id: str, run_dir: Path, scenario: Scenario, offered_rate_per_s: float,
              settings: ObservabilitySettings | None = None) -> DrillObserver:
        settings = settings or ObservabilitySettings.from_env()
        exporter = LoadExporter(run_id, offered_rate_per_s)
        exporter.start()
        annotations = GrafanaAnnotations(journal, run_id, run_dir, settings.grafana_url, settings.grafana_token)
        annotations.start()
        return cls(run_id, run_dir, scenario, settings, exporter,
                   AlertmanagerReceiver(journal, run_id, scenario.alerts), annotations)

    def write_files(self, control_url: str, facilitator_token: str, port_of: Callable[[str], int]) -> None:
        """prometheus.yml, alerts.rules.yml, alertmanager.yml (+ its token) for the run's ports."""
        rules_path = self.run_dir / RULES_FILE
        header = f"gamedrill run {self.run_id}: see docs/observability.md"
        rules_path.write_text(dump_yaml(alert_rules(self.run_id, self.scenario.alerts, self.settings), header))
        targets = scrape_targets(self.scenario.stack, port_of)
        (self.run_dir / PROMETHEUS_FILE).write_text(dump_yaml(
            prometheus_config(self.run_id, targets, self.exporter.port, rules_path, self.settings), header))
        token_file = write_private(self.run_dir / WEBHOOK_TOKEN_FILE, webhook_token(facilitator_token) + "\n")
        write_private(self.run_dir / ALERTMANAGER_FILE,
                      dump_yaml(alertmanager_config(control_url + WEBHOOK_PATH, token_file), header))

    def observe(self, node: str | None, ok: bool, latency_ms: float) -> None:
        self.exporter.observe(node, ok, latency_ms)

    def stop(self) -> None:
        self.annotations.stop()
        self.exporter.stop()
