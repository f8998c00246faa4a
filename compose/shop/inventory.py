"""inventory: stock levels and reservations (`python3 -m shop.inventory`).

Web nodes reach it only through the proxy, so network faults land on this link.
"""

from __future__ import annotations

import copy
import threading
import time
from typing import Any

from shop import httpkit
from shop.catalog import initial_catalog, validate_reservation
from shop.httpkit import HTTPError
from shop.promstats import Exposition, RequestStats

SERVICE = "inventory"
# Clients that connect and never send (a leaked socket upstream) must not pin a thread forever.
IDLE_TIMEOUT_S = 10.0


class Inventory:
    """The stock book. One lock: reservations are read-modify-write."""

    def __init__(self) -> None:
        self._initial = initial_catalog()
        self._products = copy.deepcopy(self._initial)
        self._lock = threading.Lock()
        self.restocks = 0

    def get(self, sku: str) -> dict[str, Any]:
        with self._lock:
            product = self._products.get(sku)
            if product is None:
                raise HTTPError(404, f"unknown sku {sku!r}")
            return dict(product)

    def all(self) -> list[dict[str, Any]]:
        with self._lock:
            return [dict(p) for p in self._products.values()]

    def related(self, sku: str) -> dict[str, Any]:
        """A few other skus; unknown skus get the first few (what a real shop calls "popular")."""
        with self._lock:
            skus = sorted(self._products)
        start = skus.index(sku) + 1 if sku in skus else 0
        return {"sku": sku, "related": (skus[start:] + skus)[:3]}

    def reserve(self, sku: str, qty: int) -> dict[str, Any]:
        with self._lock:
            product = self._products.get(sku)
            if product is None:
                raise HTTPError(404, f"unknown sku {sku!r}")
            if product["stock"] < qty:
                # Restock instead of refusing: sustained drill load must not drain the shop
                # into 409s that would look like an incident nobody injected.
                product["stock"] += self._initial[sku]["stock"]
                self.restocks += 1
            product["stock"] -= qty
            return {**product, "reserved": qty}


class InventoryHandler(httpkit.JSONHandler):
    timeout = IDLE_TIMEOUT_S
    stock: Inventory
    counters: httpkit.Counters
    started: float

    def route(self) -> None:
        path = self.path.split("?", 1)[0]
        if self.command in ("GET", "HEAD"):
            if path.startswith("/stock/"):
                self.send_json(200, self.stock.get(path[len("/stock/"):]))
                return
            if path.startswith("/recommendations/"):
                self.send_json(200, self.stock.related(path[len("/recommendations/"):]))
                return
            if path == "/stock":
                self.send_json(200, {"products": self.stock.all()})
                return
            if path == "/healthz":
                self.send_json(200, {"status": "ok"})
                return
            if path == "/metrics":
                self.send_metrics(self.metrics, self.exposition)
                return
        elif self.command == "POST" and path == "/reserve":
            sku, qty = validate_reservation(self.read_json())
            self.send_json(200, self.stock.reserve(sku, qty))
            return
        raise HTTPError(404, f"no route for {self.command} {path}")

    def metrics(self) -> dict[str, Any]:
        metrics = httpkit.base_metrics(SERVICE, self.started, self.counters.requests, self.counters.errors)
        metrics["restocks"] = self.stock.restocks
        return metrics

    def exposition(self) -> Exposition:
        out = httpkit.base_exposition(self.started)
        assert self.stats is not None
        self.stats.render(out)
        out.gauge("shop_inventory_restocks_total", "Automatic restocks so far.", self.stock.restocks, kind="counter")
        return out


def main() -> None:
    InventoryHandler.stock = Inventory()
    InventoryHandler.counters = InventoryHandler.recorder = httpkit.Counters()
    InventoryHandler.stats = RequestStats(("stock", "recommendations", "reserve", "healthz", "metrics"))
    InventoryHandler.started = time.monotonic()
    httpkit.serve(httpkit.make_server(SERVICE, InventoryHandler))


if __name__ == "__main__":
    main()
