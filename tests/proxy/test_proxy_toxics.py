"""Each toxic's measured effect on real connections through the proxy.

Tolerances: latency and bandwidth within 10% (medians or totals, so one scheduling hiccup
on a busy machine does not decide), limit_data to the byte, reset_peer a real RST.
"""

from __future__ import annotations

import asyncio
import select
import socket
import statistics
import time

import pytest
from proxyhelpers import Api, Servers, connect, host_port, receive_all, receive_exactly

PAYLOAD = b"0123456789abcdef" * 4


def round_trip_s(sock: socket.socket, payload: bytes = PAYLOAD) -> float:
    began = time.monotonic()
    sock.sendall(payload)
    assert receive_exactly(sock, len(payload)) == payload
    return time.monotonic() - began


def median_round_trip_s(address: tuple[str, int], trips: int = 5) -> float:
    with connect(address) as sock:
        return statistics.median(round_trip_s(sock) for _ in range(trips))


def nothing_arrives_within(sock: socket.socket, seconds: float) -> bool:
    readable, _, _ = select.select([sock], [], [], seconds)
    return not readable


def pattern(size: int) -> bytes:
    return bytes(i % 251 for i in range(size))


@pytest.mark.parametrize("stream", ["downstream", "upstream"])
def test_latency_adds_its_delay_to_each_direction(api: Api, echo_proxy: tuple[str, int], stream: str) -> None:
    baseline = median_round_trip_s(echo_proxy)
    api.add_toxic("echo", type="latency", stream=stream, attributes={"latency": 300})
    delayed = median_round_trip_s(echo_proxy)
    assert 0.3 * 0.9 <= delayed - baseline <= 0.3 * 1.1, (baseline, delayed)


def test_latencies_in_a_chain_add_up(api: Api, echo_proxy: tuple[str, int]) -> None:
    api.add_toxic("echo", type="latency", name="a", attributes={"latency": 150})
    api.add_toxic("echo", type="latency", name="b", attributes={"latency": 150})
    assert 0.3 * 0.9 <= median_round_trip_s(echo_proxy, trips=3) <= 0.3 * 1.1 + 0.05


def test_jitter_spreads_the_delay(api: Api, echo_proxy: tuple[str, int]) -> None:
    api.add_toxic("echo", type="latency", attributes={"latency": 200, "jitter": 100})
    with connect(echo_proxy) as sock:
        delays = [round_trip_s(sock) for _ in range(12)]
    assert all(0.1 * 0.9 <= delay <= 0.3 * 1.1 + 0.05 for delay in delays), delays
    assert max(delays) - min(delays) > 0.05, delays


def test_toxics_apply_to_live_connections(api: Api, echo_proxy: tuple[str, int]) -> None:
    with connect(echo_proxy) as sock:
        before = round_trip_s(sock)
        api.add_toxic("echo", type="latency", attributes={"latency": 300})
        during = statistics.median(round_trip_s(sock) for _ in range(3))
        api.request("DELETE", "/proxies/echo/toxics/latency_downstream")
        after = round_trip_s(sock)
    assert 0.27 <= during - before <= 0.33, (before, during)
    assert after < 0.2, after


def test_a_removed_latency_lets_the_data_it_held_go_at_once(api: Api, echo_proxy: tuple[str, int]) -> None:
    api.add_toxic("echo", type="latency", attributes={"latency": 5000})
    with connect(echo_proxy) as sock:
        sock.sendall(PAYLOAD)
        assert nothing_arrives_within(sock, 0.3)
        began = time.monotonic()
        api.request("DELETE", "/proxies/echo/toxics/latency_downstream")
        assert receive_exactly(sock, len(PAYLOAD)) == PAYLOAD  # nothing dropped on the floor
        assert time.monotonic() - began < 1.0


@pytest.mark.parametrize("stream", ["downstream", "upstream"])
def test_bandwidth_limits_the_rate(api: Api, servers: Servers, stream: str) -> None:
    rate_kb_s, size = 400, 400_000  # one second's worth
    address = api.create("sink", servers.sink_address)
    echo = api.create("echo", servers.echo_address)
    api.add_toxic(
        "sink" if stream == "upstream" else "echo", type="bandwidth", stream=stream, attributes={"rate": rate_kb_s}
    )
    data = pattern(size)
    with connect(address if stream == "upstream" else echo) as sock:
        began = time.monotonic()
        sock.sendall(data)
        if stream == "upstream":
            sock.shutdown(socket.SHUT_WR)
            assert receive_all(sock) == f"{size}\n".encode()
        else:
            assert receive_exactly(sock, size) == data
        elapsed = time.monotonic() - began
    expected = size / (rate_kb_s * 1000)
    assert expected * 0.9 <= elapsed <= expected * 1.1, elapsed


