"""Every endpoint and every error code of the Toxiproxy API, over raw HTTP."""

from __future__ import annotations

import http.client
import socket
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from proxyhelpers import Api, Reply, Servers, connect, host_port, receive_exactly

JSON = "application/json"
GO_HTTP_ERROR = "text/plain; charset=utf-8"  # Go's http.Error relabels Toxiproxy's JSON errors
FIELDS = ["name", "listen", "upstream", "enabled", "Logger", "toxics"]  # Go's Proxy struct, in its order


def refused(address: tuple[str, int]) -> bool:
    try:
        connect(address, timeout_s=2).close()
    except ConnectionRefusedError:
        return True
    return False


def test_version(api: Api) -> None:
    reply = api.request("GET", "/version")
    assert reply.status == 200
    assert reply.headers["content-type"] == "application/json;charset=utf-8"
    assert reply.body == b'{"version": "2.12.0"}\n'


def test_create_show_list_delete_a_proxy(api: Api, servers: Servers) -> None:
    assert api.ok("GET", "/proxies") == {}
    reply = api.request("POST", "/proxies", {"name": "db", "listen": "127.0.0.1:0", "upstream": servers.echo_address})
    assert reply.status == 201 and reply.headers["content-type"] == JSON
    created = reply.json()
    host, port = host_port(created["listen"])
    assert (host, created) == (
        "127.0.0.1",
        {
            "name": "db",
            "listen": f"127.0.0.1:{port}",
            "upstream": servers.echo_address,
            "enabled": True,
            "Logger": {},
            "toxics": [],
        },
    )
    assert port != 0 and list(created) == FIELDS
    assert api.ok("GET", "/proxies/db") == created
    assert api.ok("GET", "/proxies") == {"db": created}

    deleted = api.request("DELETE", "/proxies/db")
    assert (deleted.status, deleted.body) == (204, b"")
    assert refused((host, port))
    assert api.request("DELETE", "/proxies/db").json() == {"error": "proxy not found", "status": 404}


def test_proxies_are_listed_by_name(api: Api, servers: Servers) -> None:
    for name in ("zeta", "alpha", "mid"):
        api.create(name, servers.echo_address)
    assert list(api.ok("GET", "/proxies")) == ["alpha", "mid", "zeta"]


@pytest.mark.parametrize(
    ("body", "status", "error"),
    [
        ({"listen": "127.0.0.1:0", "upstream": "127.0.0.1:1"}, 400, "missing required field: name"),
        ({"name": "x", "listen": "127.0.0.1:0"}, 400, "missing required field: upstream"),
        (b"", 400, "bad request body: EOF"),
        (b"{not json", 400, "bad request body: invalid JSON"),
        ({"name": 5, "upstream": "127.0.0.1:1"}, 400, "bad request body: json: cannot unmarshal number 5"),
        ({"name": "x", "upstream": "127.0.0.1:1", "enabled": "yes"}, 400, "Go struct field Proxy.enabled of type bool"),
        ([{"name": "x"}], 400, "cannot unmarshal array into Go value of type toxiproxy.Proxy"),
        ({"name": "x", "listen": "nonsense", "upstream": "127.0.0.1:1"}, 400, "missing port in address"),
    ],
)
def test_create_refuses_bad_bodies(api: Api, body: object, status: int, error: str) -> None:
    reply = api.request("POST", "/proxies", body)
    assert reply.status == status
    assert reply.json()["status"] == status
    assert reply.json()["error"].startswith(error) or error in reply.json()["error"]
    assert api.ok("GET", "/proxies") == {}


def test_create_conflicts_and_bind_failures(api: Api, servers: Servers) -> None:
    api.create("db", servers.echo_address)
    reply = api.request("POST", "/proxies", {"name": "db", "upstream": servers.echo_address})
    assert (reply.status, reply.json()) == (409, {"error": "proxy already exists", "status": 409})

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        busy = {"name": "busy", "listen": f"127.0.0.1:{port}", "upstream": "127.0.0.1:1"}
        reply = api.request("POST", "/proxies", busy)
    assert reply.status == 500
    assert reply.json() == {"error": f"listen tcp 127.0.0.1:{port}: bind: address already in use", "status": 500}
    assert "busy" not in api.ok("GET", "/proxies")


