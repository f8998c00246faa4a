"""Practise with the team's own tools: Prometheus metrics, Alertmanager alerts, Grafana annotations."""

from harness.observability.annotations import ANNOTATIONS_FILE, GrafanaAnnotations, annotation_for
from harness.observability.exporter import LoadExporter
from harness.observability.observer import DrillObserver
from harness.observability.promconfig import (
    ALERTMANAGER_FILE,
    PROMETHEUS_FILE,
    RULES_FILE,
    WEBHOOK_PATH,
    WEBHOOK_TOKEN_FILE,
    ScrapeTarget,
    alert_rules,
    alertmanager_config,
    prometheus_config,
    scrape_targets,
)
from harness.observability.settings import ObservabilitySettings, ObservabilitySettingsError
from harness.observability.webhook import (
    AlertmanagerNotification,
    AlertmanagerReceiver,
    ReceivedOut,
    webhook_token,
)

__all__ = [
    "ALERTMANAGER_FILE",
    "ANNOTATIONS_FILE",
    "PROMETHEUS_FILE",
    "RULES_FILE",
    "WEBHOOK_PATH",
    "WEBHOOK_TOKEN_FILE",
    "AlertmanagerNotification",
    "AlertmanagerReceiver",
    "DrillObserver",
    "GrafanaAnnotations",
    "LoadExporter",
    "ObservabilitySettings",
    "ObservabilitySettingsError",
    "ReceivedOut",
    "ScrapeTarget",
    "alert_rules",
    "alertmanager_config",
    "annotation_for",
    "prometheus_config",
    "scrape_targets",
    "webhook_token",
]
