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
    port: int | None  # None: the stack has no such service (every call says so)
    service: str
    timeout_s: float = 3.0

    def call(self, method: str, path: str, body: Any = None, ok: tuple[int, ...] = (200, 201)) -> Any:
        if self.port is None:
            raise StackError(f"this stack has no {self.service} service (the scenario's stack section names "
                             "none), so this cannot be done here")
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

    def __init__(self, port: int | None, service: str = "config") -> None:
        self.http = JsonHttp(port, service if port is not None else "control-plane")

    def register(self, kind: str, artifact: dict[str, Any]) -> None:
        """Register an artifact; one that is already there (same version) is fine."""
        self.http.call("POST", f"/v1/{kind}s", artifact, ok=(200, 201, 409))

    def rollout(self, kind: str, version: str, *, canary: str | None = None, bake_s: float | None = None,
                author: str = "", description: str = "", ttl_s: float | None = None,
                backdate_s: float = 0.0) -> dict[str, Any]:
        """Start a staged rollout; with `ttl_s` the control plane undoes it unless renewed in time."""
        body: dict[str, Any] = {"kind": kind, "version": version, "author": author, "description": description,
                                "backdate_s": backdate_s}
        if ttl_s is not None:
            body["ttl_s"] = ttl_s
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

    def renew(self, rollout_id: str | int, ttl_s: float) -> dict[str, Any]:
        """Extend a rollout's lease by ttl_s from now (0: keep it for good)."""
        result: dict[str, Any] = self.http.call("POST", f"/v1/rollouts/{rollout_id}/renew", {"ttl_s": ttl_s})
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

    def __init__(self, port: int | None, service: str = "lb") -> None:
        self.http = JsonHttp(port, service if port is not None else "load-balancer")

    def weights(self) -> dict[str, int]:
        return dict(self.http.call("GET", "/admin/weights")["weights"])

    def set_weight(self, node: str, weight: int) -> int:
        """Set a node's weight; returns the weight it had before."""
        return int(self.http.call("PUT", f"/admin/weights/{node}", {"weight": weight})["previous"])


class Toxiproxy:
    """The fault proxy's Toxiproxy HTTP API, plus gamedrill's lease extension (`ttl_s`)."""

    def __init__(self, port: int) -> None:
        self.http = JsonHttp(port, "proxy")

    def proxies(self) -> dict[str, Any]:
        return dict(self.http.call("GET", "/proxies"))

    def add_toxic(self, proxy: str, body: dict[str, Any]) -> dict[str, Any]:
        return dict(self.http.call("POST", f"/proxies/{proxy}/toxics", body))

    def update_toxic(self, proxy: str, toxic: str, body: dict[str, Any]) -> dict[str, Any]:
        return dict(self.http.call("POST", f"/proxies/{proxy}/toxics/{toxic}", body))

    def remove_toxic(self, proxy: str, toxic: str) -> None:
        """Remove a toxic; one that is already gone (its lease ran out) is fine."""
        self.http.call("DELETE", f"/proxies/{proxy}/toxics/{toxic}", ok=(204, 404))

    def set_enabled(self, proxy: str, enabled: bool, ttl_s: float | None = None) -> dict[str, Any]:
        body: dict[str, Any] = {"enabled": enabled}
        if ttl_s is not None:
            body["ttl_s"] = ttl_s
        return dict(self.http.call("POST", f"/proxies/{proxy}", body))
