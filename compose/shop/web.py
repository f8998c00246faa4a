"""web-N: a prefork app node (`python3 -m shop.web`).

Environment: NODE_NAME, BIND, PORT, WORKERS (4), CONFIG_URL, POLL_S (0.2),
INVENTORY_URL, INVENTORY_TIMEOUT_S (1.0). The process machinery is shop.prefork, the
request handling shop.webapp.
"""

from __future__ import annotations

import socket
import time

from shop import httpkit
from shop.prefork import Master
from shop.promstats import RequestStats
from shop.webapp import ROUTES, App, run_worker
from shop.webstate import NodeState

BACKLOG = 128


def main() -> None:
    node = httpkit.env_str("NODE_NAME", "web-1")
    started = time.monotonic()
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(httpkit.bind_address())
    sock.listen(BACKLOG)
    workers = max(1, httpkit.env_int("WORKERS", 4))
    master = Master(node, sock, workers,
                    httpkit.env_str("CONFIG_URL", "http://127.0.0.1:18000"), httpkit.env_float("POLL_S", 0.2))
    app = App(node, httpkit.env_str("INVENTORY_URL", "http://127.0.0.1:18002"),
              httpkit.env_float("INVENTORY_TIMEOUT_S", 1.0), NodeState(master.state_path), master.counters,
              started, RequestStats(ROUTES, slots=workers, shared=True))
    host, port = sock.getsockname()[:2]
    httpkit.log("web", f"{node} listening on {host}:{port}")
    master.run(lambda slot: run_worker(app, sock, slot))


if __name__ == "__main__":
    main()
