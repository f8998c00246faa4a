"""Clients for the sample stack's own APIs: the config control plane and the lb admin API.

Standard library only; every call has a short timeout and turns an HTTP error into a
StackError that quotes the service's own message.
"""

from __future__ import annotations

import http.client
import json
from dataclasses import dataclass
from typing import Any

from harness.errors import StackError


@dataclass(frozen=True)
class JsonHttp:
    port: int
    service: str
    timeout_s: float = 3.0

    def call(self, method: str, path: str, body: Any = None, ok: tuple[int, ...] = (200, 201)) -> Any:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=self.timeout_s)
        try:
            payload = json.dumps(body).encode() if body is not None else None
            headers = {"Content-Type": "application/json"} if payload is not None else {}
            conn.request(method, path, body=payload, headers=headers)
            response = conn.getresponse()
            raw = response.read()
        except (OSError, http.client.HTTPException) as exc:
            raise StackError(f"{self.service}: {method} {path} failed: {exc}") from exc
        finally:
            conn.close()
        parsed = json.loads(raw) if raw else None
        if response.status not in ok:
            message = parsed.get("error") if isinstance(parsed, dict) else raw[:200].decode(errors="replace")
            raise StackError(f"{self.service}: {method} {path}: {response.status} {message}")
        return parsed


class ControlPlane:
    """The `config` service: artifacts, staged rollouts, rollbacks, the change log."""

    def __init__(self, port: int) -> None:
        self.http = JsonHttp(port, "config")

    def register(self, kind: str, artifact: dict[str, Any]) -> None:
        """Register an artifact; one that is already there (same version) is fine."""
        self.http.call("POST", f"/v1/{kind}s", artifact, ok=(200, 201, 409))

    def rollout(self, kind: str, version: str, *, canary: str | None = None, bake_s: float | None = None,
                author: str = "", description: str = "") -> dict[str, Any]:
        body: dict[str, Any] = {"kind": kind, "version": version, "author": author, "description": description}
        if canary is not None:
            body["canary"] = canary
        if bake_s is not None:
            body["bake_s"] = bake_s
        result: dict[str, Any] = self.http.call("POST", "/v1/rollouts", body)
        return result

    def rollouts(self) -> list[dict[str, Any]]:
        return list(self.http.call("GET", "/v1/rollouts")["rollouts"])

    def rollback(self, rollout_id: str | int, nodes: list[str] | None = None, author: str = "") -> dict[str, Any]:
        body: dict[str, Any] = {"author": author}
        if nodes:
            body["nodes"] = nodes
        result: dict[str, Any] = self.http.call("POST", f"/v1/rollouts/{rollout_id}/rollback", body)
        return result

    def pause(self, rollout_id: str | int) -> dict[str, Any]:
        result: dict[str, Any] = self.http.call("POST", f"/v1/rollouts/{rollout_id}/pause", {})
        return result

    def changes(self) -> list[dict[str, Any]]:
        return list(self.http.call("GET", "/v1/changes")["changes"])

    def node(self, name: str) -> dict[str, Any]:
        result: dict[str, Any] = self.http.call("GET", f"/v1/nodes/{name}")
        return result


class LoadBalancer:
    """The `lb` admin API: upstream weights (0 isolates a node)."""

    def __init__(self, port: int) -> None:
        self.http = JsonHttp(port, "lb")

    def weights(self) -> dict[str, int]:
        return dict(self.http.call("GET", "/admin/weights")["weights"])

    def set_weight(self, node: str, weight: int) -> int:
        """Set a node's weight; returns the weight it had before."""
        return int(self.http.call("PUT", f"/admin/weights/{node}", {"weight": weight})["previous"])