def test_a_proxy_created_disabled_does_not_listen(api: Api, servers: Servers) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    off = {"name": "off", "listen": f"127.0.0.1:{port}", "upstream": servers.echo_address, "enabled": False}
    created = api.ok("POST", "/proxies", off)
    assert created["enabled"] is False
    assert refused(("127.0.0.1", port))


def test_update_disables_enables_and_moves_a_proxy(api: Api, servers: Servers) -> None:
    address = api.create("db", servers.echo_address)
    for method in ("POST", "PATCH"):  # POST is deprecated in Toxiproxy but still served
        assert api.ok(method, "/proxies/db", {"enabled": False})["enabled"] is False
        assert refused(address)
        assert api.ok(method, "/proxies/db", {"enabled": True})["enabled"] is True
        connect(address).close()
    moved = api.ok("PATCH", "/proxies/db", {"upstream": servers.sink_address})
    assert (moved["upstream"], moved["listen"]) == (servers.sink_address, f"127.0.0.1:{address[1]}")
    assert moved["enabled"] is True

    missing = api.request("PATCH", "/proxies/nope", {"enabled": False})
    assert missing.json() == {"error": "proxy not found", "status": 404}
    reply = api.request("PATCH", "/proxies/db", b"{")
    assert reply.status == 400 and reply.json()["error"].startswith("bad request body:")


def echoes(sock: socket.socket, payload: bytes = b"ping") -> bool:
    sock.sendall(payload)
    return receive_exactly(sock, len(payload)) == payload


@pytest.mark.parametrize(
    ("change", "error"),
    [
        ({"listen": "junk"}, "listen tcp: address junk: missing port in address"),
        ({"listen": "127.0.0.1:99999"}, "listen tcp: address 127.0.0.1:99999: invalid port '99999'"),
        ({"upstream": "nonsense"}, "bad request body: upstream: address nonsense: missing port in address"),
        ({"listen": "junk", "enabled": False, "ttl_s": 30}, "listen tcp: address junk: missing port in address"),
    ],
)
def test_a_rejected_move_leaves_the_proxy_up_and_its_connections_open(
    api: Api, servers: Servers, change: dict[str, object], error: str
) -> None:
    """Toxiproxy stops the proxy first and leaves it down; here nothing stops for a bad address."""
    address = api.create("db", servers.echo_address)
    before = api.ok("GET", "/proxies/db")
    with connect(address) as live:
        assert echoes(live)
        reply = api.request("PATCH", "/proxies/db", change)
        assert (reply.status, reply.json()) == (400, {"error": error, "status": 400})
        assert api.ok("GET", "/proxies/db") == before  # same addresses, enabled, and no lease
        assert echoes(live, b"still here")
    with connect(address) as fresh:
        assert echoes(fresh)


def test_a_move_the_os_refuses_goes_back_to_the_old_address(api: Api, servers: Servers) -> None:
    address = api.create("db", servers.echo_address)
    before = api.ok("GET", "/proxies/db")
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        move = {"listen": f"127.0.0.1:{port}", "upstream": servers.sink_address}
        reply = api.request("PATCH", "/proxies/db", move)
    assert reply.status == 500
    assert reply.json() == {"error": f"listen tcp 127.0.0.1:{port}: bind: address already in use", "status": 500}
    assert api.ok("GET", "/proxies/db") == before  # upstream too: the request changed nothing
    with connect(address) as fresh:
        assert echoes(fresh)

    # A disabled proxy that cannot come up on the new address stays down where it was.
    api.ok("PATCH", "/proxies/db", {"enabled": False})
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        reply = api.request("PATCH", "/proxies/db", {"listen": f"127.0.0.1:{port}", "enabled": True})
    assert reply.status == 500
    assert api.ok("GET", "/proxies/db") == {**before, "enabled": False}
    assert refused(address)


