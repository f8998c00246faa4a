"""The shop's catalog: 50 deterministic products, shared by inventory and the web cache.

Deterministic so that every process (inventory, and a web worker serving its cached
stock during a downgrade) agrees on names and prices without talking to each other.
"""

from __future__ import annotations

from typing import Any

from shop.httpkit import HTTPError

SKU_COUNT = 50
MAX_QTY = 100
_NAMES = ("Widget", "Gadget", "Sprocket", "Gizmo", "Doohickey", "Flange", "Bracket", "Valve")


def sku(number: int) -> str:
    return f"sku-{number:03d}"


def initial_product(number: int) -> dict[str, Any]:
    """Product `number` (1..SKU_COUNT) as inventory starts with it."""
    return {
        "sku": sku(number),
        "name": f"{_NAMES[number % len(_NAMES)]} {number:03d}",
        "stock": 200 + (number * 37) % 300,
        "base_price": round(4.99 + number * 1.25, 2),
    }


def initial_catalog() -> dict[str, dict[str, Any]]:
    """sku -> product for every sku in the catalog."""
    return {sku(n): initial_product(n) for n in range(1, SKU_COUNT + 1)}


def validate_reservation(body: dict[str, Any]) -> tuple[str, int]:
    """(sku, qty) of a reservation or checkout body, or a 400 naming the bad field."""
    item = body.get("sku")
    if not isinstance(item, str) or not item:
        raise HTTPError(400, "sku: expected a non-empty string")
    qty = body.get("qty", 1)
    if isinstance(qty, bool) or not isinstance(qty, int) or not 1 <= qty <= MAX_QTY:
        raise HTTPError(400, f"qty: expected an integer between 1 and {MAX_QTY}")
    return item, qty
