"""gamedrill's `ttl_s` leases: a fault the proxy undoes by itself unless the harness renews it."""

from __future__ import annotations

import select
import time

from proxyhelpers import Api, connect

from harness.waiting import wait_until


def toxic_names(api: Api) -> list[str]:
    return [toxic["name"] for toxic in api.ok("GET", "/proxies/echo/toxics")]


def test_a_toxic_with_a_one_second_lease_disappears(api: Api, echo_proxy: tuple[str, int]) -> None:
    began = time.monotonic()
    toxic = api.add_toxic("echo", type="latency", attributes={"latency": 100}, ttl_s=1)
    assert 0.5 < toxic["ttl_s_left"] <= 1
    api.add_toxic("echo", type="latency", name="kept", stream="upstream")
    wait_until(lambda: toxic_names(api) == ["kept"], timeout_s=10, what="the leased toxic to expire")
    assert time.monotonic() - began >= 1.0
    assert "ttl_s_left" not in api.ok("GET", "/proxies/echo/toxics/kept")  # no lease, no extension field


def test_renewing_a_lease_keeps_the_toxic(api: Api, echo_proxy: tuple[str, int]) -> None:
    api.add_toxic("echo", type="latency", ttl_s=0.6)
    deadline = time.monotonic() + 1.5
    while time.monotonic() < deadline:  # the harness renewing its lease, bounded
        renewed = api.ok("PATCH", "/proxies/echo/toxics/latency_downstream", {"ttl_s": 0.6})
        assert renewed["ttl_s_left"] > 0.4
        wait_until(
            lambda: api.ok("GET", "/proxies/echo/toxics/latency_downstream")["ttl_s_left"] < 0.4,
            timeout_s=5,
            what="the lease to run down a little",
        )
    assert toxic_names(api) == ["latency_downstream"]  # alive well past its first lease
    permanent = api.ok("PATCH", "/proxies/echo/toxics/latency_downstream", {"ttl_s": None})
    assert "ttl_s_left" not in permanent


def test_an_update_without_ttl_keeps_the_running_lease(api: Api, echo_proxy: tuple[str, int]) -> None:
    api.add_toxic("echo", type="latency", ttl_s=1)
    updated = api.ok("PATCH", "/proxies/echo/toxics/latency_downstream", {"attributes": {"latency": 5}})
    assert 0 < updated["ttl_s_left"] <= 1
    wait_until(lambda: toxic_names(api) == [], timeout_s=10, what="the lease to expire")


def test_a_proxy_down_with_a_lease_comes_back_up(api: Api, echo_proxy: tuple[str, int]) -> None:
    down = api.ok("PATCH", "/proxies/echo", {"enabled": False, "ttl_s": 1})
    assert down["enabled"] is False and 0.5 < down["ttl_s_left"] <= 1
    wait_until(lambda: api.ok("GET", "/proxies/echo")["enabled"], timeout_s=10, what="the proxy to re-enable")
    assert "ttl_s_left" not in api.ok("GET", "/proxies/echo")
    connect(echo_proxy).close()


def test_enabling_by_hand_drops_the_down_lease(api: Api, echo_proxy: tuple[str, int]) -> None:
    api.ok("PATCH", "/proxies/echo", {"enabled": False, "ttl_s": 30})
    assert "ttl_s_left" not in api.ok("PATCH", "/proxies/echo", {"enabled": True})


def test_bad_leases_are_refused(api: Api, echo_proxy: tuple[str, int]) -> None:
    for body in ({"enabled": False, "ttl_s": -1}, {"enabled": False, "ttl_s": "soon"}, {"ttl_s": 5}):
        reply = api.request("PATCH", "/proxies/echo", body)
        assert reply.status == 400 and reply.json()["error"].startswith("bad request body: ttl_s:"), reply
    assert api.ok("GET", "/proxies/echo")["enabled"] is True


def test_reset_drops_every_lease(api: Api, echo_proxy: tuple[str, int]) -> None:
    api.add_toxic("echo", type="latency", ttl_s=30)
    api.ok("PATCH", "/proxies/echo", {"enabled": False, "ttl_s": 30})
    api.ok("POST", "/reset")
    shown = api.ok("GET", "/proxies/echo")
    assert (shown["enabled"], shown["toxics"], "ttl_s_left" in shown) == (True, [], False)


def test_renewing_a_lease_does_not_restart_the_toxic(api: Api, echo_proxy: tuple[str, int]) -> None:
    api.add_toxic("echo", type="timeout", attributes={"timeout": 600}, ttl_s=30)
    with connect(echo_proxy) as sock:
        began = time.monotonic()
        sock.sendall(b"x")
        for _ in range(2):
            readable, _, _ = select.select([sock], [], [], 0.25)  # the harness renews now and then
            assert not readable
            api.ok("PATCH", "/proxies/echo/toxics/timeout_downstream", {"ttl_s": 30})
        assert sock.recv(10) == b""  # closed on the toxic's own clock, not restarted
        assert 0.6 <= time.monotonic() - began <= 0.6 * 1.1 + 0.1
