"""A Toxiproxy-compatible fault proxy, standard library only (`python -m harness.proxy`).

It runs inside the stack's proxy container, so it imports nothing from the rest of
`harness`. See README.md in this folder for what differs from Toxiproxy and why.
"""

from harness.proxy.api import API_VERSION, ToxiproxyApi
from harness.proxy.collection import ProxyCollection, ProxyEntry
from harness.proxy.server import ProxyServer, Settings, run

__all__ = ["API_VERSION", "ProxyCollection", "ProxyEntry", "ProxyServer", "Settings", "ToxiproxyApi", "run"]
