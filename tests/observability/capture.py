"""A loopback HTTP endpoint that records what is posted to it (standing in for Grafana's API)."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Captured:
    port: int = 0
    posts: list[tuple[str, dict[str, str], Any]] = field(default_factory=list)  # path, headers, JSON body


@contextmanager
def capture_server() -> Iterator[Captured]:
    captured = Captured()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            captured.posts.append((self.path, dict(self.headers), json.loads(body)))
            reply = b'{"id": 1, "message": "Annotation added"}'
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(reply)))
            self.end_headers()
            self.wfile.write(reply)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    captured.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield captured
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
