"""Paging: alerts and declared incidents sent to the webhooks a drill configures.

Two bodies: Slack's incoming-webhook JSON (`text` plus a `blocks` section) and a plain JSON
record of the event. Both carry the link to the incident room (`console_url`), never its
token: whoever is paged gets the token from the facilitator (`gamedrill console`), and a
chat channel's history is no place for a credential. Delivery runs on its own thread off a queue, so a slow or dead
receiver never holds up the journal or the drill; every outcome is journaled, as
`team.paged` or as `page.failed` with the error.
"""

from __future__ import annotations

import json
import logging
import queue
import threading
import urllib.error
import urllib.request
from typing import Any, Final

from harness.spec_drill import Paging, Webhook
from harness.timeline import Event, Journal, format_wall

log = logging.getLogger(__name__)

TRIGGERS: Final = {"alert.fired": "alert", "team.declare": "declare"}
_DIRECT: Final = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # loopback: never via an HTTP proxy


def summary(event: Event, drill_title: str) -> str:
    """One line a person on call reads first."""
    data = event.data
    if event.kind == "alert.fired":
        where = f" on {data['node']}" if data.get("node") else ""
        if data.get("source") == "alertmanager":  # a PromQL rule, via Alertmanager
            return f"[drill] ALERT {data['name']}{where}: {data.get('expr')} = {data['value']} ({drill_title})"
        return (f"[drill] ALERT {data['name']}{where}: {data['metric']} {data['value']} {data['op']} "
                f"{data['threshold']} for {data['for_s']} s ({drill_title})")
    return f"[drill] INCIDENT declared SEV{data.get('severity')}, commander {data.get('commander')} ({drill_title})"


def body_for(webhook: Webhook, event: Event, run_id: str, drill_title: str,
             console_url: str | None = None) -> dict[str, Any]:
    text = summary(event, drill_title)
    if webhook.format == "slack":
        context = f"run `{run_id}`" + (f" · <{console_url}|open the incident room>" if console_url else "")
        return {"text": text, "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": f"*{text}*"}},
                                         {"type": "context", "elements": [{"type": "mrkdwn", "text": context}]}]}
    return {"source": "gamedrill", "event": event.kind, "run_id": run_id, "drill": drill_title, "seq": event.seq,
            "t_s": event.t_s, "wall": format_wall(event.wall), "summary": text, "data": dict(event.data),
            "console_url": console_url}


class Pager:
    """Subscribes to the journal; posts each trigger event to every webhook that wants it."""

    def __init__(self, journal: Journal, paging: Paging, run_id: str, drill_title: str) -> None:
        self.journal, self.paging, self.run_id, self.drill_title = journal, paging, run_id, drill_title
        self.console_url: str | None = None  # set once the control API listens (no token: see the module doc)
        self._queue: queue.Queue[Event | None] = queue.Queue()
        self._thread = threading.Thread(target=self._deliver_all, name="pager", daemon=True)

    def start(self) -> None:
        if self.paging.webhooks:
            self._thread.start()
            self.journal.subscribe(self._on_event)

    def stop(self, timeout_s: float = 5.0) -> None:
        """Deliver what is queued (bounded by `timeout_s`), then stop."""
        if not self._thread.is_alive():
            return
        self.journal.unsubscribe(self._on_event)
        self._queue.put(None)
        self._thread.join(timeout=timeout_s)

    def _on_event(self, event: Event) -> None:  # under the journal's lock: only enqueue
        if event.kind in TRIGGERS:
            self._queue.put(event)

    def _deliver_all(self) -> None:
        while (event := self._queue.get()) is not None:
            for index, webhook in enumerate(self.paging.webhooks):
                if TRIGGERS[event.kind] in webhook.events:
                    self._deliver(index, webhook, event)

    def _deliver(self, index: int, webhook: Webhook, event: Event) -> None:
        channel = f"webhooks[{index}]"
        payload = json.dumps(body_for(webhook, event, self.run_id, self.drill_title, self.console_url)).encode()
        request = urllib.request.Request(webhook.url, data=payload, method="POST",
                                         headers={"Content-Type": "application/json"})
        try:
            with _DIRECT.open(request, timeout=self.paging.timeout_s) as response:
                response.read()
            self.journal.append("team.paged", trigger=event.kind, seq=event.seq, channel=channel,
                                format=webhook.format)
        except (urllib.error.URLError, OSError, ValueError) as exc:
            log.warning("page to %s failed: %s", channel, exc)
            self.journal.append("page.failed", trigger=event.kind, seq=event.seq, channel=channel,
                                error=str(exc)[:300])
