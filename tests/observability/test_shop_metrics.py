"""The shop's /metrics in the Prometheus text format (parsed by the official client's parser),
and JSON still, when asked for it."""

from __future__ import annotations

import http.client
import json

from prometheus_client.parser import text_string_to_metric_families

from harness.stack import LocalBackend

EVERY_SERVICE = {"shop_open_fds", "shop_cpu_seconds", "shop_uptime_seconds", "shop_requests",
                 "shop_request_duration_seconds"}


def fetch(port: int, path: str, accept: str | None = None, status: int = 200) -> tuple[str, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=3)
    try:
        conn.request("GET", path, headers={"Accept": accept} if accept else {})
        response = conn.getresponse()
        assert response.status == status
        return response.getheader("Content-Type", ""), response.read()
    finally:
        conn.close()


def families(port: int) -> dict[str, list[tuple[dict[str, str], float]]]:
    ctype, body = fetch(port, "/metrics")
    assert ctype.startswith("text/plain; version=0.0.4")
    return {f.name: [(s.labels, s.value) for s in f.samples] for f in text_string_to_metric_families(body.decode())}


def test_every_service_speaks_prometheus_text_by_default_and_json_when_asked(shop: LocalBackend) -> None:
    lb = shop.endpoint("lb").port
    for _ in range(20):
        fetch(lb, "/product/sku-001")
    fetch(lb, "/product/no-such-sku", status=404)
    for service in ("lb", "web-1", "web-2", "web-3", "inventory", "config"):
        port = shop.endpoint(service).port
        found = families(port)
        assert set(found) >= EVERY_SERVICE, (service, sorted(found))
        for asked in ({"path": "/metrics?format=json"}, {"path": "/metrics", "accept": "application/json"}):
            ctype, body = fetch(port, **asked)
            assert ctype == "application/json" and "requests" in json.loads(body), service

    edge = families(lb)
    product = {labels["code"]: value for labels, value in edge["shop_requests"] if labels["route"] == "product"}
    assert product["200"] >= 20 and product["404"] == 1
    buckets = [(labels["le"], v) for labels, v in edge["shop_request_duration_seconds"]
               if labels["route"] == "product" and "le" in labels]
    assert buckets[-1] == ("+Inf", 21.0) and [v for _, v in buckets] == sorted(v for _, v in buckets)
    assert {labels["upstream"] for labels, _ in edge["shop_lb_upstream_weight"]} == {"web-1", "web-2", "web-3"}

    served = sum(v for labels, v in families(shop.endpoint("web-1").port)["shop_requests"]
                 if labels["route"] == "product")
    web = families(shop.endpoint("web-1").port)
    assert served >= 1, "the node counts what all its workers served"
    assert web["shop_workers"][0][1] >= 1 and web["shop_worker_cpu_seconds"]
    (info_labels, info_value), = web["shop_assignment_info"]
    assert info_value == 1 and info_labels["node"] == "web-1" and info_labels["config_version"]