def test_populate_creates_keeps_and_replaces(api: Api, servers: Servers) -> None:
    body = [
        {"name": "one", "listen": "127.0.0.1:0", "upstream": servers.echo_address},
        {"name": "two", "listen": "127.0.0.1:0", "upstream": servers.sink_address, "enabled": False},
    ]
    reply = api.request("POST", "/populate", body)
    assert reply.status == 201
    first = reply.json()["proxies"]
    assert [(p["name"], p["enabled"]) for p in first] == [("one", True), ("two", False)]

    # Same listen and upstream: kept as it is. Different upstream: replaced.
    again = [
        {"name": "one", "listen": first[0]["listen"], "upstream": servers.echo_address},
        {"name": "two", "listen": "127.0.0.1:0", "upstream": servers.echo_address},
    ]
    second = api.ok("POST", "/populate", again)["proxies"]
    assert second[0] == first[0]
    assert (second[1]["upstream"], second[1]["enabled"]) == (servers.echo_address, True)


@pytest.mark.parametrize(
    ("body", "error"),
    [
        (
            [{"name": "a", "upstream": "127.0.0.1:1"}, {"upstream": "127.0.0.1:1"}],
            "missing required field: name at proxy 2",
        ),
        ([{"name": "a"}], "missing required field: upstream at proxy 1"),
        ({"name": "a", "upstream": "127.0.0.1:1"}, "cannot unmarshal object into Go value of type []toxiproxy.Proxy"),
        ([{"name": "a", "upstream": "127.0.0.1:1"}, {"name": "a", "upstream": "127.0.0.1:2"}], "duplicate proxy name"),
    ],
)
def test_populate_checks_the_whole_list_first(api: Api, body: object, error: str) -> None:
    reply = api.request("POST", "/populate", body)
    assert reply.status == 400
    assert error in reply.json()["error"] and reply.json()["proxies"] is None  # Go's nil slice
    assert api.ok("GET", "/proxies") == {}


def test_populate_reports_what_it_created_before_a_bind_failure(api: Api, servers: Servers) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        body = [
            {"name": "fine", "listen": "127.0.0.1:0", "upstream": servers.echo_address},
            {"name": "busy", "listen": f"127.0.0.1:{port}", "upstream": servers.echo_address},
        ]
        reply = api.request("POST", "/populate", body)
    assert (reply.status, reply.headers["content-type"]) == (500, JSON)
    assert list(reply.json()) == ["error", "status", "proxies"]  # Go: the embedded ApiError's fields first
    assert reply.json()["error"] == f"listen tcp 127.0.0.1:{port}: bind: address already in use"
    assert [list(proxy) for proxy in reply.json()["proxies"]] == [FIELDS]
    assert [proxy["name"] for proxy in reply.json()["proxies"]] == ["fine"]


# ---- details a Toxiproxy 2.12 client can see ------------------------------------------------


@contextmanager
def port_in_use() -> Iterator[int]:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        yield taken.getsockname()[1]


def test_populate_that_creates_nothing_answers_null(api: Api) -> None:
    reply = api.request("POST", "/populate", [])
    assert (reply.status, reply.headers["content-type"]) == (201, JSON)
    assert reply.body == b'{"proxies":null}'  # Go marshals its nil slice as null, and adds no newline
    assert api.ok("GET", "/proxies") == {}


def test_populate_writes_its_errors_itself(api: Api) -> None:
    """Not through apiError/http.Error: application/json, no newline, no nosniff, and `proxies` null."""
    reply = api.request("POST", "/populate", [{"name": "a"}])
    assert (reply.status, reply.headers["content-type"]) == (400, JSON)
    assert reply.body == b'{"error":"missing required field: upstream at proxy 1","status":400,"proxies":null}'
    assert "x-content-type-options" not in reply.headers
    reply = api.request("POST", "/populate", b"")
    assert reply.body == b'{"error":"bad request body: EOF","status":400,"proxies":null}'


@pytest.mark.parametrize(
    ("method", "path", "body", "status", "expected"),
    [
        ("GET", "/proxies/nope", None, 404, b'{"error":"proxy not found","status":404}\n'),
        (
            "POST",
            "/proxies",
            {"name": "echo", "upstream": "127.0.0.1:1"},
            409,
            b'{"error":"proxy already exists","status":409}\n',
        ),
        (
            "POST",
            "/proxies",
            {"upstream": "127.0.0.1:1"},
            400,
            b'{"error":"missing required field: name","status":400}\n',
        ),
        ("GET", "/proxies/echo/toxics/nope", None, 404, b'{"error":"toxic not found","status":404}\n'),
        ("POST", "/proxies/echo/toxics", {"type": "lag"}, 400, b'{"error":"invalid toxic type","status":400}\n'),
        ("GET", "/nothing", None, 404, b"404 page not found\n"),
    ],
)
def test_errors_are_written_like_gos_http_error(
    api: Api, echo_proxy: tuple[str, int], method: str, path: str, body: object, status: int, expected: bytes
) -> None:
    """Toxiproxy's apiError sets application/json, then http.Error resets it to text/plain and adds nosniff."""
    reply = api.request(method, path, body)
    assert (reply.status, reply.body) == (status, expected)
    assert reply.headers["content-type"] == GO_HTTP_ERROR
    assert reply.headers["x-content-type-options"] == "nosniff"


