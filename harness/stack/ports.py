"""Free loopback ports for one run, chosen by the OS.

All sockets of one allocation stay bound until every port is chosen, so the ports of a
run are distinct; the kernel hands out ephemeral ports in sequence, so parallel runs get
different ones. The window between closing and the service binding is small, and services
set SO_REUSEADDR.
"""

from __future__ import annotations

import socket
from collections.abc import Iterable


def allocate_ports(names: Iterable[str], host: str = "127.0.0.1") -> dict[str, int]:
    held: list[socket.socket] = []
    ports: dict[str, int] = {}
    try:
        for name in names:
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            held.append(sock)
            sock.bind((host, 0))
            ports[name] = sock.getsockname()[1]
    finally:
        for sock in held:
            sock.close()
    return ports


def free_port(host: str = "127.0.0.1") -> int:
    return allocate_ports(["port"], host)["port"]
