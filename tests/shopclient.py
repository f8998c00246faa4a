"""A tiny JSON client for the sample shop's HTTP APIs, for tests and benchmarks."""

from __future__ import annotations

import http.client
import json
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Reply:
    status: int
    body: Any
    headers: dict[str, str]


def call(port: int, method: str, path: str, body: Any = None, timeout_s: float = 2.0) -> Reply:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout_s)
    try:
        payload = json.dumps(body).encode() if body is not None else None
        # Accept: JSON, so /metrics answers JSON (its default is the Prometheus text format).
        headers = {"Accept": "application/json", **({"Content-Type": "application/json"} if payload else {})}
        conn.request(method, path, body=payload, headers=headers)
        response = conn.getresponse()
        raw = response.read()
        try:
            parsed = json.loads(raw) if raw else None
        except ValueError:
            parsed = raw.decode(errors="replace")
        return Reply(response.status, parsed, {k.lower(): v for k, v in response.getheaders()})
    finally:
        conn.close()


def get(port: int, path: str, timeout_s: float = 2.0) -> Reply:
    return call(port, "GET", path, timeout_s=timeout_s)


def post(port: int, path: str, body: Any, timeout_s: float = 2.0) -> Reply:
    return call(port, "POST", path, body, timeout_s=timeout_s)
