"""`python -m harness.proxy` itself: flags, start-up config, bad input, SIGTERM."""

from __future__ import annotations

import json
import select
import socket
import subprocess
import sys
import time
from pathlib import Path

from proxyhelpers import Api, Servers, connect, host_port, receive_all, receive_exactly

from harness.proxy.child import proxy_server


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def run_server(*args: str) -> subprocess.CompletedProcess[str]:
    """A server that must refuse to start: it exits by itself."""
    command = [sys.executable, "-m", "harness.proxy", "-port", "0", *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)


def echoes(address: tuple[str, int]) -> bool:
    with connect(address) as sock:
        sock.sendall(b"hello")
        return receive_exactly(sock, 5) == b"hello"


def test_proxies_from_flags_and_config_then_sigterm(tmp_path: Path, servers: Servers) -> None:
    flagged, configured = free_port(), free_port()
    config = tmp_path / "proxies.json"
    config.write_text(
        json.dumps([{"name": "from_file", "listen": f"127.0.0.1:{configured}", "upstream": servers.echo_address}])
    )
    with proxy_server(
        tmp_path / "proxy.log",
        "-config",
        str(config),
        "--proxy",
        f"inventory=127.0.0.1:{flagged}={servers.echo_address}",
    ) as child:
        proxies = Api(child.address).ok("GET", "/proxies")
        assert sorted(proxies) == ["from_file", "inventory"]
        assert proxies["inventory"]["listen"] == f"127.0.0.1:{flagged}"
        assert echoes(("127.0.0.1", flagged)) and echoes(("127.0.0.1", configured))
        assert child.stop() == 0  # SIGTERM: a clean exit
    assert "shutting down" in child.log()


def test_a_bad_config_file_names_file_line_and_field(tmp_path: Path) -> None:
    config = tmp_path / "proxies.json"
    config.write_text('[\n  {"name": "ok", "upstream": "127.0.0.1:1"},\n  {"name": "broken"}\n]\n')
    result = run_server("-config", str(config))
    assert result.returncode == 2
    assert f"{config}:3:3: proxy 2: missing required field: upstream" in result.stderr

    config.write_text('[{"name": "a", "upstream": "127.0.0.1:1", "enabled": "yes"}]')
    assert (
        "proxy 1: json: cannot unmarshal string into Go struct field Proxy.enabled"
        in run_server("-config", str(config)).stderr
    )

    config.write_text('[{"name": "a",\n  "upstream": }]')
    result = run_server("-config", str(config))
    assert result.returncode == 2 and f"{config}:2:15: invalid JSON" in result.stderr

    result = run_server("-config", str(tmp_path / "missing.json"))
    assert result.returncode == 2 and "missing.json: cannot read" in result.stderr


def test_bad_proxy_flags_are_refused(tmp_path: Path) -> None:
    result = run_server("--proxy", "inventory=127.0.0.1:1")
    assert result.returncode == 2 and "expected NAME=LISTEN=UPSTREAM" in result.stderr
    result = run_server("--proxy", "inventory=127.0.0.1=127.0.0.1:1")
    assert result.returncode == 2 and "LISTEN: address 127.0.0.1: missing port in address" in result.stderr


def test_a_proxy_that_cannot_listen_stops_the_start(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = run_server("--proxy", f"inventory=127.0.0.1:{port}=127.0.0.1:1")
    assert result.returncode == 1
    assert f"listen tcp 127.0.0.1:{port}: bind: address already in use" in result.stderr


def test_the_listen_address_it_reports_is_real(api: Api, servers: Servers) -> None:
    created = api.ok("POST", "/proxies", {"name": "echo", "listen": "localhost:0", "upstream": servers.echo_address})
    host, port = host_port(created["listen"])
    assert host == "127.0.0.1" and echoes((host, port))


def test_the_copy_loop_moves_streams_too(tmp_path: Path, servers: Servers) -> None:
    """Where there is no os.splice: the same behaviour through a recv/send loop."""
    sink, echo = free_port(), free_port()
    with proxy_server(
        tmp_path / "proxy.log",
        "--no-zero-copy",
        "--proxy",
        f"sink=127.0.0.1:{sink}={servers.sink_address}",
        "--proxy",
        f"echo=127.0.0.1:{echo}={servers.echo_address}",
    ):
        assert echoes(("127.0.0.1", echo))
        block = bytes(range(256)) * 4096
        with connect(("127.0.0.1", sink), timeout_s=30) as sock:
            for _ in range(16):
                sock.sendall(block)
            sock.shutdown(socket.SHUT_WR)
            assert receive_all(sock) == f"{16 * len(block)}\n".encode()


def test_a_half_closed_connection_lives_while_active_then_idles_out(tmp_path: Path) -> None:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        listen = free_port()
        upstream = f"127.0.0.1:{listener.getsockname()[1]}"
        with (
            proxy_server(
                tmp_path / "proxy.log", "--half-close-idle-s", "0.3", "--proxy", f"p=127.0.0.1:{listen}={upstream}"
            ),
            connect(("127.0.0.1", listen)) as client,
        ):
            listener.settimeout(10)
            server_side, _ = listener.accept()
            with server_side:
                server_side.shutdown(socket.SHUT_WR)  # the server has said all it will say...
                assert client.recv(10) == b""  # ...and the client hears the end of it
                for _ in range(8):  # the client keeps talking for 0.8 s, past the idle limit
                    client.sendall(b"ping")
                    assert receive_exactly(server_side, 4) == b"ping"
                    readable, _, _ = select.select([server_side], [], [], 0.1)
                    assert not readable
                began = time.monotonic()
                assert server_side.recv(10) == b""  # then silence: the proxy closes both sides
                assert 0.3 <= time.monotonic() - began <= 2.0
