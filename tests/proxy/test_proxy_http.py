"""The API's HTTP layer over real sockets: oversize and malformed bodies are refused before
they are read, answered at once, and the connection is closed.

Tolerance: an answer must arrive within ANSWER_S, far below the 15 s read timeout that a
server waiting for the declared bytes would hit first.
"""

from __future__ import annotations

import socket
import time

import pytest
from proxyhelpers import Api, receive_all

from harness.proxy.httpserver import MAX_BODY_BYTES, MAX_HEAD_BYTES

ANSWER_S = 5.0
HEAD = b"POST /proxies HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
CHUNKED = HEAD + b"Transfer-Encoding: chunked\r\n\r\n"


def exchange(api: Api, raw: bytes) -> tuple[bytes, float]:
    """Send `raw`, keep the connection open, and read until the server closes it."""
    with socket.create_connection((api.host, api.port), timeout=ANSWER_S) as sock:
        began = time.monotonic()
        sock.sendall(raw)
        reply = receive_all(sock)  # socket.timeout (a failure) if the server waits for more
        return reply, time.monotonic() - began


def status_of(reply: bytes) -> int:
    return int(reply.split(b" ", 2)[1])


def assert_still_serving(api: Api) -> None:
    assert api.request("GET", "/version").status == 200
    assert api.ok("GET", "/proxies") == {}


def test_a_huge_declared_chunk_is_refused_before_its_bytes_arrive(api: Api) -> None:
    reply, elapsed_s = exchange(api, CHUNKED + b"FFFFFFFF\r\n" + b"x" * 1000)
    assert status_of(reply) == 413, reply
    assert b"Connection: close" in reply and f"limit of {MAX_BODY_BYTES} bytes".encode() in reply
    assert elapsed_s < ANSWER_S
    assert_still_serving(api)


def test_the_running_total_of_chunks_is_checked_before_the_next_chunk(api: Api) -> None:
    first = 5 << 20  # under the limit alone; the next chunk's declared size takes the total over it
    second = MAX_BODY_BYTES - first + 1
    raw = CHUNKED + f"{first:x}\r\n".encode() + b" " * first + b"\r\n" + f"{second:x}\r\n".encode()
    reply, _ = exchange(api, raw)  # the second chunk's bytes are never sent: only its size
    assert status_of(reply) == 413, reply[:200]
    assert f"a chunk of {second} bytes after {first}".encode() in reply
    assert_still_serving(api)


def test_chunks_up_to_the_limit_are_still_read(api: Api) -> None:
    body = b'{"name": "big", "upstream": "127.0.0.1:1", "enabled": false, "pad": "' + b"p" * (MAX_BODY_BYTES - 200)
    body += b'"}'
    half = len(body) // 2
    raw = CHUNKED + b"".join(f"{len(part):x}\r\n".encode() + part + b"\r\n" for part in (body[:half], body[half:]))
    with socket.create_connection((api.host, api.port), timeout=30) as sock:
        sock.sendall(raw + b"0\r\n\r\n")
        reply = sock.recv(65536)
    assert status_of(reply) == 201, reply
    assert api.ok("GET", "/proxies/big")["enabled"] is False


@pytest.mark.parametrize("size", [b"zz", b"-5", b"0x10", b"+1", b"1_0", b""])
def test_a_malformed_chunk_size_is_a_bad_request(api: Api, size: bytes) -> None:
    reply, elapsed_s = exchange(api, CHUNKED + size + b"\r\n" + b"x" * 16)
    assert status_of(reply) == 400 and b"malformed chunk size" in reply, reply
    assert elapsed_s < ANSWER_S
    assert_still_serving(api)


def test_a_chunk_without_its_line_end_is_a_bad_request(api: Api) -> None:
    reply, _ = exchange(api, CHUNKED + b"2\r\n{}XX\r\n0\r\n\r\n")
    assert status_of(reply) == 400 and b"malformed chunked encoding" in reply


def test_an_oversize_content_length_gets_the_same_answer(api: Api) -> None:
    reply, elapsed_s = exchange(api, HEAD + f"Content-Length: {MAX_BODY_BYTES + 1}\r\n\r\n".encode() + b"{")
    assert status_of(reply) == 413, reply
    assert elapsed_s < ANSWER_S
    bad, _ = exchange(api, HEAD + b"Content-Length: -1\r\n\r\n")
    assert status_of(bad) == 400 and b"bad Content-Length" in bad


def test_endless_header_lines_are_refused(api: Api) -> None:
    lines = b"".join(b"X-Pad-%d: %s\r\n" % (i, b"h" * 1000) for i in range(MAX_HEAD_BYTES // 1000 + 1))
    reply, elapsed_s = exchange(api, HEAD + lines)
    assert status_of(reply) == 431, reply
    assert elapsed_s < ANSWER_S
    assert_still_serving(api)
