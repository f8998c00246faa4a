"""Free loopback ports for one run: outside the ephemeral range, reserved machine-wide.

"Bind to port 0, close, hand the number on" has two holes on a busy machine. The kernel
gives ports of its ephemeral range to every outgoing connection too (the load, probes,
the web nodes' calls to inventory), so one can take the number before the service binds
it; and a parallel run allocating at the same moment can be handed the same number. So
ports are drawn at random from below the ephemeral range, where connect() never lands,
checked free by binding them, and reserved with an flock'd file in a directory every
gamedrill process on the machine shares. A reservation lasts until the run releases it
(its backend's `down()`) or its process dies, whichever comes first: the kernel drops an
flock with its holder, so a killed harness never strands a port.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import random
import socket
import tempfile
import threading
from collections.abc import Collection, Iterable
from pathlib import Path

from harness.errors import StackError
from harness.liveruns import shared_dir
from harness.stack.compose_model import ComposeProject

RESERVATIONS = Path(tempfile.gettempdir()) / "gamedrill-ports"
LOWEST_PORT = 20000  # below: well-known and registered services people run
TRIES_PER_PORT = 500

_held: dict[int, int] = {}  # port -> descriptor of its flock'd reservation file
_held_lock = threading.Lock()
_rng = random.SystemRandom()


def allocate_ports(names: Iterable[str], host: str = "127.0.0.1", avoid: Collection[int] = ()) -> dict[str, int]:
    """A distinct free port per name, each reserved for this process until released; none of
    `avoid` (ports the stack fixes for itself, free now but bound once it starts)."""
    ports: dict[str, int] = {}
    avoided = frozenset(avoid)
    try:
        for name in names:
            ports[name] = _reserve_one(host, avoided)
    except BaseException:
        release_ports(ports.values())
        raise
    return ports


def free_port(host: str = "127.0.0.1") -> int:
    return allocate_ports(["port"], host)["port"]


def ports_of(project: ComposeProject) -> dict[str, str]:
    """The run's `*_PORT` variables (what stack.json keeps, so a resumed run finds its stack)."""
    return {name: value for name, value in project.variables.items() if name.endswith("_PORT")}


def release_ports(ports: Iterable[int]) -> None:
    """Give reservations back (ports this process does not hold are ignored)."""
    with _held_lock:
        for port in ports:
            fd = _held.pop(port, None)
            if fd is not None:
                os.close(fd)  # closing drops the flock


def candidate_range() -> tuple[int, int]:
    """Where to draw from: below the ephemeral range, else above it, else (no room) inside it."""
    low, high = _ephemeral_range()
    if low - 1 - LOWEST_PORT >= 1000:
        return LOWEST_PORT, low - 1
    if 65535 - high >= 1000:
        return high + 1, 65535
    return low, high


def _reserve_one(host: str, avoid: frozenset[int] = frozenset()) -> int:
    low, high = candidate_range()
    shared_dir(RESERVATIONS)
    for _ in range(TRIES_PER_PORT):
        port = _rng.randint(low, high)
        if port in avoid:
            continue
        with _held_lock:
            if port in _held:
                continue
            fd = os.open(RESERVATIONS / str(port), os.O_CREAT | os.O_RDWR, 0o666)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:  # another gamedrill process holds it
                os.close(fd)
                continue
            if _bindable(host, port):
                _held[port] = fd
                return port
            os.close(fd)
    raise StackError(f"no free port on {host} in {low}-{high} after {TRIES_PER_PORT} tries")


def _bindable(host: str, port: int) -> bool:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        try:
            sock.bind((host, port))
        except OSError as exc:
            if exc.errno in (errno.EADDRINUSE, errno.EACCES):
                return False
            raise
    return True


def _ephemeral_range() -> tuple[int, int]:
    with contextlib.suppress(OSError, ValueError):
        low, high = Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()
        return int(low), int(high)
    return 32768, 60999  # Linux's default
