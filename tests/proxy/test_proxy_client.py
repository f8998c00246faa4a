"""The toxiproxy-python client against our server: what a Python user of Toxiproxy does."""

from __future__ import annotations

import time

import pytest
from proxyhelpers import Servers, connect, host_port, receive_exactly
from toxiproxy import Toxiproxy
from toxiproxy.exceptions import InvalidToxic, NotFound, ProxyExists


def round_trip_s(address: tuple[str, int], payload: bytes = b"ping") -> float:
    with connect(address) as sock:
        began = time.monotonic()
        sock.sendall(payload)
        assert receive_exactly(sock, len(payload)) == payload
        return time.monotonic() - began


def test_client_drives_proxies_and_toxics(client: Toxiproxy, servers: Servers) -> None:
    assert client.running()
    assert b'"version"' in client.version()

    proxy = client.create(upstream=servers.echo_address, name="shop_test_inventory")
    address = host_port(proxy.listen)
    assert (proxy.name, proxy.enabled, proxy.upstream) == ("shop_test_inventory", True, servers.echo_address)
    assert set(client.proxies()) == {"shop_test_inventory"}
    assert client.get_proxy("nope") is None
    with pytest.raises(ProxyExists):
        client.create(upstream=servers.echo_address, name="shop_test_inventory")

    proxy.add_toxic(type="latency", attributes={"latency": 300})
    toxic = proxy.get_toxic("latency_downstream")
    assert toxic is not None
    assert (toxic.type, toxic.stream, toxic.toxicity, toxic.attributes) == (
        "latency",
        "downstream",
        1,
        {"latency": 300, "jitter": 0},
    )
    assert round_trip_s(address) >= 0.3
    with pytest.raises(InvalidToxic):
        proxy.add_toxic(type="no_such_toxic")
    assert proxy.destroy_toxic("latency_downstream")
    assert proxy.toxics() == {}
    with pytest.raises(NotFound):
        proxy.destroy_toxic("latency_downstream")

    with proxy.down(), pytest.raises(ConnectionRefusedError):
        connect(address, timeout_s=2)
    assert round_trip_s(address) < 0.3

    proxy.add_toxic(type="timeout", name="cut", stream="upstream")
    assert client.reset()
    assert proxy.toxics() == {}
    assert client.destroy(proxy)
    assert client.proxies() == {}


def test_client_populate(client: Toxiproxy, servers: Servers) -> None:
    created = client.populate(
        [
            {"name": "one", "upstream": servers.echo_address, "listen": "127.0.0.1:0"},
            {"name": "two", "upstream": servers.sink_address, "listen": "127.0.0.1:0"},
        ]
    )
    assert sorted(proxy.name for proxy in created) == ["one", "two"]
    assert round_trip_s(host_port(client.get_proxy("one").listen)) < 5
    client.destroy_all()
    assert client.proxies() == {}
