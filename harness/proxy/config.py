"""Proxies to create at start: a `-config` file (a /populate body) and `--proxy` flags.

Toxiproxy logs a bad config file and carries on without it; here it stops the server with
`FILE:LINE:COL: message` naming the proxy and the field, before anything listens.
"""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

from harness.proxy import wire
from harness.proxy.addresses import AddressError, HostPort
from harness.proxy.collection import ProxyEntry
from harness.proxy.errors import ApiError

WIRE_PREFIX = "bad request body: "


class ConfigError(Exception):
    """Bad startup input; the message says where and what."""


def load_config(path: Path) -> list[ProxyEntry]:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read: {exc}") from exc
    entries: list[ProxyEntry] = []
    for number, (value, line, column) in enumerate(json_list_items(text, path), start=1):
        where = f"{path}:{line}:{column}: proxy {number}"
        try:
            entry = ProxyEntry.from_json(wire.expect_object(value, "toxiproxy.Proxy"))
            if entry.enabled:
                entry.check_addresses()
        except ApiError as exc:
            raise ConfigError(f"{where}: {exc.message.removeprefix(WIRE_PREFIX)}") from exc
        if entry.name in {seen.name for seen in entries}:
            raise ConfigError(f"{where}: name: {entry.name!r} is already used by an earlier proxy")
        entries.append(entry)
    return entries


def json_list_items(text: str, path: Path) -> list[tuple[Any, int, int]]:
    """The items of the JSON list in `text`, each with the line and column where it starts."""
    decoder = json.JSONDecoder(parse_float=Decimal)

    def fail(position: int, message: str) -> ConfigError:
        line, column = line_column(text, position)
        return ConfigError(f"{path}:{line}:{column}: {message}")

    position = skip_space(text, 0)
    if not text.startswith("[", position):
        raise fail(position, "expected a JSON list of proxies, like a /populate body")
    position = skip_space(text, position + 1)
    items: list[tuple[Any, int, int]] = []
    if text.startswith("]", position):
        return items
    while True:
        try:
            value, end = decoder.raw_decode(text, position)
        except json.JSONDecodeError as exc:
            raise ConfigError(f"{path}:{exc.lineno}:{exc.colno}: invalid JSON: {exc.msg}") from exc
        items.append((value, *line_column(text, position)))
        position = skip_space(text, end)
        if text.startswith("]", position):
            return items
        if not text.startswith(",", position):
            raise fail(position, "invalid JSON: expected ',' or ']' after a proxy")
        position = skip_space(text, position + 1)


def skip_space(text: str, position: int) -> int:
    while position < len(text) and text[position] in " \t\r\n":
        position += 1
    return position


def line_column(text: str, position: int) -> tuple[int, int]:
    line = text.count("\n", 0, position) + 1
    return line, position - (text.rfind("\n", 0, position) + 1) + 1


def parse_proxy_flag(value: str) -> ProxyEntry:
    """`--proxy NAME=LISTEN=UPSTREAM`, LISTEN and UPSTREAM being host:port."""
    parts = value.split("=")
    if len(parts) != 3 or not all(parts):
        raise ConfigError(f"--proxy {value!r}: expected NAME=LISTEN=UPSTREAM, e.g. db=127.0.0.1:15432=127.0.0.1:5432")
    name, listen, upstream = parts
    for field, address in (("LISTEN", listen), ("UPSTREAM", upstream)):
        try:
            HostPort.parse(address)
        except AddressError as exc:
            raise ConfigError(f"--proxy {value!r}: {field}: {exc}") from exc
    return ProxyEntry(name, listen, upstream)
