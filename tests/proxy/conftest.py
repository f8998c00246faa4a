"""A real proxy server and a real echo server per test module, every proxy deleted after each test."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import quote

import pytest
from proxyhelpers import Api, Servers
from toxiproxy import Toxiproxy

from harness.proxy.child import echo_server, proxy_server

SEED = "7"  # toxicity and jitter rolls repeat from run to run


@pytest.fixture(scope="module")
def servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Servers]:
    logs = tmp_path_factory.mktemp("proxy")
    with echo_server(logs / "echo.log") as echo, proxy_server(logs / "proxy.log", "-seed", SEED) as proxy:
        yield Servers(proxy, echo)


@pytest.fixture
def api(servers: Servers) -> Iterator[Api]:
    """The API, with every proxy gone again after the test."""
    api = Api(servers.proxy.address)
    yield api
    for name in api.ok("GET", "/proxies"):
        api.request("DELETE", f"/proxies/{quote(name, safe='')}")


@pytest.fixture
def client(api: Api) -> Toxiproxy:
    """The toxiproxy-python client, pointed at our server."""
    toxiproxy = Toxiproxy()
    toxiproxy.update_api_consumer(api.host, api.port)
    return toxiproxy


@pytest.fixture
def echo_proxy(api: Api, servers: Servers) -> tuple[str, int]:
    """A proxy named `echo` in front of the echo server."""
    return api.create("echo", servers.echo_address)
