"""config: the control plane's HTTP API (`python3 -m shop.config`).

Routes are documented in compose/README.md; the state and its rules live in
shop.controlplane. NODES (comma-separated) names the web nodes it assigns versions to.
"""

from __future__ import annotations

import threading
import time
from typing import Any
from urllib.parse import parse_qs

from shop import httpkit
from shop.controlplane import CHANGE_KIND, ControlPlane
from shop.httpkit import HTTPError
from shop.promstats import Exposition, RequestStats

SERVICE = "config"
PLURALS = {f"{kind}s": kind for kind in CHANGE_KIND}  # "releases" -> "release"


def rollout_id(text: str) -> int:
    if not text.isdigit():
        raise HTTPError(404, f"unknown rollout {text!r}")
    return int(text)


class ConfigHandler(httpkit.JSONHandler):
    plane: ControlPlane
    counters: httpkit.Counters
    started: float

    def route(self) -> None:
        path, _, query = self.path.partition("?")
        parts = [p for p in path.split("/") if p]
        if self.command in ("GET", "HEAD") and parts == ["metrics"]:
            self.send_metrics(self.metrics, self.exposition)
        elif self.command in ("GET", "HEAD"):
            self.send_json(200, self.get(parts, parse_qs(query)))
        elif self.command == "POST":
            status, body = self.post(parts)
            self.send_json(status, body)
        else:
            raise HTTPError(405, f"{self.command} is not supported")

    def metrics(self) -> dict[str, Any]:
        plane = self.plane
        metrics = httpkit.base_metrics(SERVICE, self.started, self.counters.requests, self.counters.errors)
        with plane.lock:
            metrics["nodes"] = {n: a["generation"] for n, a in plane.nodes.items()}
            metrics["changes"] = len(plane.changes)
            metrics["rollouts_active"] = sum(r["state"] in ("baking", "paused") for r in plane.rollouts.values())
        return metrics

    def exposition(self) -> Exposition:
        figures = self.metrics()
        out = httpkit.base_exposition(self.started)
        assert self.stats is not None
        self.stats.render(out)
        out.family("shop_config_node_generation", "gauge", "The assignment generation the control plane holds "
                   "for each node.")
        for node, generation in figures["nodes"].items():
            out.sample("shop_config_node_generation", generation, {"node": node})
        out.gauge("shop_config_changes_total", "Entries in the change log.", figures["changes"], kind="counter")
        out.gauge("shop_config_rollouts_active", "Rollouts baking or paused.", figures["rollouts_active"])
        return out

    def get(self, parts: list[str], query: dict[str, list[str]]) -> Any:
        plane = self.plane
        match parts:
            case ["healthz"]:
                return {"status": "ok", "nodes": list(plane.nodes)}
            case ["v1", "state"]:
                return plane.state()
            case ["v1", "nodes", node]:
                return plane.node(node)
            case ["v1", "rollouts"]:
                return {"rollouts": plane.rollout_list()}
            case ["v1", "rollouts", rid]:
                return plane.rollout(rollout_id(rid))
            case ["v1", "changes"]:
                since = query.get("since", ["0"])[0]
                if not since.isdigit():
                    raise HTTPError(400, "since: expected a change id (integer >= 0)")
                return {"changes": plane.change_list(int(since))}
            case ["v1", plural] if plural in PLURALS:
                return {plural: plane.artifact_list(PLURALS[plural])}
        raise HTTPError(404, f"no route for GET /{'/'.join(parts)}")

    def post(self, parts: list[str]) -> tuple[int, Any]:
        plane = self.plane
        match parts:
            case ["v1", "rollouts"]:
                return 201, plane.start_rollout(self.read_json())
            case ["v1", "rollouts", rid, "pause"]:
                return 200, plane.pause(rollout_id(rid))
            case ["v1", "rollouts", rid, "renew"]:
                return 200, plane.renew(rollout_id(rid), self.read_json())
            case ["v1", "rollouts", rid, "resume"]:
                return 200, plane.resume(rollout_id(rid))
            case ["v1", "rollouts", rid, "rollback"]:
                body = self.read_json() if self.headers.get("Content-Length", "0") != "0" else {}
                return 200, plane.rollback(rollout_id(rid), body)
            case ["v1", plural] if plural in PLURALS:
                return 201, plane.register(PLURALS[plural], self.read_json())
        raise HTTPError(404, f"no route for POST /{'/'.join(parts)}")


def main() -> None:
    nodes = [n.strip() for n in httpkit.env_str("NODES", "web-1,web-2,web-3").split(",") if n.strip()]
    plane = ControlPlane(nodes)
    threading.Thread(target=plane.run_scheduler, name="rollout-scheduler", daemon=True).start()
    ConfigHandler.plane = plane
    ConfigHandler.counters = ConfigHandler.recorder = httpkit.Counters()
    ConfigHandler.stats = RequestStats(("healthz", "metrics", "v1"))
    ConfigHandler.started = time.monotonic()
    server = httpkit.make_server(SERVICE, ConfigHandler)
    httpkit.log(SERVICE, f"nodes: {', '.join(nodes)}")
    httpkit.serve(server)


if __name__ == "__main__":
    main()
