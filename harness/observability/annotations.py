"""Drill events as Grafana annotations: pushed live when Grafana is configured, and always
written to `grafana-annotations.json` for import afterwards.

What becomes an annotation is an allow-list of what the team did and saw: declared, roles,
updates, actions and their results, restoration, resolution. Never a fault or a change
push, never the plan: a dashboard that marked the fault would answer the drill's question
for the team. Delivery runs on its own thread off a queue (a slow Grafana never holds up
the journal); a failed push is logged and marked in the file, the drill goes on.
"""

from __future__ import annotations

import json
import logging
import queue
import threading
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, Final

from harness.timeline import Event, Journal

log = logging.getLogger(__name__)

ANNOTATIONS_FILE: Final = "grafana-annotations.json"
_DIRECT: Final = urllib.request.build_opener(urllib.request.ProxyHandler({}))
TEXTS: Final[dict[str, Callable[[Mapping[str, Any]], str]]] = {  # event kind -> the annotation's text
    "team.declare": lambda d: f"declared SEV{d.get('severity')} (commander {d.get('commander')})",
    "team.role": lambda d: f"{d.get('who')} is {d.get('role')}",
    "team.update": lambda d: f"status update: {d.get('text') or d.get('impact') or ''}".strip(),
    "team.act": lambda d: f"action {d.get('action')} by {d.get('by')}" + (" (canary)" if d.get("canary") else ""),
    "action.result": lambda d: f"{d.get('action')}: {'ok' if d.get('ok') else 'failed'} {d.get('detail') or ''}",
    "restoration.detected": lambda d: "service restored (SLO healthy again)",
    "team.resolve": lambda d: f"resolved by {d.get('by')}",
}


def annotation_for(event: Event, run_id: str) -> dict[str, Any] | None:
    """Grafana's POST /api/annotations body for `event`, or None if it is not shown."""
    text = TEXTS.get(event.kind)
    if text is None:
        return None
    at_s = event.wall.timestamp()
    if event.kind == "restoration.detected":  # restored at the start of the healthy window, not when it was judged
        at_s -= max(0.0, event.t_s - float(event.data.get("window_start_t_s", event.t_s)))
    return {"time": int(at_s * 1000), "tags": ["gamedrill", f"run:{run_id}", event.kind],
            "text": text(event.data)}


class GrafanaAnnotations:
    def __init__(self, journal: Journal, run_id: str, run_dir: Path, grafana_url: str | None = None,
                 token: str | None = None, timeout_s: float = 5.0) -> None:
        self.journal, self.run_id, self.path = journal, run_id, run_dir / ANNOTATIONS_FILE
        self.url = None if grafana_url is None else grafana_url.rstrip("/") + "/api/annotations"
        self._token, self.timeout_s = token, timeout_s
        self.annotations: list[dict[str, Any]] = []
        self._queue: queue.Queue[dict[str, Any] | None] = queue.Queue()
        self._thread = threading.Thread(target=self._deliver_all, name="grafana-annotations", daemon=True)

    def start(self) -> None:
        self._thread.start()
        self.journal.subscribe(self._on_event)

    def stop(self, timeout_s: float = 5.0) -> None:
        """Deliver what is queued (bounded by `timeout_s`), then write the file."""
        self.journal.unsubscribe(self._on_event)
        if self._thread.is_alive():
            self._queue.put(None)
            self._thread.join(timeout=timeout_s)
        self.path.write_text(json.dumps({"run_id": self.run_id, "annotations": self.annotations}, indent=1) + "\n")

    def _on_event(self, event: Event) -> None:  # under the journal's lock: only enqueue
        annotation = annotation_for(event, self.run_id)
        if annotation is not None:
            self._queue.put(annotation)

    def _deliver_all(self) -> None:
        while (annotation := self._queue.get()) is not None:
            pushed = self._push(annotation) if self.url is not None else None
            self.annotations.append({**annotation, **({} if pushed is None else {"pushed": pushed})})

    def _push(self, annotation: dict[str, Any]) -> bool:
        assert self.url is not None
        request = urllib.request.Request(self.url, data=json.dumps(annotation).encode(), method="POST",
                                         headers={"Content-Type": "application/json",
                                                  "Authorization": f"Bearer {self._token}"})
        try:
            with _DIRECT.open(request, timeout=self.timeout_s) as response:
                response.read()
            return True
        except (urllib.error.URLError, OSError, ValueError) as exc:
            log.warning("Grafana annotation push failed: %s", exc)
            return False