def test_a_browser_is_refused_like_gos_http_error(api: Api) -> None:
    reply = api.request("GET", "/proxies", headers={"User-Agent": "Mozilla/5.0"})
    assert (reply.status, reply.body) == (403, b"User agent not allowed\n")
    assert (reply.headers["content-type"], reply.headers["x-content-type-options"]) == (GO_HTTP_ERROR, "nosniff")


def not_local_address() -> str:
    """A TEST-NET-1 address (RFC 5737), which no interface of this machine should have."""
    with socket.socket() as probe:
        try:
            probe.bind(("192.0.2.1", 0))
        except OSError:
            return "192.0.2.1"
    pytest.skip("this machine has 192.0.2.1")


def listen_via(api: Api, servers: Servers, via: str, listen: str) -> Reply:
    proxy = {"name": "p", "listen": listen, "upstream": servers.echo_address}
    if via == "create":
        return api.request("POST", "/proxies", proxy)
    if via == "update":
        api.create("p", servers.echo_address)
        return api.request("PATCH", "/proxies/p", {"listen": listen})
    return api.request("POST", "/populate", [proxy])


@pytest.mark.parametrize("via", ["create", "update", "populate"])
@pytest.mark.parametrize("cause", ["in use", "in use, by name", "not on this machine"])
def test_a_listen_address_the_os_refuses_is_a_500_naming_what_go_tried(
    api: Api, servers: Servers, via: str, cause: str
) -> None:
    """net.Listen's *OpError: `listen tcp <resolved address>: bind: <errno text>`, which Toxiproxy answers as a
    500 through apiError (create, update) or in Populate's own body (with `proxies`)."""
    with port_in_use() as port:
        if cause == "not on this machine":
            host = not_local_address()
            listen, message = f"{host}:{port}", f"listen tcp {host}:{port}: bind: cannot assign requested address"
        else:
            host = "localhost" if cause.endswith("by name") else "127.0.0.1"
            listen, message = f"{host}:{port}", f"listen tcp 127.0.0.1:{port}: bind: address already in use"
        reply = listen_via(api, servers, via, listen)
    assert reply.status == 500
    if via == "populate":
        assert reply.headers["content-type"] == JSON
        assert reply.json() == {"error": message, "status": 500, "proxies": None}
    else:
        assert reply.headers["content-type"] == GO_HTTP_ERROR
        assert reply.body == f'{{"error":"{message}","status":500}}\n'.encode()


def test_every_proxy_object_has_gos_fields_in_gos_order(api: Api, servers: Servers) -> None:
    created = api.ok("POST", "/proxies", {"name": "a", "listen": "127.0.0.1:0", "upstream": servers.echo_address})
    api.add_toxic("a", type="latency")
    shown = api.ok("GET", "/proxies/a")
    updated = api.ok("PATCH", "/proxies/a", {"enabled": False})
    populated = api.ok("POST", "/populate", [{"name": "b", "upstream": servers.echo_address}])["proxies"]
    listed = api.ok("GET", "/proxies")
    for proxy in [created, shown, updated, *populated, *listed.values()]:
        assert list(proxy) == FIELDS and proxy["Logger"] == {}, proxy
    assert [t["name"] for t in shown["toxics"]] == ["latency_downstream"]


