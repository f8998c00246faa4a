"""`host:port` strings as Toxiproxy takes and reports them, and the sockets behind them."""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from dataclasses import dataclass

# An empty `listen` makes Toxiproxy bind every interface; gamedrill only ever binds loopback.
DEFAULT_LISTEN = "127.0.0.1:0"


class AddressError(ValueError):
    """A `host:port` string that cannot be a TCP address; the message says why."""


@dataclass(frozen=True)
class HostPort:
    host: str  # as written, without IPv6 brackets; "" means every interface
    port: int

    @classmethod
    def parse(cls, text: str) -> HostPort:
        host, sep, port_text = text.rpartition(":")
        if not sep:
            raise AddressError(f"address {text}: missing port in address")
        if host.startswith("[") and host.endswith("]"):
            host = host[1:-1]
        elif ":" in host:
            raise AddressError(f"address {text}: too many colons in address")
        if not port_text.isdigit() or int(port_text) > 65535:
            raise AddressError(f"address {text}: invalid port {port_text!r}")
        return cls(host, int(port_text))

    def literal(self) -> tuple[socket.AddressFamily, str] | None:
        """The family and address when the host is an IP literal (no lookup needed)."""
        try:
            ip = ipaddress.ip_address(self.host)
        except ValueError:
            return None
        return (socket.AF_INET6 if ip.version == 6 else socket.AF_INET), str(ip)


def format_sockname(sockname: tuple[object, ...]) -> str:
    """`127.0.0.1:8474` or `[::1]:8474`, the way Go prints a listener's address."""
    host, port = str(sockname[0]), int(str(sockname[1]))
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def listen_error_address(address: HostPort, sockaddr: tuple[str, int]) -> str:
    """The address Go's net.Listen names when the bind fails: the resolved one it tried
    (`localhost:80` is `127.0.0.1:80`), or `:PORT` for an empty host."""
    return f":{address.port}" if not address.host else format_sockname(sockaddr)


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


async def resolve(address: HostPort, *, passive: bool) -> tuple[socket.AddressFamily, tuple[str, int]]:
    """One socket address for `address`: IPv4 first, as Go's dialer and listener prefer."""
    literal = address.literal()
    if literal is not None:
        return literal[0], (literal[1], address.port)
    if not address.host:
        return socket.AF_INET, ("0.0.0.0", address.port)
    loop = asyncio.get_running_loop()
    flags = socket.AI_PASSIVE if passive else 0
    try:
        infos = await loop.getaddrinfo(address.host, address.port, type=socket.SOCK_STREAM, flags=flags)
    except socket.gaierror as exc:
        raise AddressError(f"lookup {address.host}: {exc.strerror}") from exc
    infos.sort(key=lambda info: info[0] != socket.AF_INET)
    family, _, _, _, sockaddr = infos[0]
    return family, (str(sockaddr[0]), int(sockaddr[1]))
