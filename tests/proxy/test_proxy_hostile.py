"""Hostile input: random bodies, paths and methods never get a 5xx or kill the server.

Bounded and repeatable: 400 requests from a seeded generator. The only 500 Toxiproxy has
for a client's input is a listen address the OS refuses; the generator only asks for free
loopback ports, so none is expected.
"""

from __future__ import annotations

import json
import random
from typing import Any

from proxyhelpers import Api, Servers

REQUESTS = 400
PATHS = [
    "/proxies",
    "/populate",
    "/reset",
    "/version",
    "/proxies/{p}",
    "/proxies/{p}/toxics",
    "/proxies/{p}/toxics/{t}",
    "/proxies/{p}/toxics/{t}/x",
    "/",
    "/proxies//toxics",
]
METHODS = ["GET", "POST", "PATCH", "DELETE", "PUT", "HEAD"]
TYPES = ["latency", "bandwidth", "slow_close", "timeout", "reset_peer", "slicer", "limit_data", "noop", "bogus", ""]
KEYS = [
    "name",
    "listen",
    "upstream",
    "enabled",
    "type",
    "stream",
    "toxicity",
    "attributes",
    "ttl_s",
    "latency",
    "jitter",
    "rate",
    "delay",
    "timeout",
    "average_size",
    "size_variation",
    "bytes",
    "Name",
    "TYPE",
]


def scalar(rng: random.Random, upstream: str) -> Any:
    return rng.choice(
        [
            None,
            True,
            False,
            0,
            -1,
            1,
            2**63,
            -(2**63) - 1,
            1.5,
            1e308,
            -0.0,
            "",
            "x" * rng.randint(1, 300),
            "127.0.0.1:0",
            upstream,
            "::1",
            "[::1]:0",
            "localhost:0",
            "nonsense",
            "upstream",
            "DOWNSTREAM",
            rng.choice(TYPES),
            "\u0000\u2603",
            [],
            {},
        ]
    )


def value(rng: random.Random, upstream: str, depth: int = 0) -> Any:
    if depth < 2 and rng.random() < 0.3:
        return {rng.choice(KEYS): value(rng, upstream, depth + 1) for _ in range(rng.randint(0, 6))}
    if depth < 2 and rng.random() < 0.1:
        return [value(rng, upstream, depth + 1) for _ in range(rng.randint(0, 3))]
    return scalar(rng, upstream)


def body(rng: random.Random, upstream: str) -> bytes:
    shape = rng.random()
    if shape < 0.1:
        return bytes(rng.randrange(256) for _ in range(rng.randint(0, 64)))
    if shape < 0.2:
        return json.dumps(value(rng, upstream)).encode()[: rng.randint(0, 40)]  # cut short
    document = value(rng, upstream)
    if isinstance(document, dict) and rng.random() < 0.7:
        document.setdefault("name", rng.choice(["p", "q", "latency_downstream"]))
        document.setdefault("type", rng.choice(TYPES))
        document.setdefault("upstream", upstream)
        document["listen"] = "127.0.0.1:0"
    return json.dumps(document).encode()


def test_random_requests_never_get_a_server_error(api: Api, servers: Servers) -> None:
    rng = random.Random(20240601)
    api.create("p", servers.echo_address)
    statuses: dict[int, int] = {}
    for _ in range(REQUESTS):
        path = rng.choice(PATHS).format(
            p=rng.choice(["p", "q", "%2F", "a%20b"]), t=rng.choice(["latency_downstream", "t"])
        )
        method = rng.choice(METHODS)
        reply = api.request(method, path, body(rng, servers.echo_address) if method != "GET" else None)
        statuses[reply.status] = statuses.get(reply.status, 0) + 1
        assert reply.status < 500, (method, path, reply)
        if reply.status >= 400 and reply.body.startswith(b"{"):  # API errors; not 404 page not found
            error = reply.json()
            assert set(error) >= {"error", "status"} and error["status"] == reply.status
    assert api.ok("GET", "/version")  # still serving
    assert len(statuses) >= 5, statuses  # the generator did reach many outcomes