def test_toxic_create_show_update_list_delete(api: Api, echo_proxy: tuple[str, int]) -> None:
    reply = api.request("POST", "/proxies/echo/toxics", {"type": "latency"})
    assert reply.status == 200  # Toxiproxy answers 200, not 201, for a new toxic
    toxic = reply.json()
    assert toxic == {
        "attributes": {"latency": 0, "jitter": 0},
        "name": "latency_downstream",
        "type": "latency",
        "stream": "downstream",
        "toxicity": 1,
    }
    assert list(toxic) == ["attributes", "name", "type", "stream", "toxicity"]
    assert api.ok("GET", "/proxies/echo/toxics/latency_downstream") == toxic

    for method, change, expected in [
        ("POST", {"attributes": {"latency": 100}}, {"latency": 100, "jitter": 0}),
        ("PATCH", {"attributes": {"jitter": 5}, "toxicity": 0.5}, {"latency": 100, "jitter": 5}),
    ]:
        updated = api.ok(method, "/proxies/echo/toxics/latency_downstream", change)
        assert updated["attributes"] == expected
    assert updated["toxicity"] == 0.5

    up = api.add_toxic("echo", type="bandwidth", stream="upstream", attributes={"rate": 10})
    assert up["name"] == "bandwidth_upstream"
    listed = api.ok("GET", "/proxies/echo/toxics")
    assert [t["name"] for t in listed] == ["bandwidth_upstream", "latency_downstream"]  # upstream first
    assert api.ok("GET", "/proxies/echo")["toxics"] == listed

    deleted = api.request("DELETE", "/proxies/echo/toxics/latency_downstream")
    assert (deleted.status, deleted.body) == (204, b"")
    gone = api.request("GET", "/proxies/echo/toxics/latency_downstream")
    assert (gone.status, gone.json()) == (404, {"error": "toxic not found", "status": 404})


@pytest.mark.parametrize(
    ("toxic", "status", "error"),
    [
        ({"type": "latency", "name": "dup"}, 409, "toxic already exists"),
        ({"type": "lag"}, 400, "invalid toxic type"),
        ({}, 400, "invalid toxic type"),
        ({"type": "latency", "stream": "sideways"}, 400, "stream was invalid, can be either upstream or downstream"),
        (
            {"type": "latency", "attributes": {"latency": "slow"}},
            400,
            "bad request body: json: cannot unmarshal string into Go struct field"
            " LatencyToxic.attributes.latency of type int64",
        ),
        ({"type": "latency", "attributes": {"latency": 1.5}}, 400, "cannot unmarshal number 1.5"),
        ({"type": "latency", "toxicity": "all"}, 400, "ToxicWrapper.toxicity of type float32"),
        ({"type": "bandwidth", "attributes": {"rate": -1}}, 400, "bad request body: rate: must be 0 or more"),
        ({"type": "slicer", "attributes": {"average_size": 0}}, 400, "bad request body: average_size: must be"),
        ({"type": "slicer", "attributes": {"average_size": 10, "size_variation": 10}}, 400, "size_variation: must be"),
        ({"type": "latency", "ttl_s": 0}, 400, "bad request body: ttl_s: must be a number of seconds above 0"),
        ({"type": "latency", "ttl_s": 1e400}, 400, "bad request body: ttl_s: must be a number of seconds above 0"),
    ],
)
def test_toxic_create_refuses(
    api: Api, echo_proxy: tuple[str, int], toxic: dict[str, object], status: int, error: str
) -> None:
    api.add_toxic("echo", type="latency", name="dup")
    reply = api.request("POST", "/proxies/echo/toxics", toxic)
    assert (reply.status, reply.json()["status"]) == (status, status)
    assert error in reply.json()["error"]
    assert [t["name"] for t in api.ok("GET", "/proxies/echo/toxics")] == ["dup"]


def test_toxic_endpoints_of_a_missing_proxy_or_toxic(api: Api, echo_proxy: tuple[str, int]) -> None:
    proxy_missing = {"error": "proxy not found", "status": 404}
    toxic_missing = {"error": "toxic not found", "status": 404}
    for method, path, body in [
        ("GET", "/proxies/nope/toxics", None),
        ("POST", "/proxies/nope/toxics", {"type": "latency"}),
        ("GET", "/proxies/nope/toxics/t", None),
        ("PATCH", "/proxies/nope/toxics/t", {}),
        ("DELETE", "/proxies/nope/toxics/t", None),
    ]:
        assert api.request(method, path, body).json() == proxy_missing, (method, path)
    for method in ("GET", "POST", "PATCH", "DELETE"):
        reply = api.request(method, "/proxies/echo/toxics/t", b"{bad json" if method in ("POST", "PATCH") else None)
        assert (reply.status, reply.json()) == (404, toxic_missing), method  # looked up before the body is read
    api.add_toxic("echo", type="latency", name="t")
    reply = api.request("PATCH", "/proxies/echo/toxics/t", {"attributes": {"jitter": "x"}})
    assert reply.status == 400 and "LatencyToxic.attributes.jitter" in reply.json()["error"]


