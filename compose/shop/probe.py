"""Health probe for compose healthchecks: `python3 -m shop.probe URL`.

Exit 0 when an http:// URL answers 200, or a tcp://host:port accepts a connection, within
one second; otherwise exit 1 with a one-line reason on stderr. Healthchecks run it every
100 ms while a stack starts, so it imports only `socket` and `sys` (no urllib, no http).
"""

from __future__ import annotations

import socket
import sys
import time

TIMEOUT_S = 1.0


def split_url(url: str) -> tuple[str, str, int, str]:
    """(scheme, host, port, path) of an http:// or tcp:// URL."""
    scheme, sep, rest = url.partition("://")
    if not sep or scheme not in ("http", "tcp"):
        raise ValueError(f"unsupported URL {url!r} (want http://... or tcp://host:port)")
    hostport, slash, path = rest.partition("/")
    host, colon, port = hostport.rpartition(":")
    if not colon:
        host, port = hostport, "80" if scheme == "http" else ""
    if not port.isdigit():
        raise ValueError(f"no port in {url!r}")
    return scheme, host.strip("[]"), int(port), "/" + path if slash else "/"


def probe(url: str) -> str | None:
    """None when healthy, else the reason."""
    deadline = time.monotonic() + TIMEOUT_S
    scheme, host, port, path = split_url(url)
    with socket.create_connection((host, port), timeout=TIMEOUT_S) as sock:
        if scheme == "tcp":
            return None
        sock.sendall(f"GET {path} HTTP/1.0\r\nHost: {host}:{port}\r\n\r\n".encode())
        head = b""
        while b"\r\n" not in head:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return "timed out waiting for the status line"
            sock.settimeout(remaining)
            chunk = sock.recv(1024)
            if not chunk:
                return "connection closed before a status line"
            head += chunk
    status_line = head.split(b"\r\n", 1)[0].decode("latin-1")
    parts = status_line.split(None, 2)
    if len(parts) < 2 or parts[1] != "200":
        return f"answered {status_line!r}"
    return None


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        sys.stderr.write("usage: python3 -m shop.probe URL\n")
        return 1
    try:
        reason = probe(argv[0])
    except (OSError, ValueError) as exc:
        reason = str(exc) or type(exc).__name__
    if reason is None:
        return 0
    sys.stderr.write(f"probe {argv[0]}: {reason}\n")
    return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
