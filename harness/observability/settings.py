"""Where a drill's observability goes, resolved once from the environment.

    GAMEDRILL_ALERTMANAGER        host:port of the team's Alertmanager, named in prometheus.yml
    GAMEDRILL_SCRAPE_INTERVAL_S   scrape and rule evaluation interval of prometheus.yml (1)
    GAMEDRILL_GRAFANA_URL         Grafana to push drill annotations to (with the token below)
    GAMEDRILL_GRAFANA_TOKEN       a Grafana service account token (Editor), never written anywhere

Nothing is required: without them the files are still written and the built-in
evaluator is the only alerting, as before.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field

from harness.errors import GamedrillError


class ObservabilitySettingsError(GamedrillError):
    """An environment variable of harness.observability has a bad value."""


@dataclass(frozen=True)
class ObservabilitySettings:
    alertmanager: str | None = None
    scrape_interval_s: float = 1.0
    grafana_url: str | None = None
    grafana_token: str | None = field(default=None, repr=False)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> ObservabilitySettings:
        env = os.environ if env is None else env
        interval = env.get("GAMEDRILL_SCRAPE_INTERVAL_S", "").strip() or "1"
        try:
            interval_s = float(interval)
        except ValueError:
            interval_s = -1.0
        if not 0.1 <= interval_s <= 600:
            raise ObservabilitySettingsError(f"GAMEDRILL_SCRAPE_INTERVAL_S: expected seconds from 0.1 to 600, "
                                             f"got {interval!r}")
        alertmanager = env.get("GAMEDRILL_ALERTMANAGER", "").strip() or None
        if alertmanager is not None and (":" not in alertmanager or "/" in alertmanager):
            raise ObservabilitySettingsError(f"GAMEDRILL_ALERTMANAGER: expected host:port, got {alertmanager!r}")
        url = env.get("GAMEDRILL_GRAFANA_URL", "").strip().rstrip("/") or None
        token = env.get("GAMEDRILL_GRAFANA_TOKEN", "").strip() or None
        if url is not None and not url.startswith(("http://", "https://")):
            raise ObservabilitySettingsError(f"GAMEDRILL_GRAFANA_URL: expected an http(s) URL, got {url!r}")
        if (url is None) != (token is None):
            raise ObservabilitySettingsError("GAMEDRILL_GRAFANA_URL and GAMEDRILL_GRAFANA_TOKEN go together")
        return cls(alertmanager, interval_s, url, token)
