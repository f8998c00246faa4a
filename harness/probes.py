"""Synthetic per-node probes: a product page fetched straight from each web node.

They see a node the load balancer has isolated, and they tell which node is sick when
the load stream cannot (a request that timed out at the client names no node).
"""

from __future__ import annotations

import http.client
import threading
import time
from collections.abc import Callable

ProbeSink = Callable[[str, bool, float, float], None]  # node, ok, latency_ms, start t_s


class NodeProbes:
    def __init__(self, ports: dict[str, int], sink: ProbeSink, now_t_s: Callable[[], float],
                 interval_s: float = 0.5, timeout_s: float = 1.0, path: str = "/product/sku-001") -> None:
        self.ports, self.sink, self.now_t_s = ports, sink, now_t_s
        self.interval_s, self.timeout_s, self.path = interval_s, timeout_s, path
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=self._probe_loop, args=(node,), name=f"probe-{node}", daemon=True)
                         for node in ports]

    def start(self) -> None:
        for thread in self._threads:
            thread.start()

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=self.timeout_s + 1)

    def _probe_loop(self, node: str) -> None:
        while not self._stop.is_set():
            began_t_s, began = self.now_t_s(), time.perf_counter()
            ok = self._probe_once(self.ports[node])
            self.sink(node, ok, (time.perf_counter() - began) * 1000, began_t_s)
            self._stop.wait(self.interval_s)

    def _probe_once(self, port: int) -> bool:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=self.timeout_s)
        try:
            conn.request("GET", self.path)
            response = conn.getresponse()
            response.read()
            return response.status < 500
        except (OSError, http.client.HTTPException):
            return False
        finally:
            conn.close()