def test_bandwidth_can_be_changed_and_removed_mid_stream(api: Api, echo_proxy: tuple[str, int]) -> None:
    api.add_toxic("echo", type="bandwidth", attributes={"rate": 20})
    data = pattern(300_000)
    with connect(echo_proxy, timeout_s=20) as sock:
        sock.sendall(data)
        first = receive_exactly(sock, 2_000)
        # Rate 0 holds the data (Toxiproxy would spin); the chunk the toxic was slicing goes
        # out first, as an interrupted toxic forwards what it holds.
        api.ok("PATCH", "/proxies/echo/toxics/bandwidth_downstream", {"attributes": {"rate": 0}})
        while not nothing_arrives_within(sock, 0.3):
            more = sock.recv(65536)
            assert more, "closed early"
            first += more
        assert len(first) < len(data) - 100_000
        began = time.monotonic()
        api.request("DELETE", "/proxies/echo/toxics/bandwidth_downstream")
        rest = receive_exactly(sock, len(data) - len(first))
        assert time.monotonic() - began < 2
    assert first + rest == data


def test_limit_data_lets_exactly_that_many_bytes_through(api: Api, echo_proxy: tuple[str, int]) -> None:
    api.add_toxic("echo", type="limit_data", attributes={"bytes": 1000})
    data = pattern(4000)
    with connect(echo_proxy) as sock:
        sock.sendall(data)
        received = receive_all(sock)
    assert received == data[:1000]


def test_limit_data_counts_across_updates(api: Api, echo_proxy: tuple[str, int]) -> None:
    api.add_toxic("echo", type="limit_data", attributes={"bytes": 100})
    with connect(echo_proxy) as sock:
        assert round_trip_s(sock, b"x" * 60) >= 0
        api.ok("PATCH", "/proxies/echo/toxics/limit_data_downstream", {"attributes": {"bytes": 80}})
        sock.sendall(b"y" * 60)
        assert receive_all(sock) == b"y" * 20


def test_reset_peer_is_a_real_rst(api: Api, echo_proxy: tuple[str, int]) -> None:
    api.add_toxic("echo", type="reset_peer", attributes={"timeout": 0})
    with connect(echo_proxy) as sock:
        sock.sendall(PAYLOAD)
        with pytest.raises(ConnectionResetError):
            sock.recv(100)


def test_reset_peer_waits_its_timeout(api: Api, echo_proxy: tuple[str, int]) -> None:
    api.add_toxic("echo", type="reset_peer", stream="upstream", attributes={"timeout": 300})
    with connect(echo_proxy) as sock:
        began = time.monotonic()
        sock.sendall(PAYLOAD)
        with pytest.raises(ConnectionResetError):
            sock.recv(100)
        assert 0.3 <= time.monotonic() - began <= 0.3 * 1.1 + 0.1


def test_slow_close_delays_the_close(api: Api, echo_proxy: tuple[str, int]) -> None:
    api.add_toxic("echo", type="slow_close", attributes={"delay": 500})
    with connect(echo_proxy) as sock:
        assert round_trip_s(sock) < 0.5  # data is not delayed
        began = time.monotonic()
        sock.shutdown(socket.SHUT_WR)  # the echo server closes when we do
        assert sock.recv(100) == b""
        assert 0.5 <= time.monotonic() - began <= 0.5 * 1.1 + 0.1


def test_timeout_stops_the_data_then_closes(api: Api, echo_proxy: tuple[str, int]) -> None:
    api.add_toxic("echo", type="timeout", attributes={"timeout": 400})
    with connect(echo_proxy) as sock:
        began = time.monotonic()
        sock.sendall(PAYLOAD)
        assert receive_all(sock) == b""
        assert 0.4 <= time.monotonic() - began <= 0.4 * 1.1 + 0.1


def test_timeout_zero_holds_the_connection_until_removed(api: Api, echo_proxy: tuple[str, int]) -> None:
    api.add_toxic("echo", type="timeout", stream="upstream", attributes={"timeout": 0})
    with connect(echo_proxy) as sock:
        sock.sendall(PAYLOAD)
        assert nothing_arrives_within(sock, 0.5)
        api.request("DELETE", "/proxies/echo/toxics/timeout_upstream")
        assert receive_all(sock) == b""  # removing it closes what it held, as in Toxiproxy


def test_slicer_cuts_the_stream_into_small_pieces(api: Api, echo_proxy: tuple[str, int]) -> None:
    api.add_toxic("echo", type="slicer", attributes={"average_size": 50, "size_variation": 20, "delay": 2000})
    data = pattern(5000)
    reads = []
    with connect(echo_proxy) as sock:
        sock.sendall(data)
        while sum(map(len, reads)) < len(data):
            reads.append(sock.recv(65536))
            assert reads[-1], "closed early"
    assert b"".join(reads) == data
    assert len(reads) >= 20 and max(map(len, reads)) < 1000, [len(r) for r in reads]