def test_toxic_defaults_follow_toxiproxy(api: Api, echo_proxy: tuple[str, int]) -> None:
    expected = {
        "latency": {"latency": 0, "jitter": 0},
        "bandwidth": {"rate": 0},
        "slow_close": {"delay": 0},
        "timeout": {"timeout": 0},
        "reset_peer": {"timeout": 0},
        "slicer": {"average_size": 100, "size_variation": 0, "delay": 0},
        "limit_data": {"bytes": 0},
        "noop": {},
    }
    for toxic_type, attributes in expected.items():
        given = {"average_size": 100} if toxic_type == "slicer" else {}
        toxic = api.add_toxic("echo", type=toxic_type, stream="UpStream", attributes=given)
        assert (toxic["name"], toxic["stream"]) == (f"{toxic_type}_UpStream", "UpStream")
        assert toxic["attributes"] == attributes


def test_reset_enables_proxies_and_removes_toxics(api: Api, servers: Servers) -> None:
    address = api.create("db", servers.echo_address)
    api.add_toxic("db", type="latency", attributes={"latency": 1000})
    api.ok("PATCH", "/proxies/db", {"enabled": False})
    reply = api.request("POST", "/reset")
    assert (reply.status, reply.body) == (204, b"")
    shown = api.ok("GET", "/proxies/db")
    assert (shown["enabled"], shown["toxics"]) == (True, [])
    connect(address).close()


def test_routing_errors_and_browsers(api: Api, echo_proxy: tuple[str, int]) -> None:
    missing = api.request("GET", "/nothing")
    assert (missing.status, missing.body) == (404, b"404 page not found\n")
    assert api.request("GET", "/proxies/").status == 404
    assert api.request("DELETE", "/proxies").status == 405
    assert api.request("PUT", "/proxies/echo").status == 405
    browser = api.request("GET", "/proxies", headers={"User-Agent": "Mozilla/5.0"})
    assert (browser.status, browser.body) == (403, b"User agent not allowed\n")


def test_names_are_url_decoded(api: Api, servers: Servers) -> None:
    api.create("a b/c", servers.echo_address)
    assert api.ok("GET", "/proxies/a%20b%2Fc")["name"] == "a b/c"
    api.ok("POST", "/proxies/a%20b%2Fc/toxics", {"type": "noop", "name": "n/1"})
    assert api.ok("GET", "/proxies/a%20b%2Fc/toxics/n%2F1")["name"] == "n/1"


def test_keep_alive_chunked_bodies_and_malformed_requests(api: Api, servers: Servers) -> None:
    connection = http.client.HTTPConnection(api.host, api.port, timeout=10)
    try:
        for _ in range(3):  # one TCP connection, several requests
            connection.request("GET", "/version")
            assert connection.getresponse().read() == b'{"version": "2.12.0"}\n'
        body = iter([b'{"name": "chunky", ', b'"upstream": "' + servers.echo_address.encode() + b'"}'])
        connection.request("POST", "/proxies", body=body, encode_chunked=True, headers={"Transfer-Encoding": "chunked"})
        response = connection.getresponse()
        assert response.status == 201, response.read()
        response.read()
    finally:
        connection.close()

    with socket.create_connection((api.host, api.port), timeout=10) as raw:
        raw.sendall(b"NONSENSE\r\n\r\n")
        assert raw.recv(4096).startswith(b"HTTP/1.1 400 Bad Request")
    with socket.create_connection((api.host, api.port), timeout=10) as raw:
        raw.sendall(b"GET /version HTTP/1.0\r\n\r\n")  # HTTP/1.0: answered, then closed
        reply = b"".join(iter(lambda: raw.recv(4096), b""))
        assert reply.startswith(b"HTTP/1.1 200 OK") and reply.endswith(b'{"version": "2.12.0"}\n')
