"""Alertmanager's webhook, received on the control API and journaled as the harness's own alerts.

Only the alerts of this run's `promql` rules are journaled (their `gamedrill_run` label is
this run's id, their `gamedrill_source` is `promql`); anything else Alertmanager routes here
is counted as ignored. A firing alert is journaled once per fingerprint, as `alert.fired`,
timed when the harness receives it (the team is paged then, not when Prometheus started
counting `for`); its resolution is `alert.cleared`. The token is derived from the
facilitator's, so a resumed harness accepts the same Alertmanager config.
"""

from __future__ import annotations

import hashlib
import hmac
import threading
from dataclasses import dataclass, field
from typing import Literal

from pydantic import BaseModel, ConfigDict

from harness.observability.promconfig import RUN_LABEL, SOURCE_LABEL
from harness.spec import AlertRule
from harness.timeline import Journal


def webhook_token(facilitator_token: str) -> str:
    return hmac.new(facilitator_token.encode(), b"gamedrill alertmanager webhook", hashlib.sha256).hexdigest()


class AlertmanagerAlert(BaseModel):
    model_config = ConfigDict(extra="ignore")
    status: Literal["firing", "resolved"]
    labels: dict[str, str]
    annotations: dict[str, str] = {}
    startsAt: str = ""
    fingerprint: str = ""


class AlertmanagerNotification(BaseModel):
    """Alertmanager's webhook body (version 4); the fields the harness uses."""

    model_config = ConfigDict(extra="ignore")
    version: str = "4"
    status: Literal["firing", "resolved"]
    alerts: list[AlertmanagerAlert]


class ReceivedOut(BaseModel):
    fired: int
    cleared: int
    ignored: int


@dataclass
class AlertmanagerReceiver:
    journal: Journal
    run_id: str
    rules: tuple[AlertRule, ...]
    _firing: set[str] = field(default_factory=set)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def receive(self, notification: AlertmanagerNotification) -> ReceivedOut:
        promql = {rule.name: rule for rule in self.rules if rule.promql is not None}
        fired = cleared = ignored = 0
        with self._lock:
            for alert in notification.alerts:
                rule = promql.get(alert.labels.get("alertname", ""))
                ours = alert.labels.get(RUN_LABEL) == self.run_id and alert.labels.get(SOURCE_LABEL) == "promql"
                if rule is None or not ours:
                    ignored += 1
                    continue
                key = alert.fingerprint or repr(sorted(alert.labels.items()))
                if alert.status == "firing" and key not in self._firing:
                    self._firing.add(key)
                    self.journal.append("alert.fired", name=rule.name, metric="promql", value=_value(alert),
                                        threshold=None, op=None, for_s=rule.for_s, node=alert.labels.get("node"),
                                        source="alertmanager", expr=rule.promql, fingerprint=alert.fingerprint,
                                        starts_at=alert.startsAt)
                    fired += 1
                elif alert.status == "resolved" and key in self._firing:
                    self._firing.discard(key)
                    self.journal.append("alert.cleared", name=rule.name, node=alert.labels.get("node"),
                                        source="alertmanager")
                    cleared += 1
        return ReceivedOut(fired=fired, cleared=cleared, ignored=ignored)

    def firing(self) -> int:
        with self._lock:
            return len(self._firing)


def _value(alert: AlertmanagerAlert) -> float | None:
    try:
        return round(float(alert.annotations.get("value", "")), 4)
    except ValueError:
        return None