def test_slicer_without_variation_works(api: Api, echo_proxy: tuple[str, int]) -> None:
    api.add_toxic("echo", type="slicer", attributes={"average_size": 7})  # Toxiproxy panics on this
    data = pattern(3000)
    with connect(echo_proxy) as sock:
        sock.sendall(data)
        assert receive_exactly(sock, len(data)) == data


def test_toxicity_decides_per_connection(api: Api, echo_proxy: tuple[str, int]) -> None:
    api.add_toxic("echo", type="latency", name="never", toxicity=0.0, attributes={"latency": 1000})
    assert median_round_trip_s(echo_proxy, trips=1) < 0.5
    api.request("DELETE", "/proxies/echo/toxics/never")

    api.add_toxic("echo", type="latency", name="half", toxicity=0.5, attributes={"latency": 200})
    delayed = sum(median_round_trip_s(echo_proxy, trips=1) >= 0.18 for _ in range(16))
    assert 2 <= delayed <= 14, delayed


def test_noop_passes_everything(api: Api, echo_proxy: tuple[str, int]) -> None:
    api.add_toxic("echo", type="noop", stream="upstream")
    data = pattern(200_000)
    with connect(echo_proxy) as sock:
        sock.sendall(data)
        assert receive_exactly(sock, len(data)) == data


def test_half_close_keeps_the_reply(api: Api, servers: Servers) -> None:
    """Toxiproxy closes both sides on the client's EOF and loses the reply; we do not."""
    address = api.create("sink", servers.sink_address)
    for with_toxic in (False, True):
        if with_toxic:
            api.add_toxic("sink", type="latency", attributes={"latency": 100})
        with connect(address) as sock:
            sock.sendall(b"x" * 12345)
            sock.shutdown(socket.SHUT_WR)
            assert receive_all(sock) == b"12345\n"


def test_unreachable_upstream_closes_the_client(api: Api) -> None:
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        dead = f"127.0.0.1:{unused.getsockname()[1]}"
    address = api.create("dead", dead)
    with connect(address) as sock:
        assert receive_all(sock) == b""


def test_disabling_closes_connections_and_stops_listening(api: Api, echo_proxy: tuple[str, int]) -> None:
    api.add_toxic("echo", type="latency", attributes={"latency": 10})
    with connect(echo_proxy) as plain:
        round_trip_s(plain)
        api.ok("PATCH", "/proxies/echo", {"enabled": False})
        assert receive_all(plain) == b""
    with pytest.raises(ConnectionRefusedError):
        connect(echo_proxy, timeout_s=2)
    api.ok("PATCH", "/proxies/echo", {"enabled": True})
    assert median_round_trip_s(echo_proxy, trips=1) < 1  # the toxic stays
    assert host_port(api.ok("GET", "/proxies/echo")["listen"]) == echo_proxy


def test_a_stream_survives_toxics_churning_under_it(api: Api, echo_proxy: tuple[str, int]) -> None:
    """Every add and remove moves the link between the data plane and the toxic chain."""
    size = 16 << 20
    data = bytes((i * 7) % 251 for i in range(size))
    toxics = [
        {"type": "latency", "name": "l", "attributes": {"latency": 2}},
        {"type": "slicer", "name": "s", "stream": "upstream", "attributes": {"average_size": 3000}},
        {"type": "bandwidth", "name": "b", "attributes": {"rate": 100_000}},
        {"type": "noop", "name": "n", "stream": "upstream"},
    ]

    async def churn() -> tuple[bytes, int]:
        reader, writer = await asyncio.open_connection(*echo_proxy)

        async def send() -> None:
            for start in range(0, size, 65536):
                writer.write(data[start : start + 65536])
                await writer.drain()

        sending = asyncio.create_task(send())
        receiving = asyncio.create_task(reader.readexactly(size))
        toggles = 0
        while not receiving.done() and toggles < 200:
            toxic = toxics[toggles % len(toxics)]
            await asyncio.to_thread(api.add_toxic, "echo", **toxic)
            await asyncio.to_thread(api.request, "DELETE", f"/proxies/echo/toxics/{toxic['name']}")
            toggles += 1
        received = await receiving
        await sending
        writer.close()
        return received, toggles

    async def bounded() -> tuple[bytes, int]:
        async with asyncio.timeout(60):
            return await churn()

    received, toggles = asyncio.run(bounded())
    assert toggles >= 2, toggles
    assert received == data  # not a byte lost, doubled or out of order
